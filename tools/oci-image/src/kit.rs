//! The Istio kit (filter-config/istio) with a build's digests filled in
//! (`make manifests`): each WasmPlugin gets `spec.sha256`, quoted, right
//! after its `url`. Edited as text, not re-emitted from a parsed tree, so
//! the comments that explain every field stay; tests/istio_image.rs reads
//! the result back as Kubernetes does and checks it against Istio's CRDs.

use std::fs;
use std::path::{Path, PathBuf};

use crate::Image;

/// The `spec.sha256` Istio wants for a module at `url`: the image's manifest
/// digest for `oci://` (what the agent compares), else the .wasm's sha256.
pub fn sha256_for(url: &str, image: &Image) -> Result<String, String> {
    if url.starts_with("oci://") {
        image
            .manifest_digest
            .strip_prefix("sha256:")
            .map(str::to_string)
            .ok_or_else(|| format!("image digest {:?} is not sha256:", image.manifest_digest))
    } else {
        Ok(image.wasm_sha256.clone())
    }
}

/// `manifest` (one or more YAML documents) with every WasmPlugin's
/// `spec.sha256` set for `image`; other documents are left as they are.
/// The kit writes `spec:` at the top level and its fields two spaces in.
pub fn pin_sha256(manifest: &str, image: &Image) -> Result<String, String> {
    let mut out = String::with_capacity(manifest.len() + 160);
    for (index, document) in split_documents(manifest).into_iter().enumerate() {
        if index > 0 {
            out.push_str("---\n");
        }
        let is_plugin = document
            .iter()
            .any(|line| line.trim_end() == "kind: WasmPlugin");
        if !is_plugin {
            document.iter().for_each(|line| out.push_str(line));
            continue;
        }
        let mut pinned = false;
        for line in document {
            if line.starts_with("  sha256:") {
                continue; // replaced below, after url
            }
            out.push_str(line);
            if let Some(url) = line.strip_prefix("  url:") {
                let url = url.trim().trim_matches(['"', '\'']);
                let hex = sha256_for(url, image)?;
                if !line.ends_with('\n') {
                    out.push('\n');
                }
                // Quoted: a hex string of digits (0000..., 12e4...) is a
                // number to Kubernetes' YAML 1.1 reader, and refused.
                out.push_str(&format!("  sha256: \"{hex}\"\n"));
                pinned = true;
            }
        }
        if !pinned {
            return Err(format!(
                "WasmPlugin document {}: no `  url:` line under spec",
                index + 1
            ));
        }
    }
    Ok(out)
}

/// The lines of each document (with their line ends), split at `---` lines.
fn split_documents(text: &str) -> Vec<Vec<&str>> {
    let mut documents = vec![Vec::new()];
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            documents.push(Vec::new());
        } else if let Some(current) = documents.last_mut() {
            current.push(line);
        }
    }
    documents
}

/// Writes every `*.yaml` of `kit` to `out` (created if missing, its other
/// `*.yaml` removed) with the digests of `image`; returns the files
/// written, in name order.
pub fn write_kit(kit: &Path, out: &Path, image: &Image) -> Result<Vec<PathBuf>, String> {
    let entries = fs::read_dir(kit).map_err(|e| format!("{}: {e}", kit.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", kit.display()))?.path();
        if path.extension().is_some_and(|x| x == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(format!("{}: no *.yaml manifests", kit.display()));
    }
    // Everything rendered before anything is written: a bad manifest leaves
    // `out` as it was.
    let mut rendered = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let pinned = pin_sha256(&text, image).map_err(|e| format!("{}: {e}", file.display()))?;
        if let Some(name) = file.file_name() {
            rendered.push((out.join(name), pinned));
        }
    }
    let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b);
    if same(kit, out) {
        return Err(format!(
            "{}: the output would overwrite the kit",
            out.display()
        ));
    }
    fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    // A manifest dropped from the kit must not linger in `out` and be applied.
    for entry in fs::read_dir(out).map_err(|e| format!("{}: {e}", out.display()))? {
        let stale = entry.map_err(|e| format!("{}: {e}", out.display()))?.path();
        if stale.extension().is_some_and(|x| x == "yaml") {
            fs::remove_file(&stale).map_err(|e| format!("{}: {e}", stale.display()))?;
        }
    }
    let mut written = Vec::new();
    for (target, pinned) in rendered {
        fs::write(&target, pinned).map_err(|e| format!("{}: {e}", target.display()))?;
        written.push(target);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Image {
        Image {
            layout: PathBuf::new(),
            archive: PathBuf::new(),
            tag: "t".into(),
            manifest_digest: format!("sha256:{}", "0".repeat(64)),
            wasm_sha256: "12e4".repeat(16),
        }
    }

    #[test]
    fn each_plugin_gets_the_digest_its_url_needs() {
        let text = "# c\nkind: WasmPlugin\nspec:\n  url: oci://r/x:1\n  sha256: old\n  phase: AUTHN\n---\nkind: Other\n  url: x\n---\nkind: WasmPlugin\nspec:\n  url: \"file:///m.wasm\"\n";
        let want = format!(
            "# c\nkind: WasmPlugin\nspec:\n  url: oci://r/x:1\n  sha256: \"{}\"\n  phase: AUTHN\n---\nkind: Other\n  url: x\n---\nkind: WasmPlugin\nspec:\n  url: \"file:///m.wasm\"\n  sha256: \"{}\"\n",
            "0".repeat(64),
            "12e4".repeat(16)
        );
        assert_eq!(pin_sha256(text, &image()).unwrap(), want);
    }

    #[test]
    fn the_kit_is_written_whole_and_never_over_itself() {
        let dir = std::env::temp_dir().join(format!("oci-image-kit-{}", std::process::id()));
        let (kit, out) = (dir.join("kit"), dir.join("out"));
        fs::create_dir_all(&kit).unwrap();
        fs::create_dir_all(&out).unwrap();
        fs::write(
            kit.join("p.yaml"),
            "kind: WasmPlugin\nspec:\n  url: oci://r/x\n",
        )
        .unwrap();
        fs::write(out.join("dropped.yaml"), "kind: Old\n").unwrap();
        let written = write_kit(&kit, &out, &image()).unwrap();
        assert_eq!(written, [out.join("p.yaml")]);
        assert!(!out.join("dropped.yaml").exists());
        assert!(write_kit(&kit, &kit, &image())
            .unwrap_err()
            .contains("overwrite the kit"));
        assert!(kit.join("p.yaml").exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_plugin_without_url_or_a_bad_digest_is_an_error() {
        let error = pin_sha256("kind: WasmPlugin\nspec:\n  phase: AUTHN\n", &image());
        assert!(error.unwrap_err().contains("no `  url:` line"));
        let mut odd = image();
        odd.manifest_digest = "md5:x".into();
        assert!(sha256_for("oci://r/x", &odd).is_err());
    }
}
