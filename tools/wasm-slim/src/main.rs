//! `wasm-slim IN OUT EXPORT...`: keeps only the named exports of a wasm
//! module and garbage-collects what no kept export reaches. `NAME=FROM`
//! keeps the export FROM under the name NAME.
//!
//! The proxy-wasm SDK exports every callback of the ABI, and Envoy calls each
//! exported one on every request whether the filter uses it or not. Dropping
//! the unused ones removes those guest calls and their dispatch code. The
//! rename lets the filter implement a callback itself (under its own symbol,
//! since the SDK already defines the ABI name) in place of the SDK's.

use std::process::ExitCode;

/// One kept export: its name in the output, and in the input.
struct Keep<'a> {
    name: &'a str,
    from: &'a str,
}

fn parse_keep(arg: &str) -> Keep<'_> {
    match arg.split_once('=') {
        Some((name, from)) => Keep { name, from },
        None => Keep {
            name: arg,
            from: arg,
        },
    }
}

fn slim(input: &str, output: &str, keep: &[Keep]) -> Result<(usize, usize), String> {
    let mut module =
        walrus::Module::from_file(input).map_err(|e| format!("cannot read {input}: {e}"))?;
    for wanted in keep {
        if !module.exports.iter().any(|e| e.name == wanted.from) {
            return Err(format!("{input} has no export named {}", wanted.from));
        }
    }
    let dropped: Vec<_> = module
        .exports
        .iter()
        .filter(|e| !keep.iter().any(|k| k.from == e.name))
        .map(|e| e.id())
        .collect();
    for id in &dropped {
        module.exports.delete(*id);
    }
    for export in module.exports.iter_mut() {
        if let Some(k) = keep.iter().find(|k| k.from == export.name) {
            export.name = k.name.to_owned();
        }
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
        eprintln!("usage: wasm-slim IN.wasm OUT.wasm EXPORT|NAME=FROM...");
        return ExitCode::from(2);
    };
    let keep: Vec<Keep> = keep.iter().map(|k| parse_keep(k)).collect();
    let mut names: Vec<&str> = keep.iter().map(|k| k.name).collect();
    names.sort_unstable();
    if let Some(pair) = names.windows(2).find(|w| w.first() == w.get(1)) {
        eprintln!(
            "wasm-slim: export {} is named twice",
            pair.first().copied().unwrap_or("")
        );
        return ExitCode::from(2);
    }
    match slim(input, output, &keep) {
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
