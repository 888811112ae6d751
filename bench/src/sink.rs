//! Output files written on their own threads (one per file, gzip or plain), so
//! compression and disk writes overlap generation. Memory is bounded: a few chunks of
//! about 1 MB wait per file (a chunk holding a 10 MB document is that much bigger).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use flate2::Compression;
use flate2::write::GzEncoder;

const CHUNK: usize = 1 << 20;
/// Chunks waiting per file before generation blocks.
const QUEUE: usize = 4;
/// gzip level: 1 keeps compression ahead of generation on a small machine; the files are
/// inputs for benchmarks, not archives.
const GZIP_LEVEL: u32 = 1;

/// A file being written by its own thread.
pub struct FileSink {
    path: PathBuf,
    buf: Vec<u8>,
    tx: Option<SyncSender<Vec<u8>>>,
    thread: Option<JoinHandle<io::Result<()>>>,
    on_disk: Arc<AtomicU64>,
}

impl FileSink {
    pub fn create(path: &Path, gzip: bool) -> io::Result<FileSink> {
        let file = File::create(path).map_err(|e| with_path(path, e))?;
        let on_disk = Arc::new(AtomicU64::new(0));
        let out = BufWriter::with_capacity(CHUNK, Counting { inner: file, bytes: on_disk.clone() });
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE);
        let thread = std::thread::spawn(move || -> io::Result<()> {
            let mut out = out;
            if gzip {
                let mut gz = GzEncoder::new(out, Compression::new(GZIP_LEVEL));
                for chunk in rx {
                    gz.write_all(&chunk)?;
                }
                // `finish` writes the trailer; dropping the encoder would hide its failure
                gz.finish()?.flush()
            } else {
                for chunk in rx {
                    out.write_all(&chunk)?;
                }
                out.flush()
            }
        });
        Ok(FileSink {
            path: path.to_path_buf(),
            buf: Vec::with_capacity(CHUNK),
            tx: Some(tx),
            thread: Some(thread),
            on_disk,
        })
    }

    /// Bytes that reached the file so far.
    pub fn on_disk(&self) -> Arc<AtomicU64> {
        self.on_disk.clone()
    }

    fn send(&mut self) -> io::Result<()> {
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        let stopped = || io::Error::other(format!("{}: writer thread stopped", self.path.display()));
        self.tx.as_ref().ok_or_else(stopped)?.send(chunk).map_err(|_| stopped())
    }

    /// Writes what is buffered, waits for the thread, and returns the file's size.
    pub fn finish(mut self) -> io::Result<u64> {
        let sent = if self.buf.is_empty() { Ok(()) } else { self.send() };
        self.tx = None;
        let joined = match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("writer thread panicked")),
            None => Ok(()),
        };
        // the thread's own error says more than "stopped"
        joined.and(sent).map_err(|e| with_path(&self.path, e))?;
        Ok(self.on_disk.load(Ordering::Relaxed))
    }
}

impl Write for FileSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Counts the bytes that reach the file.
struct Counting {
    inner: File,
    bytes: Arc<AtomicU64>,
}

impl Write for Counting {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
