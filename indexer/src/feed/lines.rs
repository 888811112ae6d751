//! Lines of at most a given length: a longer line is skipped (without buffering it) and
//! reported, so one giant row cannot exhaust memory.

use std::io::{self, BufRead};

/// One line read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// The line's bytes are in the buffer (without the newline).
    Ok,
    /// The line was longer than the cap; its length in bytes.
    TooLong(u64),
}

/// Reads lines from `inner`, counting lines and bytes.
pub struct LineReader<R> {
    inner: R,
    max: usize,
    /// Number of the line last returned, from 1.
    pub line_no: u64,
    /// Bytes consumed so far.
    pub bytes: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max: usize) -> Self {
        LineReader { inner, max, line_no: 0, bytes: 0 }
    }

    /// Reads the next line into `buf` (cleared first). `None` at the end of the input.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
        buf.clear();
        let mut too_long: Option<u64> = None;
        let mut any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            any = true;
            let (chunk, done) = match memchr(b'\n', available) {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            match too_long.as_mut() {
                Some(n) => *n += chunk.len() as u64,
                None if buf.len() + chunk.len() > self.max => too_long = Some((buf.len() + chunk.len()) as u64),
                None => buf.extend_from_slice(chunk),
            }
            let consumed = done.unwrap_or(available.len());
            self.inner.consume(consumed);
            self.bytes += consumed as u64;
            if done.is_some() {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.line_no += 1;
        Ok(Some(match too_long {
            Some(n) => {
                buf.clear();
                Line::TooLong(n)
            }
            None => Line::Ok,
        }))
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_and_skips_over_long_ones() {
        let input = b"short\nthis one is far too long\n\nlast";
        let mut r = LineReader::new(&input[..], 10);
        let mut buf = Vec::new();
        assert_eq!(r.next_line(&mut buf).expect("io"), Some(Line::Ok));
        assert_eq!(buf, b"short");
        assert_eq!(r.next_line(&mut buf).expect("io"), Some(Line::TooLong(24)));
        assert!(buf.is_empty());
        assert_eq!(r.next_line(&mut buf).expect("io"), Some(Line::Ok));
        assert_eq!(buf, b"");
        assert_eq!(r.next_line(&mut buf).expect("io"), Some(Line::Ok));
        assert_eq!(buf, b"last");
        assert_eq!(r.line_no, 4);
        assert_eq!(r.next_line(&mut buf).expect("io"), None);
    }

    #[test]
    fn long_lines_across_buffer_refills() {
        let long = "x".repeat(100_000);
        let input = format!("{long}\nok\n");
        let reader = std::io::BufReader::with_capacity(64, input.as_bytes());
        let mut r = LineReader::new(reader, 1000);
        let mut buf = Vec::new();
        assert_eq!(r.next_line(&mut buf).expect("io"), Some(Line::TooLong(100_000)));
        assert_eq!(r.next_line(&mut buf).expect("io"), Some(Line::Ok));
        assert_eq!(buf, b"ok");
    }
}
