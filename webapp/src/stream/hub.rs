//! The one reader of changes per webapp process, fanned out to every client through a
//! broadcast channel. It follows the `seq` index (as the search index and the page cache
//! do), so it works on a standalone server, where change streams do not.
//!
//! Every [`POLL`] it reads the records written after the highest number seen; every
//! [`SWEEP`] it reads again everything above its floor, for writes numbered earlier than
//! one already seen that committed later (several writers). The **floor** is the number
//! up to which every write has been sent out: it rises over each number seen, and over a
//! number never seen once a sweep has looked for it more than [`OVERLAP`] after a higher
//! one was first seen (a write commits within seconds of taking its number, the same
//! bound the search index relies on; a number can also be a write since overwritten, or
//! one that never committed). Page caches drop a changed package before its event goes
//! out, so a client that reloads on an event sees the change.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nodules_store::Store;
use nodules_store::events::PackageEvents;
use tokio::sync::{broadcast, watch};

use super::event::LiveEvent;
use crate::cache::PageCache;
use crate::metrics::StreamMetrics;

/// How often the reader looks for new writes.
pub const POLL: Duration = Duration::from_millis(400);
/// How often it reads again above its floor.
const SWEEP: Duration = Duration::from_secs(3);
/// How long a number may stay unseen before it is given up.
pub const OVERLAP: Duration = Duration::from_secs(10);
/// Records per read.
const BATCH: i64 = 500;
/// Events waiting for a slow client; past it the client is dropped (it reconnects and
/// resumes from its last event).
pub const CLIENT_BUFFER: usize = 1024;

/// An event as fanned out: with the floor it was sent under.
#[derive(Debug, Clone)]
pub struct Sent {
    pub event: Arc<LiveEvent>,
    pub floor: i64,
}

pub struct Hub {
    tx: broadcast::Sender<Sent>,
    floor: AtomicI64,
    high: AtomicI64,
    clients: AtomicUsize,
    max_clients: AtomicUsize,
    /// True once the server is shutting down: every stream sends its last event and ends.
    closing: watch::Sender<bool>,
    pub metrics: StreamMetrics,
}

/// Held by a connected client; the count drops with it.
pub struct ClientSlot(Arc<Hub>);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::Relaxed);
        self.0.metrics.clients.dec();
    }
}

impl Hub {
    pub fn new(metrics: StreamMetrics) -> Hub {
        let (tx, _) = broadcast::channel(CLIENT_BUFFER);
        Hub {
            tx,
            floor: AtomicI64::new(0),
            high: AtomicI64::new(0),
            clients: AtomicUsize::new(0),
            max_clients: AtomicUsize::new(1000),
            closing: watch::channel(false).0,
            metrics,
        }
    }

    pub fn set_max_clients(&self, n: usize) {
        self.max_clients.store(n, Ordering::Relaxed);
    }

    /// A slot for one more client, unless the cap is reached.
    pub fn join(self: &Arc<Self>) -> Option<ClientSlot> {
        let max = self.max_clients.load(Ordering::Relaxed);
        let joined = self.clients.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < max).then_some(n + 1));
        if joined.is_err() {
            self.metrics.refused.inc();
            return None;
        }
        self.metrics.clients.inc();
        Some(ClientSlot(self.clone()))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Sent> {
        self.tx.subscribe()
    }

    /// Becomes true when the server shuts down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Tells every stream to send its last event and end.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Every write numbered this or lower has been sent out.
    pub fn floor(&self) -> i64 {
        self.floor.load(Ordering::Relaxed)
    }

    /// The highest number seen.
    pub fn high(&self) -> i64 {
        self.high.load(Ordering::Relaxed)
    }

    /// Starts the reader after `start` (the counter's value when the server started; read
    /// here when `None`).
    pub fn start(self: &Arc<Self>, store: Store, cache: Arc<PageCache>, start: Option<i64>) {
        let hub = self.clone();
        tokio::spawn(async move {
            let start = if let Some(s) = start {
                s
            } else {
                loop {
                    match store.current_seq(nodules_store::seq::PACKAGE_SEQ).await {
                        Ok(s) => break s,
                        Err(e) => {
                            tracing::warn!(error = %e, "live stream: cannot read the change counter; retrying");
                            tokio::time::sleep(Duration::from_secs(2)).await;
                        }
                    }
                }
            };
            hub.floor.store(start, Ordering::Relaxed);
            hub.high.store(start, Ordering::Relaxed);
            let mut reader = Reader { floor: start, high: start, ..Reader::default() };
            let mut last_sweep = Instant::now();
            loop {
                tokio::time::sleep(POLL).await;
                let sweep = last_sweep.elapsed() >= SWEEP;
                if sweep {
                    last_sweep = Instant::now();
                }
                if let Err(e) = reader.step(&hub, &store, &cache, sweep).await {
                    tracing::debug!(error = %e, "live stream: read failed; retrying");
                }
            }
        });
    }
}

/// The reader's own state, owned by its task.
#[derive(Default)]
struct Reader {
    floor: i64,
    high: i64,
    /// Numbers above the floor seen (records' and events').
    seen: BTreeSet<i64>,
    /// Events above the floor sent, by (seq, index).
    sent: HashSet<(i64, i32)>,
    /// The highest number seen, by when: what a sweep may give up.
    history: VecDeque<(Instant, i64)>,
}

impl Reader {
    async fn step(
        &mut self,
        hub: &Hub,
        store: &Store,
        cache: &PageCache,
        sweep: bool,
    ) -> Result<(), nodules_store::StoreError> {
        self.read(hub, store, cache, self.high, None).await?;
        // when this high was certainly seen (after the read)
        self.history.push_back((Instant::now(), self.high));
        // numbers seen OVERLAP ago or earlier and still missing are given up by the next
        // sweep: it keeps the newest such entry and the ones after it, whether or not a
        // sweep runs now (a quiet reader must not grow it)
        let cutoff = Instant::now().checked_sub(OVERLAP);
        while self.history.len() > 1 && cutoff.is_some_and(|c| self.history[1].0 <= c) {
            self.history.pop_front();
        }
        if sweep && self.floor < self.high {
            let give_up = self.history.front().filter(|(t, _)| cutoff.is_some_and(|c| *t <= c)).map(|(_, h)| *h);
            let (floor, high) = (self.floor, self.high);
            // every write numbered up to `give_up` has committed by now: this read sees it
            self.read(hub, store, cache, floor, Some(high)).await?;
            if let Some(h) = give_up {
                self.raise_floor(hub, h);
            }
        }
        self.raise_floor(hub, self.floor);
        Ok(())
    }

    /// Reads records above `after` (up to `upto`), drops their cached pages, then sends
    /// their events not sent yet.
    async fn read(
        &mut self,
        hub: &Hub,
        store: &Store,
        cache: &PageCache,
        after: i64,
        upto: Option<i64>,
    ) -> Result<(), nodules_store::StoreError> {
        let mut from = after;
        loop {
            let records = store.events_after(from, upto, BATCH).await?;
            let n = records.len();
            if let Some(last) = records.last() {
                from = last.seq;
            }
            self.send(hub, cache, records);
            if (n as i64) < BATCH {
                return Ok(());
            }
        }
    }

    fn send(&mut self, hub: &Hub, cache: &PageCache, records: Vec<PackageEvents>) {
        if records.is_empty() {
            return;
        }
        // before any event about them goes out; a record a sweep reads again unchanged (its
        // number already seen) keeps its pages
        cache.invalidate(records.iter().filter(|r| !self.seen.contains(&r.seq)).map(|r| r.name.clone()).collect());
        let floor = self.floor;
        let mut out = Vec::new();
        for r in &records {
            self.see(r.seq);
            for e in &r.events {
                if e.seq > floor && self.sent.insert((e.seq, e.index)) {
                    self.see(e.seq);
                    out.push(LiveEvent::new(r, e));
                }
            }
        }
        hub.high.store(self.high, Ordering::Relaxed);
        out.sort_by_key(|e| (e.seq, e.index));
        for event in out {
            hub.metrics.events.inc();
            // no receiver is not an error: nobody is listening
            let _ = hub.tx.send(Sent { event: Arc::new(event), floor });
        }
    }

    fn see(&mut self, seq: i64) {
        if seq > self.floor {
            self.seen.insert(seq);
            self.high = self.high.max(seq);
        }
    }

    /// Raises the floor to at least `to`, then over every number seen next to it.
    fn raise_floor(&mut self, hub: &Hub, to: i64) {
        let mut floor = self.floor.max(to.min(self.high));
        while self.seen.contains(&(floor + 1)) {
            floor += 1;
        }
        if floor != self.floor {
            self.floor = floor;
            self.seen = self.seen.split_off(&(floor + 1));
            self.sent.retain(|(s, _)| *s > floor);
            hub.floor.store(floor, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_rises_over_seen_numbers_and_stops_at_a_gap() {
        let hub = Hub::new(StreamMetrics::default());
        let mut r = Reader { floor: 10, high: 10, ..Reader::default() };
        for s in [11, 12, 14] {
            r.see(s);
        }
        r.raise_floor(&hub, r.floor);
        assert_eq!((r.floor, r.high), (12, 14), "13 is not seen yet");
        r.see(13);
        r.raise_floor(&hub, r.floor);
        assert_eq!(r.floor, 14);
        assert!(r.seen.is_empty());
        assert_eq!(hub.floor(), 14);
    }

    #[test]
    fn a_number_given_up_lets_the_floor_pass() {
        let hub = Hub::new(StreamMetrics::default());
        let mut r = Reader { floor: 10, high: 10, ..Reader::default() };
        for s in [12, 13, 16] {
            r.see(s);
        }
        r.raise_floor(&hub, 13);
        assert_eq!(r.floor, 13, "11 given up; 14 and 15 not");
        r.raise_floor(&hub, 99);
        assert_eq!(r.floor, 16, "never above the highest seen");
    }

    #[test]
    fn the_cap_counts_clients_and_frees_their_slots() {
        let hub = Arc::new(Hub::new(StreamMetrics::default()));
        hub.set_max_clients(2);
        let a = hub.join().expect("first");
        let _b = hub.join().expect("second");
        assert!(hub.join().is_none(), "third refused");
        drop(a);
        assert!(hub.join().is_some(), "a slot freed");
    }
}
