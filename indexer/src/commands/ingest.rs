//! `ingest PATH|-`: a dump or changes feed from a file or stdin, streamed.

use std::path::Path;

use nodules_npm::progress::Progress;
use nodules_store::Store;
use nodules_store::lease::Lease;
use tokio::sync::mpsc;

use super::CommandError;
use crate::feed::RowParser;
use crate::feed::lines::{Line, LineReader};
use crate::feed::open::open;
use crate::pipeline::budget::{Budget, Budgeted};
use crate::pipeline::{Pipeline, Summary};

/// Bytes of documents between the reader and the writer.
const IN_FLIGHT_BYTES: usize = 16 << 20;

pub async fn ingest(
    store: Option<Store>,
    lease: Option<&Lease>,
    path: &str,
    max_row: usize,
) -> (Summary, Result<(), CommandError>) {
    let mut pipeline = Pipeline::new(store, lease);
    let result = run(&mut pipeline, path, max_row).await;
    pipeline.log_work();
    (pipeline.summary, result)
}

async fn run(pipeline: &mut Pipeline<'_>, path: &str, max_row: usize) -> Result<(), CommandError> {
    let input = open(path).map_err(|e| CommandError::Failed(anyhow::anyhow!("cannot open {path}: {e}")))?;
    let label = if path == "-" {
        "stdin".to_string()
    } else {
        Path::new(path).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| path.to_string())
    };
    tracing::info!(input = %path, gzip = input.gzip, bytes = input.total_bytes, "ingesting");
    pipeline.progress = Some(Progress::new("ingest", input.total_bytes));
    pipeline.position = Some(input.raw_bytes_read.clone());
    let (tx, rx) = mpsc::channel::<Budgeted>(1024);
    let budget = Budget::new(IN_FLIGHT_BYTES);
    let reader = std::thread::spawn(move || read_rows(input.reader, &label, max_row, &budget, &tx));
    let piped = pipeline.run(rx).await;
    // the pipeline stopped early (an error): the reader sees the channel close and stops
    let read = reader.join().map_err(|_| CommandError::Failed(anyhow::anyhow!("the reader thread panicked")))?;
    if let Some(p) = pipeline.progress.take() {
        p.finish();
    }
    piped?;
    read.map(|_| ()).map_err(|e| CommandError::Failed(anyhow::anyhow!("reading {path} failed: {e}")))
}

/// Reads rows until the end of the input (or until the pipeline stops listening).
fn read_rows(
    reader: Box<dyn std::io::BufRead + Send>,
    label: &str,
    max_row: usize,
    budget: &Budget,
    tx: &mpsc::Sender<Budgeted>,
) -> Result<u64, String> {
    let parser = RowParser::new(label);
    let mut lines = LineReader::new(reader, max_row);
    let mut buf = Vec::new();
    loop {
        let line = match lines.next_line(&mut buf) {
            Ok(Some(l)) => l,
            Ok(None) => return Ok(lines.line_no),
            Err(e) => return Err(format!("after line {}: {e}", lines.line_no)),
        };
        let item = match line {
            Line::Ok => match parser.parse(&buf, lines.line_no) {
                Some(item) => item,
                None => continue,
            },
            Line::TooLong(len) => parser.too_long(lines.line_no, len, max_row),
        };
        if tx.blocking_send(budget.admit_blocking(item)).is_err() {
            return Ok(lines.line_no);
        }
    }
}
