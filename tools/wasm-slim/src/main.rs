//! `wasm-slim IN OUT EXPORT...`: keeps only the named exports of a wasm
//! module and garbage-collects what no kept export reaches.
//!
//! The proxy-wasm SDK exports every callback of the ABI, and Envoy calls each
//! exported one on every request whether the filter uses it or not. Dropping
//! the unused ones removes those guest calls and their dispatch code.

use std::process::ExitCode;

fn slim(input: &str, output: &str, keep: &[String]) -> Result<(usize, usize), String> {
    let mut module =
        walrus::Module::from_file(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    for wanted in keep {
        if !module.exports.iter().any(|e| &e.name == wanted) {
            return Err(format!("{input} has no export named {wanted}"));
        }
    }
    let dropped: Vec<_> = module
        .exports
        .iter()
        .filter(|e| !keep.contains(&e.name))
        .map(|e| e.id())
        .collect();
    for id in &dropped {
        module.exports.delete(*id);
    }
    walrus::passes::gc::run(&mut module);
    module
        .emit_wasm_file(output)
        .map_err(|e| format!("cannot write {output}: {e}"))?;
    Ok((dropped.len(), keep.len()))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, keep @ ..] = args.as_slice() else {
        eprintln!("usage: wasm-slim IN.wasm OUT.wasm EXPORT...");
        return ExitCode::from(2);
    };
    match slim(input, output, keep) {
        Ok((dropped, kept)) => {
            println!("wasm-slim: kept {kept} exports, dropped {dropped}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("wasm-slim: {message}");
            ExitCode::FAILURE
        }
    }
}
