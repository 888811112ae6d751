//! The tar bytes inside a tarball: gzip members decoded the way Node's zlib decodes them for
//! npm, a plain tar passed through, and a meter that bounds what the tar reader may read
//! between two of our checks.
//!
//! The tar crate turns every read error into text, so each layer notes here what went wrong
//! ([`Fault`]) before failing, and [`super::explain`] reads the note back.

use std::cell::{Cell, RefCell};
use std::io::{self, BufRead, BufReader, Chain, Cursor, Read};
use std::rc::Rc;

use flate2::bufread::GzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Bytes of the stream shown when it is not what we expected.
const PREVIEW: usize = 24;

/// What failed below the tar reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fault {
    /// The compressed input itself could not be read (a failed download stream).
    Input(String),
    /// The deflate data or a member's checksum is wrong.
    Gzip(String),
    /// The gzip stream stops inside a member.
    GzipTruncated,
    /// After a complete member, bytes that are neither zero padding nor a valid member.
    TrailingGarbage(String),
}

/// Shared between the layers and the reading loop: how much tar data was read, how much
/// more may be read before the loop looks again, and what went wrong.
#[derive(Debug, Default)]
pub(super) struct Meter {
    read: Cell<u64>,
    limit: Cell<u64>,
    over: Cell<bool>,
    ended: Cell<bool>,
    fault: RefCell<Option<Fault>>,
}

impl Meter {
    /// Lets the tar reader read `more` bytes past what it has read.
    pub fn allow(&self, more: u64) {
        self.limit.set(self.read.get().saturating_add(more));
    }

    /// The last read was refused: the allowance ran out.
    pub fn over(&self) -> bool {
        self.over.get()
    }

    /// The tar data ended (the decoded stream returned end of file).
    pub fn ended(&self) -> bool {
        self.ended.get()
    }

    pub fn fault(&self) -> Option<Fault> {
        self.fault.borrow().clone()
    }

    fn note(&self, fault: Fault) {
        // the first fault is the cause; later ones are its echoes
        self.fault.borrow_mut().get_or_insert(fault);
    }
}

/// The compressed input; notes its own read errors, which flate2 passes through unchanged.
struct Input<R> {
    inner: R,
    meter: Rc<Meter>,
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.meter.note(Fault::Input(e.to_string()));
            }
        })
    }
}

type Raw<R> = Chain<Cursor<Vec<u8>>, Input<R>>;

/// Gzip members one after another, as Node's zlib reads them for npm (src/node_zlib.cc):
/// after a member, a zero byte ends the stream (zero padding is common, and whatever
/// follows it is ignored); any other byte must start another member, or the stream fails —
/// "trailing garbage" is an error in npm since Node 6.
struct Members<R: Read> {
    /// `None` once the stream has ended.
    current: Option<GzDecoder<BufReader<Raw<R>>>>,
    /// Beginning of the bytes the current member was started on, when it is not the first.
    started_on: Option<String>,
    meter: Rc<Meter>,
}

impl<R: Read> Members<R> {
    fn new(raw: Raw<R>, meter: Rc<Meter>) -> Self {
        Members { current: Some(GzDecoder::new(BufReader::new(raw))), started_on: None, meter }
    }

    fn fail(&self, e: io::Error) -> io::Error {
        if self.meter.fault().is_none() {
            self.meter.note(match (&self.started_on, e.kind()) {
                (Some(start), _) => Fault::TrailingGarbage(start.clone()),
                (None, io::ErrorKind::UnexpectedEof) => Fault::GzipTruncated,
                (None, _) => Fault::Gzip(e.to_string()),
            });
        }
        e
    }
}

impl<R: Read> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(decoder) = self.current.as_mut() else {
                return Ok(0);
            };
            match decoder.read(buf) {
                Ok(0) if !buf.is_empty() => {}
                Ok(n) => {
                    // a member that yields data is a member, not garbage
                    self.started_on = None;
                    return Ok(n);
                }
                Err(e) => return Err(self.fail(e)),
            }
            let Some(decoder) = self.current.take() else { return Ok(0) };
            let mut input = decoder.into_inner();
            let next = input.fill_buf()?;
            if matches!(next.first(), None | Some(0)) {
                return Ok(0);
            }
            self.started_on = Some(preview(next));
            self.current = Some(GzDecoder::new(input));
        }
    }
}

enum Decoded<R: Read> {
    Plain(Raw<R>),
    Gzip(Box<Members<R>>),
}

/// The tar data of one tarball, metered. Blocks given back with [`TarStream::unread`] are
/// read again first.
pub(super) struct TarStream<R: Read> {
    decoded: Decoded<R>,
    pending: Cursor<Vec<u8>>,
    meter: Rc<Meter>,
}

/// How a tarball begins.
pub(super) enum Opening<R: Read> {
    Tar(TarStream<R>),
    Empty,
    /// Neither gzip nor tar; the first bytes, for the message.
    NotTarball(String),
    /// A gzip stream whose content is not a tar archive.
    GzipNotTar(String),
}

impl<R: Read> TarStream<R> {
    /// Recognizes a gzip'd or plain tar by its first bytes (as node-tar does: gzip magic, else
    /// tar) and checks that the tar data starts with a tar header.
    pub fn open(input: R, meter: Rc<Meter>) -> io::Result<Opening<R>> {
        let mut input = Input { inner: input, meter: Rc::clone(&meter) };
        let head = read_up_to(&mut input, 512)?;
        if head.is_empty() {
            return Ok(Opening::Empty);
        }
        let gzip = head.starts_with(&GZIP_MAGIC);
        let start = preview(&head);
        let raw = Cursor::new(head).chain(input);
        let decoded =
            if gzip { Decoded::Gzip(Box::new(Members::new(raw, Rc::clone(&meter)))) } else { Decoded::Plain(raw) };
        let mut stream = TarStream { decoded, pending: Cursor::new(Vec::new()), meter };
        stream.meter.allow(512);
        let first = stream.block()?;
        if !is_tar_block(&first) {
            return Ok(if gzip { Opening::GzipNotTar(preview(&first)) } else { Opening::NotTarball(start) });
        }
        stream.unread(first);
        Ok(Opening::Tar(stream))
    }

    pub fn is_gzip(&self) -> bool {
        matches!(self.decoded, Decoded::Gzip(_))
    }

    /// Up to 512 bytes (fewer only at the end of the data).
    pub fn block(&mut self) -> io::Result<Vec<u8>> {
        read_up_to(self, 512)
    }

    /// Gives `block` back, to be read again before anything else.
    pub fn unread(&mut self, block: Vec<u8>) {
        let pos = usize::try_from(self.pending.position()).unwrap_or(usize::MAX);
        let mut rest = self.pending.get_ref().get(pos..).unwrap_or_default().to_vec();
        let mut bytes = block;
        bytes.append(&mut rest);
        self.pending = Cursor::new(bytes);
    }
}

impl<R: Read> Read for TarStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.pending.read(buf)?;
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        let meter = &self.meter;
        let room = meter.limit.get().saturating_sub(meter.read.get());
        if room == 0 {
            meter.over.set(true);
            return Err(io::Error::other("read allowance used up"));
        }
        let len = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = match &mut self.decoded {
            Decoded::Plain(raw) => raw.read(&mut buf[..len])?,
            Decoded::Gzip(members) => members.read(&mut buf[..len])?,
        };
        meter.read.set(meter.read.get() + n as u64);
        if n == 0 {
            meter.ended.set(true);
        }
        Ok(n)
    }
}

/// A tar header block: all zeros (an empty archive) or a block whose checksum holds, which
/// is what node-tar requires of a header.
pub(super) fn is_tar_block(block: &[u8]) -> bool {
    let Ok(header) = <&[u8; 512]>::try_from(block) else {
        return false;
    };
    if header.iter().all(|&b| b == 0) {
        return true;
    }
    let header = tar::Header::from_byte_slice(header);
    let sum: u32 = header
        .as_bytes()
        .iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u32::from(b) })
        .sum();
    header.cksum().is_ok_and(|stored| stored == sum)
}

/// Reads until `max` bytes or the end.
fn read_up_to(r: &mut impl Read, max: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(max);
    r.take(max as u64).read_to_end(&mut out)?;
    Ok(out)
}

/// The first bytes of `bytes` as text for a message: `<!DOCTYPE html>`, `\u{1f}\u{8b}…`.
pub(super) fn preview(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(PREVIEW)];
    String::from_utf8_lossy(head).escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_blocks_are_recognized_by_checksum() {
        assert!(is_tar_block(&[0; 512]));
        let mut h = tar::Header::new_ustar();
        h.set_path("package/a.js").expect("a valid path");
        h.set_cksum();
        assert!(is_tar_block(h.as_bytes()));
        let mut damaged = h.as_bytes().to_vec();
        damaged[0] ^= 1;
        assert!(!is_tar_block(&damaged));
        assert!(!is_tar_block(&h.as_bytes()[..511]));
        assert!(!is_tar_block(&[b'<'; 512]));
    }

    #[test]
    fn previews_are_short_and_escaped() {
        assert_eq!(preview(b"\x1f\x8b\x08\0abc"), "\\u{1f}�\\u{8}\\0abc");
        assert_eq!(preview(&[b'a'; 100]).len(), PREVIEW);
    }

    #[test]
    fn unread_blocks_come_back_first_and_in_order() {
        let meter = Rc::new(Meter::default());
        let tar = [&[0u8; 512][..], b"rest"].concat();
        let Ok(Opening::Tar(mut stream)) = TarStream::open(&tar[..], Rc::clone(&meter)) else { panic!("a tar") };
        meter.allow(u64::MAX);
        assert_eq!(stream.block().expect("in memory"), [0; 512]);
        stream.unread(b"b".to_vec());
        stream.unread(b"a".to_vec());
        let mut all = Vec::new();
        stream.read_to_end(&mut all).expect("in memory");
        assert_eq!(all, b"abrest");
        assert!(meter.ended());
    }
}
