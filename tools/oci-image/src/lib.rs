//! The filter as an OCI image in the layout Istio pulls: the Wasm image
//! spec's "compat" variant, one `application/vnd.oci.image.layer.v1.tar+gzip`
//! layer holding `plugin.wasm`, with the optional
//! `module.wasm.image/variant: compat` manifest annotation. Istio's agent
//! takes the last layer of such an image and reads `plugin.wasm` from it.
//!
//! Written as an OCI image layout directory (what `oras`, `crane` and
//! `skopeo` push from) and as a tarball of that directory (`oci-archive:`).
//! Every byte is reproducible from the .wasm alone: no timestamps, fixed
//! owners and modes, entries in a fixed order, so the same build gives the
//! same manifest digest, which is what a WasmPlugin's `sha256` pins.

pub mod kit;

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};
use oci_spec::image::{
    Arch, Descriptor, ImageConfigurationBuilder, ImageIndexBuilder, ImageManifestBuilder,
    MediaType, OciLayoutBuilder, Os, RootFsBuilder, Sha256Digest,
};
use sha2::{Digest as _, Sha256};

/// The one file in the layer, named as the compat variant requires.
pub const PLUGIN_FILE: &str = "plugin.wasm";
pub const VARIANT_ANNOTATION: (&str, &str) = ("module.wasm.image/variant", "compat");
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// What was written, and the digests to put in a WasmPlugin.
#[derive(Debug, Clone)]
pub struct Image {
    pub layout: PathBuf,
    pub archive: PathBuf,
    pub tag: String,
    /// `sha256:<hex>` of the manifest: the image digest registries report,
    /// and what Istio compares `spec.sha256` with for `oci://` URLs.
    pub manifest_digest: String,
    /// Hex sha256 of the .wasm itself (for `file://` and `http(s)://`).
    pub wasm_sha256: String,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn digest_of(bytes: &[u8]) -> Result<Sha256Digest, String> {
    sha256_hex(bytes)
        .parse()
        .map_err(|e| format!("sha256 digest: {e}"))
}

/// The layer: a tar holding only `plugin.wasm`, gzip'd without a timestamp.
/// Returns (uncompressed tar, gzip'd tar).
fn layer(wasm: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut header = tar::Header::new_ustar();
    header
        .set_path(PLUGIN_FILE)
        .map_err(|e| format!("tar header: {e}"))?;
    header.set_size(wasm.len() as u64);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder
        .append(&header, wasm)
        .map_err(|e| format!("tar: {e}"))?;
    let tar = builder.into_inner().map_err(|e| format!("tar: {e}"))?;
    let mut gzip: GzEncoder<Vec<u8>> = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    gzip.write_all(&tar).map_err(|e| format!("gzip: {e}"))?;
    let gzipped = gzip.finish().map_err(|e| format!("gzip: {e}"))?;
    Ok((tar, gzipped))
}

/// Writes the image for `wasm` as a layout directory at `layout` (replaced
/// if present) and as a tarball at `archive`, tagged `tag`.
pub fn build(wasm: &[u8], layout: &Path, archive: &Path, tag: &str) -> Result<Image, String> {
    if !wasm.starts_with(b"\0asm") {
        return Err("the input is not a wasm module (no \\0asm header)".into());
    }
    let (tar, layer_gz) = layer(wasm)?;
    let config = ImageConfigurationBuilder::default()
        .architecture(Arch::Wasm)
        .os(Os::Other("wasip1".into()))
        .rootfs(
            RootFsBuilder::default()
                .typ("layers")
                .diff_ids(vec![format!("sha256:{}", sha256_hex(&tar))])
                .build()
                .map_err(|e| format!("rootfs: {e}"))?,
        )
        .build()
        .map_err(|e| format!("image config: {e}"))?;
    let config_json = config
        .to_string()
        .map_err(|e| format!("image config: {e}"))?;
    let config_blob = config_json.as_bytes();

    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(Descriptor::new(
            MediaType::ImageConfig,
            config_blob.len() as u64,
            digest_of(config_blob)?,
        ))
        .layers(vec![Descriptor::new(
            MediaType::ImageLayerGzip,
            layer_gz.len() as u64,
            digest_of(&layer_gz)?,
        )])
        .annotations(HashMap::from([(
            VARIANT_ANNOTATION.0.to_string(),
            VARIANT_ANNOTATION.1.to_string(),
        )]))
        .build()
        .map_err(|e| format!("manifest: {e}"))?;
    let manifest_json = manifest.to_string().map_err(|e| format!("manifest: {e}"))?;
    let manifest_blob = manifest_json.as_bytes();

    let mut manifest_descriptor = Descriptor::new(
        MediaType::ImageManifest,
        manifest_blob.len() as u64,
        digest_of(manifest_blob)?,
    );
    manifest_descriptor.set_annotations(Some(HashMap::from([(
        REF_NAME_ANNOTATION.to_string(),
        tag.to_string(),
    )])));
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![manifest_descriptor])
        .build()
        .map_err(|e| format!("index: {e}"))?;
    let index_json = index.to_string().map_err(|e| format!("index: {e}"))?;
    let oci_layout = OciLayoutBuilder::default()
        .image_layout_version("1.0.0")
        .build()
        .map_err(|e| format!("oci-layout: {e}"))?;
    let layout_json = serde_json::to_string(&oci_layout).map_err(|e| format!("oci-layout: {e}"))?;

    // (path in the layout, contents), in the order the archive lists them.
    let files: Vec<(String, &[u8])> = vec![
        ("oci-layout".into(), layout_json.as_bytes()),
        ("index.json".into(), index_json.as_bytes()),
        (
            format!("blobs/sha256/{}", sha256_hex(config_blob)),
            config_blob,
        ),
        (format!("blobs/sha256/{}", sha256_hex(&layer_gz)), &layer_gz),
        (
            format!("blobs/sha256/{}", sha256_hex(manifest_blob)),
            manifest_blob,
        ),
    ];
    write_layout(layout, &files)?;
    write_archive(archive, &files)?;
    Ok(Image {
        layout: layout.to_path_buf(),
        archive: archive.to_path_buf(),
        tag: tag.to_string(),
        manifest_digest: format!("sha256:{}", sha256_hex(manifest_blob)),
        wasm_sha256: sha256_hex(wasm),
    })
}

fn write_layout(layout: &Path, files: &[(String, &[u8])]) -> Result<(), String> {
    if layout.exists() {
        fs::remove_dir_all(layout).map_err(|e| format!("{}: {e}", layout.display()))?;
    }
    for (name, bytes) in files {
        let path = layout.join(name);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// A plain tar of the layout (`oci-archive:` for skopeo), directories first.
fn write_archive(archive: &Path, files: &[(String, &[u8])]) -> Result<(), String> {
    let mut builder = tar::Builder::new(Vec::new());
    let fixed = |header: &mut tar::Header, mode: u32| {
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
    };
    for dir in ["blobs/", "blobs/sha256/"] {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        fixed(&mut header, 0o755);
        builder
            .append_data(&mut header, dir, std::io::empty())
            .map_err(|e| format!("{}: {e}", archive.display()))?;
    }
    for (name, bytes) in files {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(bytes.len() as u64);
        fixed(&mut header, 0o644);
        builder
            .append_data(&mut header, name, *bytes)
            .map_err(|e| format!("{}: {e}", archive.display()))?;
    }
    let tar = builder
        .into_inner()
        .map_err(|e| format!("{}: {e}", archive.display()))?;
    if let Some(dir) = archive.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    fs::write(archive, tar).map_err(|e| format!("{}: {e}", archive.display()))
}
