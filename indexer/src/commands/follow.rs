//! `follow URL`: reads a CouchDB `_changes` feed (continuous mode, so it streams), resolves
//! changes that carry no document by fetching them from the registry (unless the stored
//! revision is already the changed one), and stores them through the pipeline, which
//! checkpoints `last_seq` after each stored batch. A dropped feed is resumed from the last
//! sequence read, not restarted.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use nodules_npm::client::{FetchError, FetchPolicy, Fetched, RegistryClient, Validators};
use nodules_npm::progress::Progress;
use nodules_npm::registry::Registry;
use nodules_npm::retry::Schedule;
use nodules_store::Store;
use nodules_store::lease::Lease;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::CommandError;
use crate::cli::FollowArgs;
use crate::feed::parse_row;
use crate::pipeline::budget::{Budget, Budgeted};
use crate::pipeline::incoming::{DocItem, Incoming, Item};
use crate::pipeline::{Pipeline, Summary};

const IN_FLIGHT_BYTES: usize = 32 << 20;
/// Longest feed line accepted (a change with its document).
const MAX_LINE: usize = 256 << 20;
/// Changes resolved together (one stored-revision query per window).
const WINDOW: usize = 64;
/// CouchDB sends a newline this often while nothing changes.
const HEARTBEAT: Duration = Duration::from_secs(10);

pub async fn follow(
    store: Option<Store>,
    lease: Option<&Lease>,
    registry: Registry,
    args: &FollowArgs,
) -> (Summary, Result<(), CommandError>) {
    let mut pipeline = Pipeline::new(store.clone(), lease);
    let result = run(&mut pipeline, store, registry, args).await;
    pipeline.log_work();
    (pipeline.summary, result)
}

/// The `_changes` endpoint for a database URL (or the endpoint itself).
pub fn changes_url(url: &str) -> String {
    let base = url.split(['?', '#']).next().unwrap_or(url).trim_end_matches('/');
    if base.ends_with("/_changes") { base.to_string() } else { format!("{base}/_changes") }
}

/// The checkpoint key of a feed: its URL without credentials.
pub fn checkpoint_key(changes: &str) -> String {
    let without_auth = match changes.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('/') {
            Some((authority, path)) => {
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                format!("{scheme}://{host}/{path}")
            }
            None => changes.to_string(),
        },
        None => changes.to_string(),
    };
    format!("follow {without_auth}")
}

async fn run(
    pipeline: &mut Pipeline<'_>,
    store: Option<Store>,
    registry: Registry,
    args: &FollowArgs,
) -> Result<(), CommandError> {
    let changes = changes_url(&args.url);
    let key = checkpoint_key(&changes);
    let since = match &store {
        Some(s) => s.checkpoint(&key).await?.unwrap_or_else(|| args.since.clone()),
        None => args.since.clone(),
    };
    tracing::info!(feed = %key.trim_start_matches("follow "), since = %since, continuous = args.continuous, "following");
    pipeline.checkpoint_key = Some(key);
    pipeline.progress = Some(Progress::new("changes", None));
    let policy = FetchPolicy {
        read_timeout: args.timeout,
        connect_timeout: args.timeout.min(Duration::from_secs(10)),
        ..FetchPolicy::default()
    };
    let client = RegistryClient::new(registry, policy).map_err(|e| CommandError::Failed(e.into()))?;
    let (feed_tx, feed_rx) = mpsc::channel::<Item>(WINDOW * 4);
    let (tx, rx) = mpsc::channel::<Budgeted>(WINDOW * 4);
    let reader = read_feed(&changes, since, args, feed_tx);
    let resolver =
        Resolver { client, store, budget: Budget::new(IN_FLIGHT_BYTES), concurrency: args.concurrency.max(1) };
    let (read, (), piped) = tokio::join!(reader, resolver.run(feed_rx, tx), pipeline.run(rx));
    if let Some(p) = pipeline.progress.take() {
        p.finish();
    }
    piped?;
    read
}

/// Waits between reconnections to a dropped feed: the one schedule of every client, from
/// 400 ms (as before) up to a minute.
const FEED_RECONNECT: Schedule = Schedule { first: Duration::from_millis(200), max: Duration::from_secs(60) };

/// Reads the feed into `tx`, reconnecting from the last sequence read after a drop.
async fn read_feed(
    changes: &str,
    mut since: String,
    args: &FollowArgs,
    tx: mpsc::Sender<Item>,
) -> Result<(), CommandError> {
    let http = reqwest::Client::builder()
        .user_agent(concat!("nodules/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| CommandError::Failed(e.into()))?;
    let mut drops = 0u32;
    loop {
        let mut url = format!(
            "{changes}?feed=continuous&include_docs=true&heartbeat={}&since={}",
            HEARTBEAT.as_millis(),
            encode_query(&since)
        );
        if !args.continuous {
            url.push_str(&format!("&timeout={}", args.idle.as_millis()));
        }
        match read_once(&http, &url, &mut since, &tx).await {
            Ok(Ended::CaughtUp) if !args.continuous => return Ok(()),
            Ok(Ended::CaughtUp) => drops = 0,
            Ok(Ended::PipelineStopped) => return Ok(()),
            Err(why) => {
                drops += 1;
                if !args.continuous && drops > args.reconnects {
                    return Err(CommandError::Failed(anyhow::anyhow!(
                        "the feed failed {drops} times, last: {why}; the checkpoint keeps what was stored"
                    )));
                }
                let wait = FEED_RECONNECT.delay(drops);
                tracing::warn!(since = %since, reason = %why, wait_ms = wait.as_millis() as u64, "feed dropped; resuming");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

enum Ended {
    /// The feed ended with `last_seq`: nothing more for now.
    CaughtUp,
    PipelineStopped,
}

/// One connection: lines until the feed ends or drops. `since` follows what was read.
async fn read_once(
    http: &reqwest::Client,
    url: &str,
    since: &mut String,
    tx: &mpsc::Sender<Item>,
) -> Result<Ended, String> {
    let resp = http
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| nodules_npm::client::describe(&e))?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let mut stream = resp.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut line_no = 0u64;
    loop {
        let chunk = match tokio::time::timeout(HEARTBEAT * 3, stream.next()).await {
            Err(_) => return Err("no data and no heartbeat for 30 s".into()),
            Ok(None) => return Err("the connection closed before the feed's last_seq".into()),
            Ok(Some(Err(e))) => return Err(format!("connection dropped: {}", nodules_npm::client::describe(&e))),
            Ok(Some(Ok(c))) => c,
        };
        let mut rest = &chunk[..];
        while let Some(i) = rest.iter().position(|b| *b == b'\n') {
            buf.extend_from_slice(&rest[..i]);
            rest = &rest[i + 1..];
            line_no += 1;
            let line = std::mem::take(&mut buf);
            let Some(item) = parse_row(&line, &format!("feed seq {since} +{line_no}")) else { continue };
            let last = matches!(item.incoming, Incoming::LastSeq(_));
            if let Some(s) = &item.seq {
                since.clone_from(s);
            }
            if let Incoming::LastSeq(s) = &item.incoming {
                since.clone_from(s);
            }
            if tx.send(item).await.is_err() {
                return Ok(Ended::PipelineStopped);
            }
            if last {
                return Ok(Ended::CaughtUp);
            }
        }
        if buf.len() + rest.len() > MAX_LINE {
            return Err(format!("a feed line is over the {MAX_LINE}-byte limit"));
        }
        buf.extend_from_slice(rest);
    }
}

fn encode_query(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Turns changes without documents into documents (or nothing, when the stored revision
/// is the changed one), keeping the feed's order so checkpoints stay truthful.
struct Resolver {
    client: RegistryClient,
    store: Option<Store>,
    budget: Budget,
    concurrency: usize,
}

impl Resolver {
    async fn run(self, mut rx: mpsc::Receiver<Item>, tx: mpsc::Sender<Budgeted>) {
        while let Some(first) = rx.recv().await {
            let mut window = vec![first];
            while window.len() < WINDOW {
                match tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
                    Ok(Some(item)) => window.push(item),
                    _ => break,
                }
            }
            for item in self.resolve(window).await {
                if tx.send(self.budget.admit(item).await).await.is_err() {
                    return;
                }
            }
        }
    }

    async fn resolve(&self, window: Vec<Item>) -> Vec<Item> {
        let stale: Vec<String> = window
            .iter()
            .filter_map(|i| match &i.incoming {
                Incoming::Stale { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        if stale.is_empty() {
            return window;
        }
        let stored_revs: HashMap<String, Option<String>> = match &self.store {
            Some(store) => match store.stored_packages(&stale).await {
                Ok(m) => m.into_iter().map(|(k, v)| (k, v.rev)).collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read stored revisions; fetching every change");
                    HashMap::new()
                }
            },
            None => HashMap::new(),
        };
        let to_fetch: Vec<(usize, String, Option<String>)> = window
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match &item.incoming {
                Incoming::Stale { name, rev } if stored_revs.get(name).cloned().flatten() != *rev || rev.is_none() => {
                    Some((i, name.clone(), rev.clone()))
                }
                _ => None,
            })
            .collect();
        let fetched: HashMap<usize, Incoming> = futures::stream::iter(to_fetch)
            .map(|(i, name, rev)| async move { (i, self.fetch(&name, rev).await) })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut fetched = fetched;
        window
            .into_iter()
            .enumerate()
            .map(|(i, mut item)| {
                if let Some(incoming) = fetched.remove(&i) {
                    item.incoming = incoming;
                }
                item
            })
            .collect()
    }

    async fn fetch(&self, name: &str, change_rev: Option<String>) -> Incoming {
        match self.client.packument(name, &Validators::default()).await {
            Ok(Fetched::Doc { body, etag, last_modified }) => match serde_json::from_slice::<Box<RawValue>>(&body) {
                Ok(doc) => Incoming::Doc(DocItem {
                    hint: Some(name.to_string()),
                    rev: None,
                    change_rev,
                    doc,
                    etag,
                    last_modified,
                }),
                Err(e) => Incoming::Bad { name: Some(name.to_string()), reason: format!("invalid JSON: {e}") },
            },
            // a 304 cannot happen without validators; treat it as nothing new
            Ok(Fetched::NotModified) => Incoming::NotModified { name: name.to_string() },
            Ok(Fetched::Gone) => Incoming::Deleted { name: name.to_string(), rev: change_rev },
            Err(e @ FetchError::Exhausted { .. }) | Err(e @ FetchError::Permanent { .. }) => {
                Incoming::Failed { name: name.to_string(), reason: e.to_string() }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_urls() {
        assert_eq!(changes_url("http://couch.test/registry"), "http://couch.test/registry/_changes");
        assert_eq!(changes_url("http://couch.test/registry/"), "http://couch.test/registry/_changes");
        assert_eq!(changes_url("http://couch.test/registry/_changes?x=1"), "http://couch.test/registry/_changes");
        assert_eq!(checkpoint_key("https://u:pw@couch.test/r/_changes"), "follow https://couch.test/r/_changes");
    }
}
