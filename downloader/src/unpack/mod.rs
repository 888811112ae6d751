//! Safe extraction of npm tarballs, in memory: nothing is ever written to the filesystem.
//!
//! [`unpack`] reads a tarball (a gzip'd tar, or a plain tar, which npm also accepts) entry by
//! entry, as npm would install it: paths lose their top directory, links are recorded with
//! their targets and never followed, devices, FIFOs and directories are skipped. Caps stop a
//! bomb before it is read; memory holds one file's content (at most `max_stored_file`) and
//! at most 1 MiB of tar headers (long names, PAX records) at a time.
//!
//! Where npm's behaviour had to be matched:
//! - a file at the tarball's root (no top directory) is not installed by npm: skipped;
//! - a path seen twice: npm's last one wins. The sink receives both, in order, and keeps
//!   the last; the path is listed in [`Outcome::duplicates`];
//! - non-UTF-8 names are decoded lossily (U+FFFD), as Node decodes tar headers, and listed
//!   in [`Outcome::lossy_names`];
//! - after a lone zero block node-tar reads on (only two end the archive): so do we;
//! - after the gzip stream, zero padding is ignored and anything else fails, as Node's
//!   zlib does (see `stream.rs`); a bad gzip checksum or a truncated stream fails too;
//! - stricter than npm: a header with a bad checksum fails the tarball (node-tar skips the
//!   block and reads on), and any `..` or absolute name is skipped (node-tar judges only
//!   what follows the top directory).

mod caps;
mod paths;
mod stream;

use std::collections::HashSet;
use std::fmt::Display;
use std::io::{self, Read};
use std::rc::Rc;

use nodules_store::model::EntryKind;
use sha2::{Digest, Sha256};
use tar::EntryType;

pub use caps::{Caps, size_text};
use paths::{PackagePath, link_target, package_path, shown};
use stream::{Fault, Meter, Opening, TarStream};

/// Tar bytes the reader may read for one member's headers: its own block and any GNU long
/// name, long link name and PAX records before it (read whole by the tar crate).
const HEADER_ALLOWANCE: u64 = 1 << 20;
/// Skipped entries listed in [`Outcome::skipped`]; the rest are only counted.
const MAX_LISTED: usize = 1000;
const CHUNK: usize = 64 * 1024;

/// A regular file of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOut {
    /// Inside the package, top directory stripped (`lib/index.js`).
    pub path: String,
    pub size: u64,
    /// Permission bits as the tarball gives them (`0o644`).
    pub mode: u32,
    pub sha256: [u8; 32],
    /// The bytes; `None` above [`Caps::max_stored_file`].
    pub content: Option<Vec<u8>>,
}

/// What the sink receives, in tarball order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File(FileOut),
    /// A symbolic or hard link. A symlink's target is as written (relative to the link's
    /// folder); a hard link's is a member name, stripped like a path. Never dereferenced.
    Link {
        path: String,
        kind: EntryKind,
        target: String,
    },
}

/// How reading went, when it did not fail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Tar members read, skipped ones and directories included.
    pub entries: u64,
    /// Bytes of the files handed to the sink.
    pub unpacked_size: u64,
    /// Which cap stopped reading (`over the 1 GiB unpacked-size cap`); what came before it
    /// was handed over.
    pub capped: Option<String>,
    /// Paths that appeared more than once (the last one wins, as in npm), each listed once.
    pub duplicates: Vec<String>,
    /// Entries left out, with the reason: (name as found, why). The first 1000.
    pub skipped: Vec<(String, String)>,
    /// All entries left out, listed or not.
    pub skipped_count: u64,
    /// Paths whose name was not UTF-8 and was decoded lossily.
    pub lossy_names: Vec<String>,
}

/// Why a tarball could not be read. Messages say what failed, for a user.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("the tarball is empty (0 bytes)")]
    Empty,
    #[error("not a gzip stream or a tar archive (starts with `{start}`)")]
    NotTarball { start: String },
    #[error("the gzip stream does not hold a tar archive (its content starts with `{start}`)")]
    NotTar { start: String },
    #[error("the gzip stream is damaged: {detail}")]
    CorruptGzip { detail: String },
    #[error("trailing garbage after the gzip stream (starts with `{start}`)")]
    TrailingGarbage { start: String },
    #[error("the tarball ends early{}", near_text(.near))]
    Truncated { near: Option<String> },
    #[error("the tar archive is damaged{}: {detail}", near_text(.near))]
    CorruptTar { detail: String, near: Option<String> },
    #[error("tar headers of over {} for one entry{}", size_text(HEADER_ALLOWANCE), near_text(.near))]
    HeaderTooLarge { near: Option<String> },
    #[error("reading the tarball failed: {detail}")]
    Read { detail: String },
    #[error("the sink refused `{path}`: {detail}")]
    Sink { path: String, detail: String },
}

fn near_text(near: &Option<String>) -> String {
    near.as_ref().map(|p| format!(" near `{p}`")).unwrap_or_default()
}

/// Reads the tarball `compressed`, handing each file and link to `sink` in tarball order.
/// A sink error stops reading ([`UnpackError::Sink`]).
pub fn unpack<R: Read, E: Display>(
    compressed: R,
    caps: &Caps,
    sink: &mut dyn FnMut(Entry) -> Result<(), E>,
) -> Result<Outcome, UnpackError> {
    let meter = Rc::new(Meter::default());
    let mut stream = match TarStream::open(compressed, Rc::clone(&meter)) {
        Ok(Opening::Tar(stream)) => stream,
        Ok(Opening::Empty) => return Err(UnpackError::Empty),
        Ok(Opening::NotTarball(start)) => return Err(UnpackError::NotTarball { start }),
        Ok(Opening::GzipNotTar(start)) => return Err(UnpackError::NotTar { start }),
        Err(e) => return Err(explain(&meter, &e, None)),
    };
    let mut reader = Reader {
        caps,
        meter: &meter,
        outcome: Outcome::default(),
        data: 0,
        seen: HashSet::new(),
        duplicated: HashSet::new(),
        buf: None,
        last: None,
    };
    loop {
        let mut archive = tar::Archive::new(stream);
        let stopped = reader.archive(&mut archive, sink)?;
        stream = archive.into_inner();
        if stopped {
            return Ok(reader.outcome);
        }
        // the tar crate stops at a zero block; node-tar, only at the second in a row
        meter.allow(512);
        let block = stream.block().map_err(|e| explain(&meter, &e, reader.near()))?;
        if block.len() < 512 || block.iter().all(|&b| b == 0) {
            break;
        }
        stream.unread(block);
    }
    if stream.is_gzip() {
        reader.drain(&mut stream)?;
    }
    Ok(reader.outcome)
}

/// State of one [`unpack`] call.
struct Reader<'a> {
    caps: &'a Caps,
    meter: &'a Meter,
    outcome: Outcome,
    /// Bytes of entry data read, all entries together (what the unpacked-size cap limits).
    data: u64,
    seen: HashSet<String>,
    duplicated: HashSet<String>,
    /// Streams files too large to keep; allocated on first use.
    buf: Option<Vec<u8>>,
    /// The last member name read, to say where a damaged tarball went wrong.
    last: Option<Vec<u8>>,
}

/// What a member is, for us.
enum Kind {
    File,
    Link(EntryKind),
    /// Directories are implied by files; PAX global headers are metadata.
    Ignored,
    Unsupported(String),
}

impl Reader<'_> {
    /// The last member name read, as shown in an error.
    fn near(&self) -> Option<String> {
        self.last.as_deref().map(shown)
    }

    /// Reads one tar archive up to its end; `true` when a cap stopped it.
    fn archive<R: Read, E: Display>(
        &mut self,
        archive: &mut tar::Archive<TarStream<R>>,
        sink: &mut dyn FnMut(Entry) -> Result<(), E>,
    ) -> Result<bool, UnpackError> {
        let mut entries = archive.entries().map_err(|e| explain(self.meter, &e, None))?;
        loop {
            self.meter.allow(HEADER_ALLOWANCE);
            let mut entry = match entries.next() {
                None => return Ok(false),
                Some(Ok(entry)) => entry,
                Some(Err(e)) => return Err(explain(self.meter, &e, self.near())),
            };
            self.meter.allow(u64::MAX);
            self.outcome.entries += 1;
            if self.outcome.entries > self.caps.max_entries {
                self.outcome.entries -= 1;
                self.outcome.capped = Some(self.caps.entries_message());
                return Ok(true);
            }
            let size = entry.size();
            if self.data.saturating_add(size) > self.caps.max_unpacked {
                self.outcome.capped = Some(self.caps.unpacked_message());
                return Ok(true);
            }
            let raw = entry.path_bytes().into_owned();
            self.last = Some(raw.clone());
            let read = match kind(entry.header(), &raw) {
                Kind::File => self.file(&mut entry, &raw, sink)?,
                Kind::Link(kind) => self.link(&entry, &raw, kind, sink).map(|()| 0)?,
                Kind::Ignored => 0,
                Kind::Unsupported(what) => {
                    self.skip(&raw, what);
                    0
                }
            };
            // read here what was not read above (a skipped entry's data): the tar crate
            // would skip it within the header allowance
            let rest = io::copy(&mut entry, &mut io::sink()).map_err(|e| explain(self.meter, &e, self.near()))?;
            if read + rest < size {
                return Err(UnpackError::Truncated { near: self.near() });
            }
            self.data += size;
        }
    }

    fn file<R: Read, E: Display>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        raw: &[u8],
        sink: &mut dyn FnMut(Entry) -> Result<(), E>,
    ) -> Result<u64, UnpackError> {
        let Some(path) = self.place(raw) else { return Ok(0) };
        let size = entry.size();
        let (meter, last) = (self.meter, self.last.as_deref());
        let failed = |e: io::Error| explain(meter, &e, last.map(shown));
        let (read, sha256, content) = if size <= self.caps.max_stored_file {
            let mut content = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            entry.read_to_end(&mut content).map_err(failed)?;
            (content.len() as u64, Sha256::digest(&content).into(), Some(content))
        } else {
            // too large to keep: hashed as it streams, through one buffer for the whole run
            let buf = self.buf.get_or_insert_with(|| vec![0; CHUNK]);
            let mut hasher = Sha256::new();
            let mut read = 0u64;
            loop {
                let n = entry.read(buf).map_err(failed)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                read += n as u64;
            }
            (read, hasher.finalize().into(), None)
        };
        if read < size {
            return Err(UnpackError::Truncated { near: self.near() });
        }
        let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;
        self.outcome.unpacked_size += size;
        let file = FileOut { path: path.clone(), size, mode, sha256, content };
        sink(Entry::File(file)).map_err(|e| UnpackError::Sink { path, detail: e.to_string() })?;
        Ok(read)
    }

    fn link<R: Read, E: Display>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        raw: &[u8],
        kind: EntryKind,
        sink: &mut dyn FnMut(Entry) -> Result<(), E>,
    ) -> Result<(), UnpackError> {
        let target = entry.link_name_bytes().map(std::borrow::Cow::into_owned).unwrap_or_default();
        if target.is_empty() {
            self.skip(raw, "link without a target".into());
            return Ok(());
        }
        if target.len() > self.caps.max_path_len {
            let why = format!("link target of {} bytes, over the {}-byte cap", target.len(), self.caps.max_path_len);
            self.skip(raw, why);
            return Ok(());
        }
        let Some(path) = self.place(raw) else { return Ok(()) };
        let target = match kind {
            EntryKind::Hardlink => link_target(&target, self.caps),
            _ => String::from_utf8_lossy(&target).into_owned(),
        };
        sink(Entry::Link { path: path.clone(), kind, target })
            .map_err(|e| UnpackError::Sink { path, detail: e.to_string() })
    }

    /// The package path of `raw`, noting duplicates and lossy names; `None` when skipped.
    fn place(&mut self, raw: &[u8]) -> Option<String> {
        match package_path(raw, self.caps) {
            Ok(PackagePath { path, lossy }) => {
                if lossy {
                    self.outcome.lossy_names.push(path.clone());
                }
                if !self.seen.insert(path.clone()) && self.duplicated.insert(path.clone()) {
                    self.outcome.duplicates.push(path.clone());
                }
                Some(path)
            }
            Err(refusal) => {
                self.skip(raw, refusal.why());
                None
            }
        }
    }

    fn skip(&mut self, raw: &[u8], why: String) {
        self.outcome.skipped_count += 1;
        if self.outcome.skipped.len() < MAX_LISTED {
            self.outcome.skipped.push((shown(raw), why));
        }
    }

    /// Reads the gzip stream to its end, so that its checksum and what follows it are
    /// checked as npm checks them. Counts against the unpacked-size cap.
    fn drain<R: Read>(&mut self, stream: &mut TarStream<R>) -> Result<(), UnpackError> {
        // the end-of-archive blocks and the record padding are not entry data: some slack
        let room = self.caps.max_unpacked.saturating_sub(self.data).saturating_add(HEADER_ALLOWANCE);
        self.meter.allow(room);
        match io::copy(stream, &mut io::sink()) {
            Ok(_) => Ok(()),
            Err(_) if self.meter.over() => {
                self.outcome.capped = Some(self.caps.unpacked_message());
                Ok(())
            }
            Err(e) => Err(explain(self.meter, &e, None)),
        }
    }
}

/// node-tar's entry types: files (`0`, old `\0`, contiguous `7`), links, directories
/// (`5`, GNU dump dirs, and old-style files named with a trailing `/`); everything else,
/// GNU sparse files included, is not installed.
fn kind(header: &tar::Header, raw: &[u8]) -> Kind {
    match header.entry_type() {
        EntryType::Regular | EntryType::Continuous if raw.ends_with(b"/") => Kind::Ignored,
        EntryType::Regular | EntryType::Continuous => Kind::File,
        EntryType::Symlink => Kind::Link(EntryKind::Symlink),
        EntryType::Link => Kind::Link(EntryKind::Hardlink),
        EntryType::Directory | EntryType::XGlobalHeader => Kind::Ignored,
        EntryType::Char => Kind::Unsupported("character device".into()),
        EntryType::Block => Kind::Unsupported("block device".into()),
        EntryType::Fifo => Kind::Unsupported("FIFO".into()),
        EntryType::GNUSparse => Kind::Unsupported("GNU sparse file (npm does not install it)".into()),
        // GNU dump directory
        other if other.as_byte() == b'D' => Kind::Ignored,
        other => Kind::Unsupported(format!("unsupported entry type `{}`", shown(&[other.as_byte()]))),
    }
}

/// The error a failed read stands for: what a lower layer noted, else what the tar crate
/// says.
fn explain(meter: &Meter, e: &io::Error, near: Option<String>) -> UnpackError {
    match meter.fault() {
        Some(Fault::Input(detail)) => UnpackError::Read { detail },
        Some(Fault::Gzip(detail)) => UnpackError::CorruptGzip { detail },
        Some(Fault::GzipTruncated) => UnpackError::Truncated { near },
        Some(Fault::TrailingGarbage(start)) => UnpackError::TrailingGarbage { start },
        None if meter.over() => UnpackError::HeaderTooLarge { near },
        None if meter.ended() => UnpackError::Truncated { near },
        None => UnpackError::CorruptTar { detail: e.to_string(), near },
    }
}

#[cfg(test)]
mod tests;
