//! Hostile tarballs, built here byte by byte: nothing binary is committed.

use std::io::Write;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::{Compress, Compression, Crc, FlushCompress};
use nodules_store::model::EntryKind;
use sha2::{Digest, Sha256};
use tar::EntryType;

use super::*;

/// A tar archive written by hand, so that names may be anything.
#[derive(Default)]
struct TarBuf(Vec<u8>);

impl TarBuf {
    fn entry(&mut self, name: &[u8], kind: EntryType, data: &[u8]) -> &mut Self {
        self.entry_sized(name, kind, data.len() as u64, data)
    }

    fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.entry(name.as_bytes(), EntryType::Regular, data)
    }

    /// A header declaring `size` bytes, followed by `data` (which may be shorter).
    fn entry_sized(&mut self, name: &[u8], kind: EntryType, size: u64, data: &[u8]) -> &mut Self {
        let mut h = header(name, kind, size);
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self.data(data)
    }

    fn link(&mut self, name: &str, kind: EntryType, target: &[u8]) -> &mut Self {
        let mut h = header(name.as_bytes(), kind, 0);
        h.as_old_mut().linkname[..target.len()].copy_from_slice(target);
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self
    }

    /// A GNU long name for the next entry.
    fn long_name(&mut self, name: &[u8]) -> &mut Self {
        let mut data = name.to_vec();
        data.push(0);
        self.entry(b"././@LongLink", EntryType::GNULongName, &data)
    }

    /// PAX records for the next entry.
    fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut data = Vec::new();
        for (key, value) in records {
            let base = key.len() + value.len() + 3;
            let mut len = base + 1;
            while base + len.to_string().len() != len {
                len = base + len.to_string().len();
            }
            data.extend_from_slice(format!("{len} {key}=").as_bytes());
            data.extend_from_slice(value);
            data.push(b'\n');
        }
        self.entry(b"PaxHeaders/x", EntryType::XHeader, &data)
    }

    /// An empty GNU sparse file.
    fn sparse(&mut self, name: &[u8]) -> &mut Self {
        let mut h = header(name, EntryType::GNUSparse, 0);
        h.as_gnu_mut().expect("a GNU header").set_real_size(0);
        h.set_cksum();
        self.0.extend_from_slice(h.as_bytes());
        self
    }

    fn data(&mut self, data: &[u8]) -> &mut Self {
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len().next_multiple_of(512), 0);
        self
    }

    fn zero_block(&mut self) -> &mut Self {
        self.0.extend_from_slice(&[0; 512]);
        self
    }

    /// The two zero blocks that end an archive.
    fn finish(&mut self) -> Vec<u8> {
        self.zero_block().zero_block();
        std::mem::take(&mut self.0)
    }
}

fn header(name: &[u8], kind: EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory")
}

/// Everything the sink received.
fn read(tarball: &[u8], caps: &Caps) -> Result<(Outcome, Vec<Entry>), UnpackError> {
    let mut got = Vec::new();
    let mut sink = |e: Entry| -> Result<(), String> {
        got.push(e);
        Ok(())
    };
    let outcome = unpack(tarball, caps, &mut sink)?;
    Ok((outcome, got))
}

fn ok(tarball: &[u8]) -> (Outcome, Vec<Entry>) {
    read(tarball, &Caps::default()).expect("readable")
}

fn err(tarball: &[u8]) -> UnpackError {
    read(tarball, &Caps::default()).expect_err("unreadable")
}

fn paths(entries: &[Entry]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| match e {
            Entry::File(f) => f.path.as_str(),
            Entry::Link { path, .. } => path.as_str(),
        })
        .collect()
}

fn content<'a>(entries: &'a [Entry], path: &str) -> Option<&'a [u8]> {
    entries.iter().find_map(|e| match e {
        Entry::File(f) if f.path == path => f.content.as_deref(),
        _ => None,
    })
}

fn skipped(outcome: &Outcome) -> Vec<(&str, &str)> {
    outcome.skipped.iter().map(|(p, why)| (p.as_str(), why.as_str())).collect()
}

#[test]
fn reads_a_normal_package() {
    let tar = TarBuf::default().file("package/package.json", b"{}").file("package/lib/a.js", b"x").finish();
    let (outcome, entries) = ok(&gz(&tar));
    assert_eq!(paths(&entries), ["package.json", "lib/a.js"]);
    assert_eq!(content(&entries, "package.json"), Some(&b"{}"[..]));
    let Entry::File(f) = &entries[1] else { panic!("a file") };
    assert_eq!(f.sha256, <[u8; 32]>::from(Sha256::digest(b"x")));
    assert_eq!((f.size, f.mode), (1, 0o644));
    assert_eq!((outcome.entries, outcome.unpacked_size, outcome.capped.as_deref()), (2, 3, None));
    assert!(outcome.skipped.is_empty() && outcome.duplicates.is_empty());
}

#[test]
fn dot_dot_and_absolute_plain_names_are_skipped() {
    let tar = TarBuf::default()
        .file("package/package.json", b"{}")
        .file("package/../../etc/passwd", b"x")
        .file("/etc/passwd", b"x")
        .file("../x.js", b"x")
        .file("package/./lib/a.js", b"x")
        .finish();
    let (outcome, entries) = ok(&gz(&tar));
    assert_eq!(paths(&entries), ["package.json", "lib/a.js"]);
    assert_eq!(
        skipped(&outcome),
        [
            ("package/../../etc/passwd", "`..` in the path"),
            ("/etc/passwd", "absolute path"),
            ("../x.js", "`..` in the path")
        ]
    );
}

#[test]
fn gnu_long_names_are_read_and_checked() {
    let long = format!("package/{}x.js", "dir/".repeat(40));
    let deep = format!("package/{}x.js", "d/".repeat(70));
    let tar = TarBuf::default()
        .long_name(long.as_bytes())
        .file("ignored-short-name", b"long")
        .long_name(format!("package/{}../../../../etc/passwd", "a/".repeat(60)).as_bytes())
        .file("harmless", b"x")
        .long_name(deep.as_bytes())
        .file("harmless2", b"x")
        .finish();
    let (outcome, entries) = ok(&gz(&tar));
    assert_eq!(paths(&entries), [&long["package/".len()..]]);
    let whys: Vec<&str> = outcome.skipped.iter().map(|(_, why)| why.as_str()).collect();
    assert_eq!(whys, ["`..` in the path", "71 levels deep, over the 64-level cap"]);
}

#[test]
fn pax_paths_and_sizes_override_the_header() {
    let long = format!("package/{}y.js", "p/".repeat(60));
    let mut tar = TarBuf::default();
    tar.pax(&[("path", long.as_bytes())]).file("short", b"pax");
    tar.pax(&[("path", b"package/../../evil")]).file("package/fine.js", b"x");
    tar.pax(&[("path", b"/abs/olute")]).file("package/fine2.js", b"x");
    // the header says 0 bytes, the PAX record 5: the PAX size wins, as in node-tar
    tar.pax(&[("size", b"5")]).entry_sized(b"package/sized.txt", EntryType::Regular, 0, b"12345");
    let (outcome, entries) = ok(&gz(&tar.finish()));
    assert_eq!(paths(&entries), [&long["package/".len()..], "sized.txt"]);
    assert_eq!(content(&entries, "sized.txt"), Some(&b"12345"[..]));
    assert_eq!(skipped(&outcome), [("package/../../evil", "`..` in the path"), ("/abs/olute", "absolute path")]);
}

#[test]
fn links_are_recorded_never_followed() {
    let tar = TarBuf::default()
        .link("package/passwd", EntryType::Symlink, b"../../../../etc/passwd")
        .link("package/abs", EntryType::Symlink, b"/etc/shadow")
        .link("package/hard", EntryType::Link, b"package/lib/a.js")
        .link("package/hard-out", EntryType::Link, b"../../etc/passwd")
        .link("package/empty", EntryType::Symlink, b"")
        .finish();
    let (outcome, entries) = ok(&gz(&tar));
    let link = |path: &str, kind, target: &str| Entry::Link { path: path.into(), kind, target: target.into() };
    assert_eq!(
        entries,
        [
            link("passwd", EntryKind::Symlink, "../../../../etc/passwd"),
            link("abs", EntryKind::Symlink, "/etc/shadow"),
            link("hard", EntryKind::Hardlink, "lib/a.js"),
            link("hard-out", EntryKind::Hardlink, "../../etc/passwd"),
        ]
    );
    assert_eq!(skipped(&outcome), [("package/empty", "link without a target")]);
}

/// A one-member gzip stream of the parts, built in milliseconds however many zeros it
/// holds: 1 MiB of zeros is deflated once and its segment repeated (after a full flush,
/// deflate output refers to nothing before it).
fn gzip_bomb(parts: &[Part<'_>]) -> Vec<u8> {
    const MIB: usize = 1 << 20;
    let zeros = vec![0u8; MIB];
    let segment = deflate(&mut Compress::new(Compression::best(), false), &zeros, FlushCompress::Full);
    let mut z = Compress::new(Compression::best(), false);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut crc = Crc::new();
    for part in parts {
        match part {
            Part::Bytes(b) => {
                out.extend(deflate(&mut z, b, FlushCompress::Full));
                crc.update(b);
            }
            Part::ZeroMib(n) => {
                for _ in 0..*n {
                    out.extend_from_slice(&segment);
                    crc.update(&zeros);
                }
            }
        }
    }
    out.extend(deflate(&mut z, &[], FlushCompress::Finish));
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    out
}

enum Part<'a> {
    Bytes(&'a [u8]),
    ZeroMib(u64),
}

fn deflate(z: &mut Compress, input: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut out = Vec::new();
    let mut done = 0;
    loop {
        out.reserve(64 * 1024);
        let before = z.total_in();
        z.compress_vec(&input[done..], &mut out, flush).expect("deflate");
        done += usize::try_from(z.total_in() - before).expect("small");
        if done == input.len() && out.len() < out.capacity() {
            return out;
        }
    }
}

#[test]
fn a_bomb_of_one_huge_file_stops_before_reading_it() {
    let h = {
        let mut h = header(b"package/zeros", EntryType::Regular, 4 << 30);
        h.set_cksum();
        h
    };
    let bomb = gzip_bomb(&[Part::Bytes(h.as_bytes()), Part::ZeroMib(4096), Part::Bytes(&[0; 1024])]);
    assert!(bomb.len() < 8 << 20, "{} bytes", bomb.len());
    let started = Instant::now();
    let (outcome, entries) = ok(&bomb);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(entries.is_empty());
    assert_eq!(outcome.capped.as_deref(), Some("over the 1 GiB unpacked-size cap"));
    assert_eq!(outcome.unpacked_size, 0);
}

#[test]
fn a_bomb_of_many_files_stops_at_the_cap() {
    let headers: Vec<tar::Header> = (0..4096)
        .map(|i| {
            let mut h = header(format!("package/f{i}").as_bytes(), EntryType::Regular, 1 << 20);
            h.set_cksum();
            h
        })
        .collect();
    let parts: Vec<Part<'_>> = headers.iter().flat_map(|h| [Part::Bytes(h.as_bytes()), Part::ZeroMib(1)]).collect();
    let bomb = gzip_bomb(&parts);
    assert!(bomb.len() < 16 << 20, "{} bytes", bomb.len());
    let started = Instant::now();
    // a sink that keeps nothing: the test must not hold the bomb either
    let mut files = 0;
    let mut sink = |_: Entry| -> Result<(), String> {
        files += 1;
        Ok(())
    };
    let outcome = unpack(&bomb[..], &Caps::default(), &mut sink).expect("capped, not failed");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(outcome.capped.as_deref(), Some("over the 1 GiB unpacked-size cap"));
    assert_eq!((files, outcome.unpacked_size), (1024, 1 << 30));
}

#[test]
fn many_tiny_files_hit_the_entry_cap_or_pass_under_a_raised_one() {
    let mut tar = TarBuf::default();
    for i in 0..200_000 {
        tar.file(&format!("package/{i}"), b"");
    }
    let tarball = gz(&tar.finish());
    let count = |caps: &Caps| {
        let mut files = 0;
        let mut sink = |_: Entry| -> Result<(), String> {
            files += 1;
            Ok(())
        };
        let outcome = unpack(&tarball[..], caps, &mut sink).expect("readable");
        (outcome, files)
    };
    let (outcome, files) = count(&Caps::default());
    assert_eq!(outcome.capped.as_deref(), Some("over the 100000-entry cap"));
    assert_eq!((outcome.entries, files), (100_000, 100_000));
    let (outcome, files) = count(&Caps { max_entries: 200_000, ..Caps::default() });
    assert_eq!((outcome.capped, outcome.entries, files), (None, 200_000, 200_000));
}

#[test]
fn files_over_the_stored_size_keep_only_their_hash() {
    let big = vec![7u8; 5000];
    let tar = TarBuf::default().file("package/big.bin", &big).file("package/small", b"s").finish();
    let caps = Caps { max_stored_file: 4096, ..Caps::default() };
    let (_, entries) = read(&gz(&tar), &caps).expect("readable");
    let Entry::File(f) = &entries[0] else { panic!("a file") };
    assert_eq!((f.size, f.content.is_none()), (5000, true));
    assert_eq!(f.sha256, <[u8; 32]>::from(Sha256::digest(&big)));
    assert_eq!(content(&entries, "small"), Some(&b"s"[..]));
}

#[test]
fn a_declared_size_larger_than_the_data_is_truncation() {
    let mut tar = TarBuf::default();
    tar.file("package/package.json", b"{}").entry_sized(b"package/a.js", EntryType::Regular, 100_000, b"short");
    let tar = tar.0;
    for tarball in [gz(&tar), tar.clone()] {
        let e = err(&tarball);
        assert!(matches!(e, UnpackError::Truncated { .. }), "{e:?}");
        assert_eq!(e.to_string(), "the tarball ends early near `package/a.js`");
    }
}

#[test]
fn truncated_gzip_fails() {
    let tar = TarBuf::default().file("package/package.json", &[b'x'; 10_000]).finish();
    let whole = gz(&tar);
    // inside the deflate data, then only the trailer missing
    for cut in [whole.len() / 2, whole.len() - 4] {
        let e = err(&whole[..cut]);
        assert!(matches!(e, UnpackError::Truncated { .. }), "cut at {cut}: {e:?}");
    }
}

#[test]
fn a_bad_gzip_checksum_fails() {
    let tar = TarBuf::default().file("package/package.json", b"{}").finish();
    let mut tarball = gz(&tar);
    let crc_at = tarball.len() - 8;
    tarball[crc_at] ^= 0xff;
    let e = err(&tarball);
    assert!(matches!(e, UnpackError::CorruptGzip { .. }), "{e:?}");
    assert!(e.to_string().contains("checksum"), "{e}");
}

#[test]
fn trailing_zeros_pass_and_trailing_garbage_fails_as_in_node() {
    let tarball = gz(&TarBuf::default().file("package/package.json", b"{}").finish());
    let with = |tail: &[u8]| [tarball.as_slice(), tail].concat();
    assert_eq!(paths(&ok(&with(&[0; 1024])).1), ["package.json"]);
    // Node ignores the rest of the input once it starts with a zero byte
    assert_eq!(paths(&ok(&with(b"\0junk")).1), ["package.json"]);
    let e = err(&with(b"<html>junk</html>"));
    assert_eq!(e.to_string(), "trailing garbage after the gzip stream (starts with `<html>junk</html>`)");
    assert!(matches!(err(&with(&[0x1f, 0x8b, 0xff, 0xff])), UnpackError::TrailingGarbage { .. }));
}

#[test]
fn multi_member_gzip_reads_as_one_stream() {
    let tar = TarBuf::default().file("package/package.json", b"{}").file("package/a.js", &[b'a'; 3000]).finish();
    let (a, b) = tar.split_at(700);
    let (b, c) = b.split_at(1500);
    let tarball = [gz(a), gz(b), gz(c)].concat();
    let (_, entries) = ok(&tarball);
    assert_eq!(paths(&entries), ["package.json", "a.js"]);
    assert_eq!(content(&entries, "a.js"), Some(&[b'a'; 3000][..]));
}

#[test]
fn a_plain_tar_is_accepted() {
    let tar = TarBuf::default().file("package/package.json", b"{}").finish();
    assert_eq!(paths(&ok(&tar).1), ["package.json"]);
}

#[test]
fn what_is_not_a_tarball_says_what_it_is() {
    let html = b"<!DOCTYPE html><html><body>Service Unavailable</body></html>";
    let e = err(html);
    assert_eq!(e.to_string(), "not a gzip stream or a tar archive (starts with `<!DOCTYPE html><html><bo`)");
    let e = err(&gz(html));
    assert!(matches!(e, UnpackError::NotTar { .. }), "{e:?}");
    assert!(matches!(err(b""), UnpackError::Empty));
    assert!(matches!(err(&[0x1f, 0x8b, 8, 0, 1, 2, 3]), UnpackError::Truncated { .. }));
}

#[test]
fn non_utf8_names_are_decoded_lossily_and_listed() {
    let tar = TarBuf::default().entry(b"package/caf\xe9.js", EntryType::Regular, b"x").finish();
    let (outcome, entries) = ok(&gz(&tar));
    assert_eq!(paths(&entries), ["caf\u{FFFD}.js"]);
    assert_eq!(outcome.lossy_names, ["caf\u{FFFD}.js"]);
}

#[test]
fn duplicates_reach_the_sink_in_order_and_are_listed() {
    let tar = TarBuf::default()
        .file("package/a.js", b"first")
        .file("package/b.js", b"b")
        .file("package/a.js", b"second")
        .file("package/a.js", b"third")
        .finish();
    let (outcome, entries) = ok(&gz(&tar));
    assert_eq!(paths(&entries), ["a.js", "b.js", "a.js", "a.js"]);
    let Some(Entry::File(last)) = entries.last() else { panic!("a file") };
    assert_eq!(last.content.as_deref(), Some(&b"third"[..]));
    assert_eq!(outcome.duplicates, ["a.js"]);
}

#[test]
fn without_a_top_directory_root_files_are_dropped_as_npm_does() {
    let tar = TarBuf::default().file("package.json", b"{}").file("lib/a.js", b"x").finish();
    let (outcome, entries) = ok(&gz(&tar));
    assert_eq!(paths(&entries), ["a.js"]);
    assert_eq!(outcome.skipped[0].0, "package.json");
    assert!(outcome.skipped[0].1.contains("root"), "{:?}", outcome.skipped);
}

#[test]
fn devices_fifos_and_directories_are_skipped() {
    let tar = TarBuf::default()
        .entry(b"package/", EntryType::Directory, b"")
        .entry(b"package/lib/", EntryType::Regular, b"")
        .entry(b"package/tty", EntryType::Char, b"")
        .entry(b"package/sda", EntryType::Block, b"")
        .entry(b"package/pipe", EntryType::Fifo, b"")
        .sparse(b"package/sparse")
        .file("package/a.js", b"x")
        .finish();
    let (outcome, entries) = ok(&gz(&tar));
    assert_eq!(paths(&entries), ["a.js"]);
    let whys: Vec<&str> = outcome.skipped.iter().map(|(_, why)| why.as_str()).collect();
    assert_eq!(whys, ["character device", "block device", "FIFO", "GNU sparse file (npm does not install it)"]);
    assert_eq!(outcome.entries, 7);
}

#[test]
fn a_lone_zero_block_does_not_end_the_archive() {
    let tar = TarBuf::default().file("package/a.js", b"a").zero_block().file("package/hidden.js", b"h").finish();
    assert_eq!(paths(&ok(&gz(&tar)).1), ["a.js", "hidden.js"]);
}

#[test]
fn oversized_tar_headers_are_refused_without_holding_them() {
    let tar = TarBuf::default().long_name(&vec![b'a'; 3 << 20]).file("x", b"x").finish();
    let e = err(&gz(&tar));
    assert!(matches!(e, UnpackError::HeaderTooLarge { .. }), "{e:?}");
}

#[test]
fn a_damaged_header_fails_naming_where() {
    let mut tar = TarBuf::default().file("package/a.js", b"a").file("package/b.js", b"b").finish();
    tar[1024 + 10] ^= 0x55;
    let e = err(&gz(&tar));
    assert!(e.to_string().starts_with("the tar archive is damaged near `package/a.js`"), "{e}");
}

#[test]
fn a_failing_download_is_a_read_error() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("connection reset"))
        }
    }
    let tarball = gz(&TarBuf::default().file("package/a.js", &[b'a'; 100_000]).finish());
    let e = unpack(tarball[..tarball.len() / 2].chain(Broken), &Caps::default(), &mut |_| Ok::<(), String>(()))
        .expect_err("failed");
    assert_eq!(e.to_string(), "reading the tarball failed: connection reset");
}

#[test]
fn a_sink_error_stops_reading() {
    let tar = TarBuf::default().file("package/a.js", b"a").file("package/b.js", b"b").finish();
    let mut seen = 0;
    let mut sink = |_: Entry| -> Result<(), &str> {
        seen += 1;
        Err("disk full")
    };
    let e = unpack(&gz(&tar)[..], &Caps::default(), &mut sink).expect_err("refused");
    assert_eq!(e.to_string(), "the sink refused `a.js`: disk full");
    assert_eq!(seen, 1);
}
