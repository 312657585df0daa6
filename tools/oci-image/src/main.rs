//! `oci-image WASM LAYOUT_DIR ARCHIVE [TAG]`: packages the filter as an OCI
//! image (Wasm image spec, compat variant) and prints what a WasmPlugin
//! needs. No Docker: the layout is written directly.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (wasm, layout, archive, tag) = match args.as_slice() {
        [wasm, layout, archive] => (wasm, layout, archive, "latest"),
        [wasm, layout, archive, tag] => (wasm, layout, archive, tag.as_str()),
        _ => {
            eprintln!("usage: oci-image FILTER.wasm LAYOUT_DIR ARCHIVE.tar [TAG]");
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
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("oci-image: {message}");
            ExitCode::FAILURE
        }
    }
}
