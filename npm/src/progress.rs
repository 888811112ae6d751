//! Progress of long work: a bar on a terminal, a log line every few seconds otherwise.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::logging;

const LOG_EVERY: Duration = Duration::from_secs(10);

/// Counts items (and optionally bytes towards a known total).
pub struct Progress {
    label: &'static str,
    bar: Option<ProgressBar>,
    started: Instant,
    state: Mutex<State>,
}

struct State {
    items: u64,
    bytes: u64,
    last_log: Instant,
}

impl Progress {
    /// `total_bytes`: the input's size when known (gives an ETA).
    pub fn new(label: &'static str, total_bytes: Option<u64>) -> Progress {
        let bar = logging::interactive().then(|| {
            let bar = match total_bytes {
                Some(total) => {
                    let bar = ProgressBar::new(total);
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    bar
                }
                None => {
                    let bar = ProgressBar::new_spinner();
                    bar.set_style(
                        ProgressStyle::with_template("{prefix} {spinner} {elapsed} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar
                }
            };
            bar.set_prefix(label);
            bar.enable_steady_tick(Duration::from_millis(200));
            logging::bars().add(bar)
        });
        Progress {
            label,
            bar,
            started: Instant::now(),
            state: Mutex::new(State { items: 0, bytes: 0, last_log: Instant::now() }),
        }
    }

    /// `items` more done; `bytes_pos` is the position in the input, when known.
    pub fn advance(&self, items: u64, bytes_pos: Option<u64>) {
        let Ok(mut s) = self.state.lock() else { return };
        s.items += items;
        if let Some(pos) = bytes_pos {
            s.bytes = pos;
        }
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        if let Some(bar) = &self.bar {
            if bytes_pos.is_some() {
                bar.set_position(s.bytes);
            }
            bar.set_message(format!("{} {} ({:.0}/s)", s.items, self.label, s.items as f64 / secs));
        } else if s.last_log.elapsed() >= LOG_EVERY {
            s.last_log = Instant::now();
            tracing::info!(
                items = s.items,
                per_sec = format!("{:.0}", s.items as f64 / secs),
                bytes = s.bytes,
                "{} in progress",
                self.label
            );
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
