//! npm tarballs built in tests, and package documents that point at them with the right
//! `dist.integrity` and `dist.shasum`.

use base64::Engine;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha512};

/// A gzip'd tar with `files` under `package/`.
pub fn tarball(files: &[(&str, &[u8])]) -> Vec<u8> {
    tarball_with_links(files, &[])
}

/// A gzip'd tar with `files` and symbolic `links` (path, target) under `package/`.
pub fn tarball_with_links(files: &[(&str, &[u8])], links: &[(&str, &str)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut b = tar::Builder::new(gz);
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(1_500_000_000);
        h.set_cksum();
        b.append_data(&mut h, format!("package/{path}"), *data).expect("append");
    }
    for (path, target) in links {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        h.set_mtime(1_500_000_000);
        b.append_link(&mut h, format!("package/{path}"), target).expect("append link");
    }
    b.into_inner().expect("tar").finish().expect("gzip")
}

/// `sha512-…` of `bytes`.
pub fn integrity(bytes: &[u8]) -> String {
    format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes)))
}

pub fn shasum(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// The path the fake registry serves a tarball at.
pub fn tarball_path(name: &str, version: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    format!("/{name}/-/{base}-{version}.tgz")
}

/// A document whose one version `1.0.0` is `tgz`, served by the registry at `registry`.
pub fn packument_for(name: &str, registry: &str, tgz: &[u8], manifest: Value) -> Value {
    let mut m = manifest;
    m["name"] = json!(name);
    m["version"] = json!("1.0.0");
    m["dist"] = json!({
        "tarball": format!("{}{}", registry.trim_end_matches('/'), tarball_path(name, "1.0.0")),
        "integrity": integrity(tgz),
        "shasum": shasum(tgz),
    });
    json!({
        "_id": name, "name": name, "dist-tags": { "latest": "1.0.0" },
        "versions": { "1.0.0": m },
        "time": { "1.0.0": "2025-01-01T00:00:00.000Z" },
    })
}
