//! `oci-image WASM LAYOUT_DIR ARCHIVE [TAG] [--kit KIT_DIR OUT_DIR]`:
//! packages the filter as an OCI image (Wasm image spec, compat variant) and
//! prints what a WasmPlugin needs; with `--kit`, also writes the Istio kit
//! with those digests filled in (`make manifests`). No Docker: the layout is
//! written directly.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    const USAGE: &str =
        "usage: oci-image FILTER.wasm LAYOUT_DIR ARCHIVE.tar [TAG] [--kit KIT_DIR OUT_DIR]";
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let kit = match args.iter().position(|a| a == "--kit") {
        Some(at) => match args.split_off(at).as_slice() {
            [_, kit, out] => Some((kit.clone(), out.clone())),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let (wasm, layout, archive, tag) = match args.as_slice() {
        [wasm, layout, archive] => (wasm, layout, archive, "latest"),
        [wasm, layout, archive, tag] => (wasm, layout, archive, tag.as_str()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(wasm) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("oci-image: {wasm}: {e} (run `make build` first)");
            return ExitCode::FAILURE;
        }
    };
    match oci_image::build(&bytes, Path::new(layout), Path::new(archive), tag) {
        Ok(image) => {
            let hex = image.manifest_digest.trim_start_matches("sha256:");
            println!(
                "OCI image layout: {} (tag {})",
                image.layout.display(),
                image.tag
            );
            println!("OCI archive:      {}", image.archive.display());
            println!("image digest:     {}", image.manifest_digest);
            println!("wasm sha256:      {}", image.wasm_sha256);
            println!("WasmPlugin with url oci://...:  sha256: {hex}");
            println!(
                "WasmPlugin with url file://...: sha256: {}",
                image.wasm_sha256
            );
            let Some((kit, out)) = kit else {
                return ExitCode::SUCCESS;
            };
            match oci_image::kit::write_kit(Path::new(&kit), Path::new(&out), &image) {
                Ok(files) => {
                    for file in files {
                        println!("Istio kit with these digests: {}", file.display());
                    }
                    ExitCode::SUCCESS
                }
                Err(message) => {
                    eprintln!("oci-image: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(message) => {
            eprintln!("oci-image: {message}");
            ExitCode::FAILURE
        }
    }
}
