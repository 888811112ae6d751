//! Opens the input of `ingest`: a file or `-` (stdin), gzip detected by its magic bytes.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

/// An opened input: decompressed lines, the compressed size when known, and a counter of
/// compressed bytes read (for progress and ETA).
pub struct Input {
    pub reader: Box<dyn BufRead + Send>,
    pub total_bytes: Option<u64>,
    pub raw_bytes_read: Arc<AtomicU64>,
    pub gzip: bool,
}

const BUF: usize = 1 << 20;

/// Opens `path` (`-` for stdin).
pub fn open(path: &str) -> io::Result<Input> {
    let counter = Arc::new(AtomicU64::new(0));
    let (raw, total): (Box<dyn Read + Send>, Option<u64>) = if path == "-" {
        (Box::new(io::stdin()), None)
    } else {
        let file = File::open(Path::new(path))?;
        let len = file.metadata().ok().map(|m| m.len());
        (Box::new(file), len)
    };
    let mut counted = BufReader::with_capacity(BUF, Counting { inner: raw, count: counter.clone() });
    let gzip = counted.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn BufRead + Send> =
        if gzip { Box::new(BufReader::with_capacity(BUF, MultiGzDecoder::new(counted))) } else { Box::new(counted) };
    Ok(Input { reader, total_bytes: total, raw_bytes_read: counter, gzip })
}

struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
