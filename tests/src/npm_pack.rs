//! Files of npm packages that tests check against (a vendor's description, a protocol's
//! schema), fetched with the machine's own `npm pack` at a pinned version and read from the
//! tarball without unpacking it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Downloads `spec` (`name@version`) into `dir` with `npm pack`; returns the tarball's path.
pub fn npm_pack(spec: &str, dir: &Path) -> PathBuf {
    let out = Command::new("npm")
        .args(["pack", spec, "--loglevel=error", "--pack-destination"])
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("this test needs `npm` (from Node.js) on PATH to fetch {spec}: {e}"));
    assert!(out.status.success(), "npm pack {spec} failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    // npm prints the tarball's file name last
    let stdout = String::from_utf8_lossy(&out.stdout);
    let name = stdout.lines().last().map(str::trim).filter(|n| n.ends_with(".tgz"));
    dir.join(name.unwrap_or_else(|| panic!("npm pack {spec} named no tarball:\n{stdout}")))
}

/// The bytes of one member of a .tgz, read without unpacking the rest.
pub fn tgz_member(tgz: &Path, member: &str) -> Vec<u8> {
    let file = std::fs::File::open(tgz).unwrap_or_else(|e| panic!("{}: {e}", tgz.display()));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        if entry.path().expect("entry path").as_ref() == Path::new(member) {
            let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry.read_to_end(&mut bytes).expect("read entry");
            return bytes;
        }
    }
    panic!("{} has no {member}", tgz.display())
}
