//! `fetch`: documents one by one from the registry — named packages, their dependencies
//! (`--deps`), or stored packages due for a refresh (`--stale AGE`) — into the pipeline.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::{BoxStream, FuturesUnordered};
use mongodb::bson::DateTime;
use nodules_npm::client::{FetchError, FetchPolicy, Fetched, RegistryClient, Validators};
use nodules_npm::normalize::NORMALIZER_VERSION;
use nodules_npm::normalize::document::latest_targets;
use nodules_npm::normalize::spec::valid_name;
use nodules_npm::progress::Progress;
use nodules_npm::registry::Registry;
use nodules_store::Store;
use nodules_store::lease::Lease;
use serde_json::value::RawValue;
use tokio::sync::mpsc;

use super::CommandError;
use crate::cli::FetchArgs;
use crate::pipeline::budget::{Budget, Budgeted};
use crate::pipeline::incoming::{DocItem, Incoming, Item};
use crate::pipeline::{Pipeline, Summary};

const IN_FLIGHT_BYTES: usize = 32 << 20;

pub async fn fetch(
    store: Option<Store>,
    reader: Option<Store>,
    lease: Option<&Lease>,
    registry: Registry,
    args: &FetchArgs,
) -> (Summary, Result<(), CommandError>) {
    let mut pipeline = Pipeline::new(store, lease);
    let result = run(&mut pipeline, reader, registry, args).await;
    pipeline.log_work();
    (pipeline.summary, result)
}

async fn run(
    pipeline: &mut Pipeline<'_>,
    reader: Option<Store>,
    registry: Registry,
    args: &FetchArgs,
) -> Result<(), CommandError> {
    let policy = FetchPolicy {
        attempts: args.attempts.max(1),
        backoff: args.backoff,
        read_timeout: args.timeout,
        connect_timeout: args.timeout.min(Duration::from_secs(10)),
        ..FetchPolicy::default()
    };
    let client = RegistryClient::new(registry, policy).map_err(|e| CommandError::Failed(e.into()))?;
    let mut names: Vec<String> = args.names.clone();
    if let Some(file) = &args.names_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| CommandError::Failed(anyhow::anyhow!("cannot read {}: {e}", file.display())))?;
        names.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    for n in &names {
        if !valid_name(n) {
            return Err(CommandError::Failed(anyhow::anyhow!("`{n}` is not a valid package name")));
        }
    }
    let named: BoxStream<'static, (String, Validators)> =
        futures::stream::iter(names.into_iter().map(|n| (n, Validators::default()))).boxed();
    let initial = match (args.stale, reader) {
        (Some(age), Some(store)) => named.chain(due_for_refresh(store, age)).boxed(),
        _ => named,
    };
    tracing::info!(registry = %client.registry().url, concurrency = args.concurrency, deps = args.deps, "fetching");
    pipeline.progress = Some(Progress::new("packages", None));
    let (tx, rx) = mpsc::channel::<Budgeted>(256);
    let producer = Producer {
        client,
        budget: Budget::new(IN_FLIGHT_BYTES),
        deps: args.deps,
        max: args.max.unwrap_or(usize::MAX),
        concurrency: args.concurrency.max(1),
    };
    let (piped, ()) = tokio::join!(pipeline.run(rx), producer.run(initial, tx));
    if let Some(p) = pipeline.progress.take() {
        p.finish();
    }
    piped?;
    Ok(())
}

/// Stored packages to refresh: those marked stale, those written by an older normalizer,
/// then those checked longer ago than `age`, oldest first. Streamed, not loaded.
fn due_for_refresh(store: Store, age: Duration) -> BoxStream<'static, (String, Validators)> {
    let cutoff =
        DateTime::from_millis(DateTime::now().timestamp_millis() - i64::try_from(age.as_millis()).unwrap_or(0));
    store
        .due_for_refresh(NORMALIZER_VERSION, cutoff)
        .map(|d| (d.name, Validators { etag: d.etag, last_modified: d.last_modified }))
        .boxed()
}

struct Producer {
    client: RegistryClient,
    budget: Budget,
    deps: bool,
    max: usize,
    concurrency: usize,
}

impl Producer {
    /// Fetches `initial` (and, with `deps`, what they depend on) with bounded concurrency,
    /// handing each answer to the pipeline.
    async fn run(self, mut initial: BoxStream<'static, (String, Validators)>, tx: mpsc::Sender<Budgeted>) {
        let mut seen: HashSet<String> = HashSet::new();
        let mut deps_queue: VecDeque<String> = VecDeque::new();
        let mut inflight = FuturesUnordered::new();
        let mut started = 0usize;
        let mut initial_done = false;
        loop {
            while inflight.len() < self.concurrency && started < self.max {
                // dependencies were checked against `seen` when queued
                let next = match deps_queue.pop_front() {
                    Some(n) => Some((n, Validators::default())),
                    None if !initial_done => match initial.next().await {
                        Some((n, v)) if seen.insert(n.clone()) => Some((n, v)),
                        Some(_) => continue,
                        None => {
                            initial_done = true;
                            None
                        }
                    },
                    None => None,
                };
                let Some((name, validators)) = next else {
                    break;
                };
                started += 1;
                let client = &self.client;
                inflight.push(async move {
                    let result = client.packument(&name, &validators).await;
                    (name, result)
                });
            }
            let Some((name, result)) = inflight.next().await else {
                break;
            };
            let incoming = self.answer(&name, result, &mut seen, &mut deps_queue).await;
            let item = Item { origin: format!("fetch {name}"), seq: None, incoming };
            if tx.send(self.budget.admit(item).await).await.is_err() {
                break; // the pipeline stopped
            }
        }
    }

    async fn answer(
        &self,
        name: &str,
        result: Result<Fetched, FetchError>,
        seen: &mut HashSet<String>,
        deps_queue: &mut VecDeque<String>,
    ) -> Incoming {
        match result {
            Ok(Fetched::Doc { body, etag, last_modified }) => {
                let doc: Box<RawValue> = match serde_json::from_slice(&body) {
                    Ok(d) => d,
                    Err(e) => {
                        return Incoming::Bad { name: Some(name.to_string()), reason: format!("invalid JSON: {e}") };
                    }
                };
                drop(body);
                if !self.deps {
                    return doc_item(name, doc, etag, last_modified);
                }
                let hint = name.to_string();
                let worked = tokio::task::spawn_blocking(move || {
                    let targets = latest_targets(&doc, Some(&hint));
                    (doc, targets)
                })
                .await;
                let Ok((doc, targets)) = worked else {
                    return Incoming::Bad {
                        name: Some(name.to_string()),
                        reason: "reading its dependencies failed".into(),
                    };
                };
                for t in targets.into_iter().flat_map(|t| t.prod.into_iter().chain(t.dev)) {
                    if seen.insert(t.clone()) {
                        deps_queue.push_back(t);
                    }
                }
                doc_item(name, doc, etag, last_modified)
            }
            Ok(Fetched::NotModified) => Incoming::NotModified { name: name.to_string() },
            Ok(Fetched::Gone) => {
                tracing::info!(package.name = %name, "not in the registry (404)");
                Incoming::Deleted { name: name.to_string(), rev: None }
            }
            Err(e @ FetchError::Exhausted { .. }) => Incoming::Failed { name: name.to_string(), reason: e.to_string() },
            Err(FetchError::Permanent { reason, .. }) if reason.contains("limit") => {
                Incoming::Bad { name: Some(name.to_string()), reason }
            }
            Err(e @ FetchError::Permanent { .. }) => Incoming::Failed { name: name.to_string(), reason: e.to_string() },
        }
    }
}

fn doc_item(name: &str, doc: Box<RawValue>, etag: Option<String>, last_modified: Option<String>) -> Incoming {
    Incoming::Doc(DocItem { hint: Some(name.to_string()), rev: None, change_rev: None, doc, etag, last_modified })
}
