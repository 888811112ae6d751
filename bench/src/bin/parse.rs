//! The reference for `ingest --dry-run`: the same dump read line by line and each row parsed
//! into a `serde_json::Value` — a bare parse, nothing else. Prints rows and seconds.

use std::io::{BufRead, BufReader, Read};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("usage: nodules-bench-parse DUMP[.gz]"))?;
    let started = Instant::now();
    let file = std::fs::File::open(&path)?;
    let mut head = BufReader::with_capacity(1 << 20, file);
    let gz = head.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gz { Box::new(flate2::read::MultiGzDecoder::new(head)) } else { Box::new(head) };
    let mut lines = BufReader::with_capacity(1 << 20, reader);
    let mut buf = Vec::new();
    let (mut rows, mut bytes) = (0u64, 0u64);
    loop {
        buf.clear();
        if lines.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        bytes += buf.len() as u64;
        let line = buf.trim_ascii();
        let line = line.strip_suffix(b",").unwrap_or(line);
        if line.first() == Some(&b'{')
            && line.last() == Some(&b'}')
            && let Ok(v) = serde_json::from_slice::<serde_json::Value>(line)
        {
            std::hint::black_box(&v);
            rows += 1;
        }
    }
    println!("parsed {rows} rows, {} MB in {:.2} s", bytes >> 20, started.elapsed().as_secs_f64());
    Ok(())
}
