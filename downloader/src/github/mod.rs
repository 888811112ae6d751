//! `github`: GitHub activity for every package whose repository is on GitHub. Packages are
//! linked to their repository as the indexer writes them (followed by `seq`, from a
//! checkpoint); each repository is refreshed once per `--max-age`, the most depended-upon
//! first, with three conditional requests (facts, latest commit, weekly commit counts). A
//! failure keeps the last good data and records why; a spent rate limit ends the run
//! cleanly when its reset is far (the next run resumes).

pub mod client; // octocrab without its retry and redirect layers; rate limits
pub mod parse; // GitHub's answers -> what we keep, as hostile input

use std::collections::HashSet;
use std::time::{Duration, Instant};

use mongodb::bson::DateTime;
use nodules_npm::progress::Progress;
use nodules_store::Store;
use nodules_store::github::GithubRepo;

use crate::cli::GithubArgs;
use client::{GithubClient, Refused};

/// Where discovery stands in the packages' `seq`.
const CHECKPOINT: &str = "github";
/// Packages read per discovery batch.
const DISCOVER_BATCH: i64 = 1000;
/// Repositories read per batch of due ones.
const DUE_BATCH: i64 = 100;
/// How often a long-running refresh looks for new work.
const IDLE: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct Tally {
    refreshed: u64,
    not_modified: u64,
    failed: u64,
    gone: u64,
}

/// How one repository's refresh ended.
enum Outcome {
    /// Answered: the new document (`gone` set when GitHub says 404 or 451).
    Answered(Box<GithubRepo>),
    /// Failed: the old data, the error recorded.
    Failed(Box<GithubRepo>),
}

pub async fn run(store: Store, args: &GithubArgs) -> anyhow::Result<String> {
    let run = RunStart { at: DateTime::now(), clock: Instant::now() };
    let mut tally = Tally::default();
    let outcome = refresh_due(&store, args, &mut tally, &run).await;
    let line = record(&store, args, &run, outcome.is_ok(), &tally).await;
    outcome.map(|()| line)
}

/// When a run started, for its record.
struct RunStart {
    at: DateTime,
    clock: Instant,
}

/// Records the run so far as the `github` job's last run, as `/metrics` shows it: its
/// counts and the repositories still due. Returns its summary line.
async fn record(store: &Store, args: &GithubArgs, run: &RunStart, ok: bool, tally: &Tally) -> String {
    let line = format!(
        "refreshed {}, not modified {}, failed {}, gone {} in {:.1} s",
        tally.refreshed,
        tally.not_modified,
        tally.failed,
        tally.gone,
        run.clock.elapsed().as_secs_f64()
    );
    let due = store.github_due_count(before(args.max_age)).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot count the repositories due");
        0
    });
    let counts = [
        ("refreshed", tally.refreshed),
        ("not_modified", tally.not_modified),
        ("failed", tally.failed),
        ("gone", tally.gone),
        ("due", due),
    ];
    if let Err(e) = store.record_run("github", run.at, ok, &line, &counts).await {
        tracing::warn!(error = %e, "cannot record the run");
    }
    line
}

/// Refreshes every repository due, counting into `tally`.
async fn refresh_due(store: &Store, args: &GithubArgs, tally: &mut Tally, run: &RunStart) -> anyhow::Result<()> {
    let mut client = GithubClient::new(&args.github_api, args.token.as_deref(), args.backoff)?;
    if args.token.as_deref().is_none_or(str::is_empty) {
        tracing::info!("no GITHUB_TOKEN: GitHub allows 60 requests an hour without one (20 repositories)");
    }
    let progress = Progress::new("github", None);
    let mut seen: HashSet<String> = HashSet::new();
    'work: loop {
        discover(store).await?;
        let limit = DUE_BATCH + i64::try_from(seen.len()).unwrap_or(i64::MAX - DUE_BATCH);
        let due: Vec<GithubRepo> = store
            .github_due(before(args.max_age), limit)
            .await?
            .into_iter()
            .filter(|r| !seen.contains(&r.key))
            .collect();
        if due.is_empty() {
            if args.once {
                break;
            }
            store.rebuild_github_lists().await?;
            // a refresher that never ends records each pass, as a run of its own would
            record(store, args, run, true, tally).await;
            seen.clear();
            tokio::time::sleep(IDLE).await;
            continue;
        }
        for repo in due {
            seen.insert(repo.key.clone());
            let outcome = match refresh(&mut client, &repo, args).await {
                Ok(o) => o,
                Err(until) => {
                    eprintln!(
                        "nodules-downloader github: stopping: {until}; the next run resumes where this one stopped"
                    );
                    break 'work;
                }
            };
            match outcome {
                Outcome::Answered(new) => {
                    let changed = store.github_save(&repo, &new).await?;
                    if new.gone.is_some() {
                        tally.gone += 1;
                    } else if changed {
                        tally.refreshed += 1;
                    } else {
                        tally.not_modified += 1;
                    }
                }
                Outcome::Failed(new) => {
                    tracing::warn!(repository = %repo.key, error = new.error.as_deref().unwrap_or(""), "refresh failed");
                    store.github_save(&repo, &new).await?;
                    tally.failed += 1;
                }
            }
            progress.advance(1, None);
        }
    }
    progress.finish();
    // "most starred" and "most active" follow what this run learned
    store.rebuild_github_lists().await?;
    tracing::info!(requests = client.requests, "GitHub requests sent");
    Ok(())
}

/// Links the packages written since the last discovery to their repositories.
async fn discover(store: &Store) -> anyhow::Result<()> {
    let mut since: i64 = store.checkpoint(CHECKPOINT).await?.and_then(|s| s.parse().ok()).unwrap_or(0);
    loop {
        let (links, last) = store.github_links_since(since, DISCOVER_BATCH).await?;
        for link in &links {
            store.github_link(link).await?;
        }
        let Some(last) = last else { return Ok(()) };
        since = last;
        store.save_checkpoint(CHECKPOINT, &since.to_string()).await?;
    }
}

/// One repository refreshed: its facts, latest commit and weekly counts, each asked with
/// the validator of the last answer. `Err`: the rate limit is spent for longer than we wait.
async fn refresh(client: &mut GithubClient, old: &GithubRepo, args: &GithubArgs) -> Result<Outcome, Refused> {
    match answers(client, old, args).await {
        Ok(new) => Ok(Outcome::Answered(Box::new(new))),
        Err(Refused::Failed(why)) => {
            let mut failed = old.clone();
            failed.failures = old.failures.saturating_add(1);
            failed.error = Some(why);
            // an hour, doubled per failure in a row, at most the refresh age
            let wait = Duration::from_secs(3600).saturating_mul(1 << failed.failures.clamp(1, 10) as u32 >> 1);
            failed.due_at = retry_at(wait.min(args.max_age), args.max_age);
            Ok(Outcome::Failed(Box::new(failed)))
        }
        Err(limited) => Err(limited),
    }
}

/// Data older than `max_age`: what `due_at` must be at most (see [`retry_at`]).
fn before(max_age: Duration) -> DateTime {
    DateTime::from_millis(DateTime::now().timestamp_millis().saturating_sub(max_age.as_millis() as i64))
}

/// The `due_at` of a repository to ask again in `wait` rather than in `max_age`: `due_at`
/// is when its data is from (a refresh comes `max_age` later), so one `wait` from now is
/// `max_age` earlier than that.
fn retry_at(wait: Duration, max_age: Duration) -> DateTime {
    let now = DateTime::now().timestamp_millis();
    DateTime::from_millis(now.saturating_add(wait.as_millis() as i64).saturating_sub(max_age.as_millis() as i64))
}

async fn answers(client: &mut GithubClient, old: &GithubRepo, args: &GithubArgs) -> Result<GithubRepo, Refused> {
    let mut new = old.clone();
    new.error = None;
    // the repository, following a rename
    let mut path = format!("/repos/{}/{}", old.owner, old.repo);
    let mut etag = old.etags.repo.clone();
    let mut hops = 0;
    let answer = loop {
        let a = client.get(&path, etag.as_deref()).await?;
        if !matches!(a.status.as_u16(), 301 | 302 | 307 | 308) {
            break a;
        }
        hops += 1;
        let next = a.location.as_deref().and_then(|l| client.redirect_path(l));
        match next {
            Some(p) if hops <= 3 => {
                path = p;
                etag = None;
            }
            _ => return Err(Refused::Failed(format!("{path}: redirected {hops} times or off the API"))),
        }
    };
    let now = DateTime::now();
    match answer.status.as_u16() {
        304 => {}
        200 => {
            let (facts, full_name) = parse::repository(&answer.body).map_err(Refused::Failed)?;
            if let Some((owner, repo)) = full_name
                && (owner != old.owner || repo != old.repo)
            {
                tracing::info!(from = %old.key, to = %format!("{owner}/{repo}"), "repository renamed");
                new.owner = owner;
                new.repo = repo;
            }
            new.facts = Some(facts);
            new.etags.repo = answer.etag;
            new.gone = None;
        }
        404 | 410 | 451 => {
            new.gone = Some(match answer.status.as_u16() {
                451 => "unavailable for legal reasons (451)".to_string(),
                _ => "not found on GitHub (404)".to_string(),
            });
            new.fetched_at = Some(now);
            new.failures = 0;
            new.due_at = now;
            return Ok(new);
        }
        s => return Err(Refused::Failed(format!("{path}: unexpected answer {s}"))),
    }
    let base = format!("/repos/{}/{}", new.owner, new.repo);
    // the latest commit on the default branch
    let commits = client.get(&format!("{base}/commits?per_page=1"), old.etags.commit.as_deref()).await?;
    match commits.status.as_u16() {
        304 => {}
        200 => {
            new.latest_commit = parse::latest_commit(&commits.body).map_err(Refused::Failed)?;
            new.etags.commit = commits.etag;
        }
        // an empty repository
        409 => new.latest_commit = None,
        s => return Err(Refused::Failed(format!("{base}/commits: unexpected answer {s}"))),
    }
    // weekly commit counts: 202 while GitHub computes them (ask again soon, keep the old)
    let activity = client.get(&format!("{base}/stats/commit_activity"), old.etags.activity.as_deref()).await?;
    new.activity_pending = false;
    match activity.status.as_u16() {
        304 => {}
        200 => {
            new.weekly_commits = Some(parse::commit_activity(&activity.body).map_err(Refused::Failed)?);
            new.etags.activity = activity.etag;
        }
        202 => new.activity_pending = true,
        204 => new.weekly_commits = Some(vec![0; 52]),
        s => return Err(Refused::Failed(format!("{base}/stats/commit_activity: unexpected answer {s}"))),
    }
    new.fetched_at = Some(now);
    new.failures = 0;
    new.due_at = if new.activity_pending { retry_at(args.pending_retry, args.max_age) } else { now };
    Ok(new)
}
