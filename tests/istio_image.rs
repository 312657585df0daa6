//! The OCI image of the filter (tools/oci-image, `make image`) read back
//! with the `oci-spec` crate and checked against the OCI image layout spec
//! and the Wasm image spec's compat variant, the way Istio's agent pulls it:
//! index -> manifest -> last layer, a tar+gzip holding plugin.wasm, which
//! must be the very bytes of the built filter. Then the Istio kit rendered
//! with that image's digests (`make manifests`), read as Kubernetes reads
//! it and checked against Istio's CRDs.

// A test crate: helpers outside #[test] functions may panic and index too
// (clippy.toml allows that inside #[test] functions only).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::istio_k8s;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use oci_spec::image::{
    Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType, OciLayout,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

use istio_k8s::{documents, kit_dir, Crds};

/// The built filter: $CANARY_WASM (set by `make test`), else the default.
fn built_wasm() -> Vec<u8> {
    let path = std::env::var_os("CANARY_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::support::repo_root().join("target/canary-filter.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `make build` first (or `make test`)",
            path.display()
        )
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn build(dir: &str) -> (oci_image::Image, Vec<u8>) {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    let wasm = built_wasm();
    let image = oci_image::build(
        &wasm,
        &out.join("layout"),
        &out.join("image.oci.tar"),
        "0.1.0",
    )
    .unwrap_or_else(|e| panic!("oci-image: {e}"));
    (image, wasm)
}

/// A blob of the layout, checked against its descriptor's size and digest.
fn blob(layout: &Path, descriptor: &Descriptor) -> Vec<u8> {
    let digest = descriptor.digest();
    assert_eq!(digest.algorithm().to_string(), "sha256");
    let bytes = std::fs::read(layout.join("blobs/sha256").join(digest.digest())).unwrap();
    assert_eq!(bytes.len() as u64, descriptor.size(), "size of {digest}");
    assert_eq!(sha256_hex(&bytes), digest.digest(), "content of {digest}");
    bytes
}

/// Every file of a tar, by path.
fn untar(bytes: &[u8]) -> BTreeMap<String, (tar::EntryType, Vec<u8>)> {
    let mut archive = tar::Archive::new(bytes);
    let mut files = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let kind = entry.header().entry_type();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        files.insert(path, (kind, data));
    }
    files
}

#[test]
fn the_layout_is_a_compat_wasm_image_of_the_built_filter() {
    let (image, wasm) = build("compat");
    let layout = &image.layout;

    let oci_layout = OciLayout::from_file(layout.join("oci-layout")).unwrap();
    assert_eq!(oci_layout.image_layout_version(), "1.0.0");

    let index = ImageIndex::from_file(layout.join("index.json")).unwrap();
    assert_eq!(index.schema_version(), 2);
    assert_eq!(index.media_type(), &Some(MediaType::ImageIndex));
    let [entry] = index.manifests().as_slice() else {
        panic!("one manifest expected: {index:?}")
    };
    assert_eq!(entry.media_type(), &MediaType::ImageManifest);
    let tag = entry
        .annotations()
        .as_ref()
        .and_then(|a| a.get("org.opencontainers.image.ref.name"));
    assert_eq!(tag.map(String::as_str), Some("0.1.0"));
    assert_eq!(entry.digest().to_string(), image.manifest_digest);

    let manifest = ImageManifest::from_reader(&blob(layout, entry)[..]).unwrap();
    assert_eq!(manifest.schema_version(), 2);
    assert_eq!(manifest.media_type(), &Some(MediaType::ImageManifest));
    assert_eq!(manifest.config().media_type(), &MediaType::ImageConfig);
    let variant = manifest
        .annotations()
        .as_ref()
        .and_then(|a| a.get("module.wasm.image/variant"));
    assert_eq!(variant.map(String::as_str), Some("compat"));

    // Istio takes the last layer and wants the standard OCI tar+gzip type.
    let [layer] = manifest.layers().as_slice() else {
        panic!("compat: one layer: {manifest:?}")
    };
    assert_eq!(layer.media_type(), &MediaType::ImageLayerGzip);
    assert_eq!(
        layer.media_type().to_string(),
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let mut tar = Vec::new();
    GzDecoder::new(&blob(layout, layer)[..])
        .read_to_end(&mut tar)
        .unwrap();
    let files = untar(&tar);
    assert_eq!(files.keys().collect::<Vec<_>>(), ["plugin.wasm"]);
    let (kind, plugin) = &files["plugin.wasm"];
    assert_eq!(*kind, tar::EntryType::Regular);
    assert!(plugin == &wasm, "plugin.wasm differs from the built filter");
    assert_eq!(image.wasm_sha256, sha256_hex(&wasm));

    // The config names the uncompressed layer, as the image spec requires.
    let config = ImageConfiguration::from_reader(&blob(layout, manifest.config())[..]).unwrap();
    assert_eq!(config.rootfs().typ(), "layers");
    assert_eq!(
        config.rootfs().diff_ids(),
        &[format!("sha256:{}", sha256_hex(&tar))]
    );
}

#[test]
fn the_archive_holds_the_layout_and_the_digest_is_reproducible() {
    let (first, _) = build("first");
    let (second, _) = build("second");
    assert_eq!(
        first.manifest_digest, second.manifest_digest,
        "same wasm, same image digest"
    );
    let archive = std::fs::read(&first.archive).unwrap();
    assert_eq!(
        archive,
        std::fs::read(&second.archive).unwrap(),
        "archives differ between builds"
    );

    let files = untar(&archive);
    let mut regular = 0;
    for (path, (kind, bytes)) in &files {
        if *kind == tar::EntryType::Regular {
            regular += 1;
            let on_disk = std::fs::read(first.layout.join(path)).unwrap();
            assert!(
                &on_disk == bytes,
                "{path} differs between archive and layout"
            );
        }
    }
    assert_eq!(
        regular,
        5,
        "oci-layout, index.json and three blobs: {:?}",
        files.keys()
    );
}

#[test]
fn a_file_that_is_not_wasm_is_refused() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("not-wasm");
    let error = oci_image::build(b"#!/bin/sh\n", &out.join("layout"), &out.join("x.tar"), "t");
    assert!(error.unwrap_err().contains("not a wasm module"));
}

/// The kit rendered for `image` into a scratch `dir`: (file name, its
/// documents as Kubernetes reads them, the checked-in file's documents).
fn rendered_kit(image: &oci_image::Image, dir: &str) -> Vec<(String, Vec<Value>, Vec<Value>)> {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    let files = oci_image::kit::write_kit(&kit_dir(), &out, image)
        .unwrap_or_else(|e| panic!("rendering the kit: {e}"));
    files
        .iter()
        .map(|file| {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let rendered = documents(file).unwrap_or_else(|e| panic!("{e}"));
            let original = documents(&kit_dir().join(&name)).unwrap();
            (name, rendered, original)
        })
        .collect()
}

#[test]
fn the_rendered_kit_carries_this_builds_digests_and_passes_istios_schemas() {
    let (image, wasm) = build("kit-image");
    let manifest_hex = image.manifest_digest.strip_prefix("sha256:").unwrap();
    let crds = Crds::istio().unwrap();
    let kit = rendered_kit(&image, "kit");
    assert_eq!(kit.len(), 6, "every manifest of the kit");
    let mut plugins = 0;
    for (file, rendered, original) in &kit {
        assert_eq!(rendered.len(), original.len(), "{file}");
        for (doc, mut before) in rendered.iter().zip(original.clone()) {
            let verdict = crds.validate(doc);
            assert!(verdict.accepted(), "{file} rejected: {verdict:#?}");
            if doc["kind"] == "WasmPlugin" {
                plugins += 1;
                let url = doc["spec"]["url"].as_str().unwrap();
                let expected = if url.starts_with("oci://") {
                    manifest_hex.to_string()
                } else {
                    sha256_hex(&wasm)
                };
                assert_eq!(
                    doc["spec"]["sha256"].as_str(),
                    Some(expected.as_str()),
                    "{file}"
                );
                before["spec"]["sha256"] = Value::String(expected);
            }
            assert_eq!(doc, &before, "{file}: only spec.sha256 may differ");
        }
    }
    assert_eq!(plugins, 2, "both WasmPlugins pinned");
}

#[test]
fn digests_of_digits_are_rendered_as_strings() {
    // Unquoted, each of these would reach Kubernetes as a number.
    for (manifest, wasm) in [
        ("0".repeat(64), format!("0e{}", "7".repeat(62))),
        ("1234567890".repeat(7)[..64].to_string(), "0755".repeat(16)),
    ] {
        let image = oci_image::Image {
            layout: PathBuf::new(),
            archive: PathBuf::new(),
            tag: "t".into(),
            manifest_digest: format!("sha256:{manifest}"),
            wasm_sha256: wasm.clone(),
        };
        for (file, rendered, _) in rendered_kit(&image, "kit-digits") {
            for doc in rendered.iter().filter(|d| d["kind"] == "WasmPlugin") {
                let url = doc["spec"]["url"].as_str().unwrap();
                let expected = if url.starts_with("oci://") {
                    &manifest
                } else {
                    &wasm
                };
                assert_eq!(
                    doc["spec"]["sha256"],
                    Value::String(expected.clone()),
                    "{file}"
                );
            }
        }
    }
}
