//! Everything a package's page or API answer shows, loaded by key: the package record, the
//! shown version's record, its downloaded source, its dependents summary.

use std::collections::HashSet;

use nodules_store::github::GithubRepo;
use nodules_store::model::{Dependents, GitHostKind, Package, PackageState, Source, SourceState, VersionRecord};
use nodules_store::queue::{ON_DEMAND_PRIORITY, Wanted};

use crate::error::AppError;
use crate::state::AppState;

/// A published package and the version to show.
pub struct PackageData {
    pub package: Package,
    pub version: VersionRecord,
    pub is_latest: bool,
    pub source: Option<Source>,
    pub dependents: Option<Dependents>,
    /// The shown version's GitHub repository as last refreshed (read with the dependents).
    pub github: Option<GithubRepo>,
    /// Its download is queued (asked for by this visit or an earlier one); `false` past the
    /// on-demand bounds.
    pub queued: bool,
    /// What installing the shown version costs, once `nodules-indexer trees` resolved it
    /// (read with the dependents).
    pub install: Option<nodules_store::install::InstallSummary>,
}

impl PackageData {
    /// `(owner, repo)` of the shown version's repository when it is on GitHub.
    pub fn github_name(&self) -> Option<(&str, &str)> {
        let hosted = self.version.repository.as_ref()?.hosted.as_ref()?;
        (hosted.host == GitHostKind::Github).then_some((hosted.owner.as_deref()?, hosted.repo.as_str()))
    }

    /// The shown version's tarball is not downloaded yet: no README or facts of its own (a
    /// version downloaded again, released or redone, keeps its facts meanwhile).
    pub fn not_downloaded(&self) -> bool {
        self.source.as_ref().is_none_or(|s| s.state == SourceState::Pending && s.facts.is_none())
    }

    /// What a page says while [`PackageData::not_downloaded`] holds.
    pub fn not_downloaded_note(&self) -> &'static str {
        if self.queued {
            "This version is not downloaded yet: queued; reload in a few seconds."
        } else {
            "This version is not downloaded yet, and the download queue is full right now: reload in a minute."
        }
    }
}

/// What a package URL finds.
pub enum Found {
    Published(Box<PackageData>),
    /// Deleted or unpublished: what is known, for a 410.
    Gone(Box<Package>),
}

/// Loads `name` at `version` (the latest when `None`). A version whose tarball is not
/// downloaded yet is queued for the downloader at high priority, within the on-demand bounds
/// (`protect::on_demand`; past them it is not queued); nothing waits for it.
pub async fn load(app: &AppState, name: &str, version: Option<&str>) -> Result<Found, AppError> {
    load_with(app, name, version, Wants { bounded: false, dependents: true }).await
}

/// As [`load`], for the pages that show a version's files: past the on-demand bounds, the
/// answer is theirs (429 or 503 with `Retry-After`).
pub async fn load_files(app: &AppState, name: &str, version: Option<&str>) -> Result<Found, AppError> {
    load_with(app, name, version, Wants { bounded: true, dependents: true }).await
}

/// As [`load_files`], without the dependents (only pages about the whole package show
/// them). The package is read whole: leaving its version list out with a projection made
/// the read 3× slower on the development server (26 ms against 8 ms for typescript's
/// 276 KB record, which decodes and re-encodes a projected document).
pub async fn load_files_lean(app: &AppState, name: &str, version: Option<&str>) -> Result<Found, AppError> {
    load_with(app, name, version, Wants { bounded: true, dependents: false }).await
}

struct Wants {
    /// Past the on-demand bounds, fail (else: load without queuing).
    bounded: bool,
    /// Read the dependents and the GitHub activity too.
    dependents: bool,
}

async fn load_with(app: &AppState, name: &str, version: Option<&str>, wants: Wants) -> Result<Found, AppError> {
    let Wants { bounded, dependents: with_dependents } = wants;
    let store = app.store();
    let package = match record(app, name).await? {
        Some(p) if p.state != PackageState::Stub => p,
        _ => return Err(AppError::PackageNotFound { name: name.to_string() }),
    };
    if matches!(package.state, PackageState::Deleted | PackageState::Unpublished) {
        return Ok(Found::Gone(Box::new(package)));
    }
    let latest = package.latest.clone();
    let (record, is_latest) = match version {
        None => (package.latest_version.clone(), true),
        Some(v) if Some(v) == latest.as_deref() => (package.latest_version.clone(), true),
        Some(v) => (version_record(app, name, v).await?, false),
    };
    let Some(record) = record else {
        return Err(match version {
            Some(v) => AppError::VersionNotFound { name: name.to_string(), version: v.to_string() },
            None => AppError::PackageNotFound { name: name.to_string() },
        });
    };
    let source = store.source(name, &record.version).await?;
    let wanted = source
        .as_ref()
        .is_none_or(|s| s.state == SourceState::Pending || (s.tree_pages == 0 && s.state == SourceState::Done));
    // already asked for by a visitor: queued, nothing to add
    let queued = source.as_ref().is_some_and(|s| s.state == SourceState::Pending && s.priority >= ON_DEMAND_PRIORITY);
    if let Some(s) = &source
        && !is_latest
        && !wanted
        && s.priority >= ON_DEMAND_PRIORITY
    {
        app.0.on_demand.asked(store, name, &record.version).await;
    }
    let mut queued = queued;
    if wanted && !queued {
        match app.0.on_demand.admit(store).await {
            Ok(()) => queued = request(app, name, &record).await,
            Err(e) if bounded => return Err(e),
            Err(e) => tracing::debug!(package.name = %name, reason = %e, "not queued: on-demand bounds"),
        }
    }
    let mut data = PackageData {
        package,
        version: record,
        is_latest,
        source,
        dependents: None,
        github: None,
        queued,
        install: None,
    };
    if with_dependents {
        data.dependents = store.dependents(name).await?;
        data.install = store.install_summary(name, &data.version.version).await?;
        // an older version's tree is worked out on demand, by the next `trees` run
        if data.install.is_none()
            && !data.is_latest
            && let Err(e) = store.request_install(name, &data.version.version).await
        {
            tracing::warn!(package.name = %name, error = %e, "cannot ask for an install tree");
        }
        if let Some((owner, repo)) = data.github_name() {
            data.github = store.github_repo(owner, repo).await?;
        }
    }
    Ok(Found::Published(Box::new(data)))
}

/// The package's record: kept in memory until the package changes (see `PageCache`).
pub async fn record(app: &AppState, name: &str) -> Result<Option<Package>, AppError> {
    let cache = app.cache();
    if let Some(kept) = cache.record(name) {
        return Ok(Some(Package::clone(&kept)));
    }
    let mark = cache.mark();
    let Some(read) = app.store().package(name).await? else { return Ok(None) };
    let read = std::sync::Arc::new(read);
    cache.keep_record(read.clone(), mark);
    Ok(Some(std::sync::Arc::unwrap_or_clone(read)))
}

async fn version_record(app: &AppState, name: &str, version: &str) -> Result<Option<VersionRecord>, AppError> {
    Ok(app.store().version(name, version).await?)
}

/// Asks the downloader for this version, ahead of its background work; `false` when the
/// request could not be written.
async fn request(app: &AppState, name: &str, v: &VersionRecord) -> bool {
    let wanted = Wanted {
        package: name.to_string(),
        version: v.version.clone(),
        tarball: v.dist.tarball.clone(),
        integrity: v.dist.integrity.clone(),
        shasum: v.dist.shasum.clone(),
        priority: 0,
    };
    match app.store().request_download(wanted).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(package.name = %name, error = %e, "cannot queue a download");
            false
        }
    }
}

/// Which of `names` are indexed packages (one query).
pub async fn indexed(app: &AppState, names: Vec<String>) -> Result<HashSet<String>, AppError> {
    if names.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(app.store().active_among(names).await?.into_iter().collect())
}
