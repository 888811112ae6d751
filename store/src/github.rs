//! GitHub activity: one `github` document per repository (`_id` = `owner/repo` in lower
//! case, as the indexer normalized it from a package's `repository`), linked to the
//! packages that name it (a monorepo's many packages share one document and one refresh).
//!
//! `due_at` is when a repository's data is from: a refresh takes those older than its
//! `--max-age`, oldest first, through one index. A new repository's is the epoch made
//! earlier by one second per dependent of its most depended-upon package (importance
//! folded in, as for download jobs), so new repositories come before any refresh, the most
//! depended-upon first. The last good data stays when a refresh fails; the failure is
//! recorded beside it.

use futures::TryStreamExt;
use mongodb::bson::{DateTime, Document, doc};
use serde::{Deserialize, Serialize};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};

/// Most packages linked to one repository (DefinitelyTyped holds ~9,000): past it, the
/// others still find the repository by key, but a change does not renumber them.
pub const MAX_LINKED: usize = 20_000;

/// The key of a repository: `owner/repo`, lower case (GitHub's names are case-insensitive).
pub fn key(owner: &str, repo: &str) -> String {
    format!("{}/{}", owner.to_lowercase(), repo.to_lowercase())
}

/// What GitHub says about a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RepoFacts {
    pub stars: i64,
    pub forks: i64,
    /// Issues and pull requests together, as GitHub counts them.
    pub open_issues: i64,
    pub watchers: i64,
    pub default_branch: Option<String>,
    pub archived: bool,
    pub pushed_at: Option<DateTime>,
    pub description: Option<String>,
    pub topics: Vec<String>,
}

/// The latest commit on the default branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Commit {
    pub sha: String,
    /// The first line of the message.
    pub message: String,
    pub author: Option<String>,
    pub date: Option<DateTime>,
    pub url: Option<String>,
}

/// Validators of the last answers, for conditional requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Etags {
    pub repo: Option<String>,
    pub commit: Option<String>,
    pub activity: Option<String>,
}

/// One repository's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GithubRepo {
    #[serde(rename = "_id")]
    pub key: String,
    /// As GitHub spells them now (after a rename, the new name).
    pub owner: String,
    pub repo: String,
    /// Packages naming this repository (at most [`MAX_LINKED`]).
    #[serde(default)]
    pub packages: Vec<String>,
    /// Dependents of its most depended-upon package.
    #[serde(default)]
    pub priority: i64,
    /// When its data is from (see the module's comment).
    pub due_at: DateTime,
    pub facts: Option<RepoFacts>,
    pub latest_commit: Option<Commit>,
    /// Commits per week, the last 52 weeks, oldest first.
    pub weekly_commits: Option<Vec<i64>>,
    /// GitHub was still computing the weekly counts at the last refresh (it answers 202).
    #[serde(default)]
    pub activity_pending: bool,
    #[serde(default)]
    pub etags: Etags,
    /// When the last refresh got an answer (200 or 304).
    pub fetched_at: Option<DateTime>,
    /// Why the last refresh failed, else `None`.
    pub error: Option<String>,
    /// 404 or 451: the repository is gone (why).
    pub gone: Option<String>,
    /// Refreshes failed in a row (backs the next one off).
    #[serde(default)]
    pub failures: i32,
    /// The linked package with the most dependents: a browse list's entry for the repository.
    pub top_package: Option<String>,
    /// Derived when saved, for the browse lists' indexes: the stars, and the commits of the
    /// last [`ACTIVE_WEEKS`] weeks.
    #[serde(default)]
    pub stars: i64,
    #[serde(default)]
    pub recent_commits: i64,
}

/// Weeks counted by "most active".
pub const ACTIVE_WEEKS: usize = 12;

/// Commits in the last [`ACTIVE_WEEKS`] of `weeks` (oldest first).
pub fn recent_commits(weeks: &[i64]) -> i64 {
    weeks.iter().rev().take(ACTIVE_WEEKS).map(|n| (*n).max(0)).sum()
}

impl GithubRepo {
    /// Whether a page shows the same of `self` and `other`: a refresh renumbers the linked
    /// packages only when it does not.
    pub fn shows_as(&self, other: &GithubRepo) -> bool {
        self.facts == other.facts
            && self.latest_commit == other.latest_commit
            && self.weekly_commits == other.weekly_commits
            && self.gone == other.gone
            && (self.owner.as_str(), self.repo.as_str()) == (other.owner.as_str(), other.repo.as_str())
    }
}

/// A package naming a GitHub repository, found by [`Store::github_links_since`].
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub package: String,
    pub owner: String,
    pub repo: String,
    pub dependents: i64,
}

/// `due` made earlier by one second per dependent (at most a year's worth).
pub fn folded(due: DateTime, dependents: i64) -> DateTime {
    let bonus = dependents.clamp(0, 365 * 86_400) * 1000;
    DateTime::from_millis(due.timestamp_millis().saturating_sub(bonus))
}

fn decode(d: Document) -> Result<GithubRepo> {
    mongodb::bson::from_document(d).map_err(|e| StoreError::decode(coll::GITHUB, e))
}

impl Store {
    /// Packages written after `seq` (in `seq` order, at most `limit`) whose latest version
    /// names a GitHub repository, and the highest `seq` read (to continue from).
    pub async fn github_links_since(&self, seq: i64, limit: i64) -> Result<(Vec<Link>, Option<i64>)> {
        let docs: Vec<Document> = self
            .packages()
            .find(doc! { "seq": { "$gt": seq } })
            .sort(doc! { "seq": 1 })
            .limit(limit)
            .projection(doc! {
                "seq": 1, "state": 1, "dependents_count": 1,
                "latest_version.repository.hosted": 1,
            })
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?;
        let last = docs.iter().filter_map(|d| d.get_i64("seq").ok()).max();
        let links = docs
            .iter()
            .filter(|d| d.get_str("state").is_ok_and(|s| s == "active"))
            .filter_map(|d| {
                let hosted = d.get_document("latest_version").ok()?.get_document("repository").ok()?;
                let hosted = hosted.get_document("hosted").ok()?;
                if hosted.get_str("host").ok()? != "github" {
                    return None;
                }
                Some(Link {
                    package: d.get_str("_id").ok()?.to_string(),
                    owner: hosted.get_str("owner").ok()?.to_string(),
                    repo: hosted.get_str("repo").ok()?.to_string(),
                    dependents: d
                        .get_i64("dependents_count")
                        .or_else(|_| d.get_i32("dependents_count").map(i64::from))
                        .unwrap_or(0),
                })
            })
            .collect();
        Ok((links, last))
    }

    /// Links `link.package` to its repository, creating the repository's document (due
    /// before any refresh, earlier the more depended upon) when it is new, and makes it the
    /// repository's top package when it has more dependents than the one before.
    pub async fn github_link(&self, link: &Link) -> Result<()> {
        let key = key(&link.owner, &link.repo);
        let linked = self
            .collection(coll::GITHUB)
            .update_one(
                doc! { "_id": &key, "packages.19999": { "$exists": false } },
                doc! {
                    "$addToSet": { "packages": &link.package },
                    "$setOnInsert": {
                        "owner": &link.owner, "repo": &link.repo,
                        "due_at": folded(DateTime::from_millis(0), link.dependents), "etags": {}, "failures": 0,
                        "priority": link.dependents, "top_package": &link.package, "stars": 0, "recent_commits": 0,
                    },
                },
            )
            .upsert(true)
            .await;
        match linked {
            Ok(_) => {}
            // the document exists with MAX_LINKED packages: the filter missed it and the
            // upsert collided with its `_id`; its links stay as they are
            Err(e) if is_duplicate_key(&e) => {}
            Err(e) => return Err(StoreError::mongo("update", coll::GITHUB)(e)),
        }
        self.collection(coll::GITHUB)
            .update_one(
                doc! { "_id": &key, "priority": { "$lt": link.dependents } },
                doc! { "$set": { "priority": link.dependents, "top_package": &link.package } },
            )
            .await
            .map_err(StoreError::mongo("update", coll::GITHUB))?;
        Ok(())
    }

    /// At most `limit` repositories whose data is from `before` or earlier (new ones first).
    pub async fn github_due(&self, before: DateTime, limit: i64) -> Result<Vec<GithubRepo>> {
        let docs: Vec<Document> = self
            .collection(coll::GITHUB)
            .find(doc! { "due_at": { "$lte": before } })
            .sort(doc! { "due_at": 1 })
            .limit(limit)
            .await
            .map_err(StoreError::mongo("find", coll::GITHUB))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::GITHUB))?;
        docs.into_iter().map(decode).collect()
    }

    /// Repositories whose data is from `before` or earlier (for `status`).
    pub async fn github_due_count(&self, before: DateTime) -> Result<u64> {
        self.collection(coll::GITHUB)
            .count_documents(doc! { "due_at": { "$lte": before } })
            .await
            .map_err(StoreError::mongo("count", coll::GITHUB))
    }

    /// The repository `owner/repo` as last refreshed, if it is known.
    pub async fn github_repo(&self, owner: &str, repo: &str) -> Result<Option<GithubRepo>> {
        let found = self
            .collection(coll::GITHUB)
            .find_one(doc! { "_id": key(owner, repo) })
            .await
            .map_err(StoreError::mongo("find", coll::GITHUB))?;
        found.map(decode).transpose()
    }

    /// Writes a refreshed `repo` (its whole document but the links, which discovery keeps)
    /// and, when what a page shows changed from `before`, renumbers its packages.
    pub async fn github_save(&self, before: &GithubRepo, repo: &GithubRepo) -> Result<bool> {
        let mut set = mongodb::bson::to_document(repo).map_err(|e| StoreError::encode(coll::GITHUB, e))?;
        for field in ["_id", "packages", "priority", "top_package"] {
            set.remove(field);
        }
        // what the browse lists sort by (a gone repository drops out of them)
        let live = repo.gone.is_none();
        set.insert("stars", if live { repo.facts.as_ref().map_or(0, |f| f.stars) } else { 0 });
        set.insert("recent_commits", if live { repo.weekly_commits.as_deref().map_or(0, recent_commits) } else { 0 });
        set.insert("archived", repo.facts.as_ref().is_some_and(|f| f.archived));
        self.collection(coll::GITHUB)
            .update_one(doc! { "_id": &repo.key }, doc! { "$set": set })
            .await
            .map_err(StoreError::mongo("update", coll::GITHUB))?;
        let changed = !before.shows_as(repo);
        if changed {
            self.bump_packages(&repo.packages).await?;
        }
        Ok(changed)
    }
}

fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    matches!(
        e.kind.as_ref(),
        mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) if w.code == 11000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_importance_moves_the_due_time() {
        assert_eq!(key("Microsoft", "TypeScript"), "microsoft/typescript");
        let now = DateTime::from_millis(1_000_000_000_000);
        assert_eq!(folded(now, 0), now);
        assert_eq!(folded(now, 10).timestamp_millis(), now.timestamp_millis() - 10_000);
        assert_eq!(folded(now, -5), now, "no negative bonus");
    }
}
