//! Browse lists. "Most depended upon", "recently updated", "most starred" and "most active"
//! are precomputed documents (`browse_lists`, one key read per page): the indexer keeps
//! "recent" current with every batch it writes, `dependents --rerank` rebuilds the first
//! two, and each GitHub refresh run the last two (one entry per repository: its most
//! depended-upon package). Keyword and person lists are indexed filters, never sorted by
//! the server; sorted by stars or activity, their entries' repositories are read by key.

use futures::TryStreamExt;
use mongodb::bson::{Bson, DateTime, Document, doc};
use serde::{Deserialize, Serialize};

use crate::db::{Store, coll};
use crate::error::{Result, StoreError};
use crate::model::int_field;

/// Entries kept in a precomputed list.
pub const BROWSE_LIST_LEN: usize = 1000;
/// Hours back tried in turn for "recently updated" below its first floor: 1, 2, 4 … 2^18.
const RECENT_STEPS: u32 = 19;
/// Matches read for a keyword or person list (sorted by popularity here).
const FILTER_LIMIT: i64 = 1000;

/// One line of a browse list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListItem {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    /// Unknown for the "recent" list, whose entries are written with their package.
    pub dependents_count: Option<i64>,
    /// RFC 3339, so that strings sort as times.
    pub modified: Option<String>,
    pub deprecated: bool,
    /// The GitHub repository's stars and commits of the last 12 weeks, in lists that show them.
    #[serde(default)]
    pub stars: Option<i64>,
    #[serde(default)]
    pub commits: Option<i64>,
}

/// A repository's figures that lists and search read (derived when it is saved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GithubCounts {
    pub stars: i64,
    /// Commits in the last 12 weeks.
    pub recent_commits: i64,
    pub archived: bool,
}

/// How a keyword or person list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListSort {
    #[default]
    Dependents,
    Stars,
    /// Commits in the last 12 weeks.
    Activity,
}

/// Which browse list.
#[derive(Debug, Clone)]
pub enum BrowseList {
    MostDepended,
    Recent,
    MostStarred,
    MostActive,
    Keyword(String),
    Person(String),
}

const PROJECTION: fn() -> Document = || {
    doc! {
        "latest": 1, "latest_version.description": 1, "latest_version.deprecated": 1,
        "dependents_count": 1, "modified": 1,
    }
};

fn count(d: &Document, key: &str) -> i64 {
    int_field(d, key).unwrap_or(0)
}

fn name(d: &Document) -> &str {
    d.get_str("_id").unwrap_or_default()
}

fn item(d: &Document) -> ListItem {
    let latest = d.get_document("latest_version").ok();
    ListItem {
        name: name(d).to_string(),
        version: d.get_str("latest").ok().map(str::to_string),
        description: latest.and_then(|l| l.get_str("description").ok()).map(|s| s.chars().take(300).collect()),
        dependents_count: Some(count(d, "dependents_count")),
        modified: d.get_datetime("modified").ok().and_then(|t| t.try_to_rfc3339_string().ok()),
        deprecated: latest.and_then(|l| l.get_str("deprecated").ok()).is_some(),
        stars: None,
        commits: None,
    }
}

/// The GitHub key (`owner/repo`) of a package document's latest repository, if on GitHub
/// (the document read with `latest_version.repository.hosted`).
pub fn github_key(d: &Document) -> Option<String> {
    let hosted = d.get_document("latest_version").ok()?.get_document("repository").ok()?.get_document("hosted").ok()?;
    if hosted.get_str("host").ok()? != "github" {
        return None;
    }
    Some(crate::github::key(hosted.get_str("owner").ok()?, hosted.get_str("repo").ok()?))
}

impl Store {
    /// A whole browse list (at most [`BROWSE_LIST_LEN`] entries).
    pub async fn browse(&self, list: &BrowseList) -> Result<Vec<ListItem>> {
        self.browse_sorted(list, ListSort::Dependents).await
    }

    /// A whole browse list; keyword and person lists in `sort` order (the others have theirs).
    pub async fn browse_sorted(&self, list: &BrowseList, sort: ListSort) -> Result<Vec<ListItem>> {
        let filter = match list {
            BrowseList::MostDepended => return self.stored_list("depended").await,
            BrowseList::Recent => return self.stored_list("recent").await,
            BrowseList::MostStarred => return self.stored_list("starred").await,
            BrowseList::MostActive => return self.stored_list("active").await,
            BrowseList::Keyword(k) => doc! { "kw": k.to_lowercase(), "state": "active" },
            BrowseList::Person(p) => doc! { "people": p.to_lowercase(), "state": "active" },
        };
        let mut items = self.list_items(filter, FILTER_LIMIT, sort != ListSort::Dependents).await?;
        let by_name = |a: &ListItem, b: &ListItem| a.name.cmp(&b.name);
        match sort {
            ListSort::Dependents => {
                items.sort_by(|a, b| b.dependents_count.cmp(&a.dependents_count).then_with(|| by_name(a, b)))
            }
            ListSort::Stars => items.sort_by(|a, b| b.stars.cmp(&a.stars).then_with(|| by_name(a, b))),
            ListSort::Activity => items.sort_by(|a, b| b.commits.cmp(&a.commits).then_with(|| by_name(a, b))),
        }
        Ok(items)
    }

    /// Packages matching `filter` as list entries, at most `limit`; with `github`, their
    /// repositories' stars and recent commits too (read by key, [`crate::bulk::IN_LIST_MAX`]
    /// at a time).
    async fn list_items(&self, filter: Document, limit: i64, github: bool) -> Result<Vec<ListItem>> {
        let mut projection = PROJECTION();
        if github {
            projection.insert("latest_version.repository.hosted", 1);
        }
        let docs: Vec<Document> = self
            .packages()
            .find(filter)
            .limit(limit)
            .projection(projection)
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?
            .try_collect()
            .await
            .map_err(StoreError::mongo("find", coll::PACKAGES))?;
        let mut items: Vec<ListItem> = docs.iter().map(item).collect();
        if github {
            let keys: Vec<Option<String>> = docs.iter().map(github_key).collect();
            let wanted: Vec<String> = keys.iter().flatten().cloned().collect();
            let found = self.github_counts(&wanted).await?;
            for (item, key) in items.iter_mut().zip(keys) {
                let counts = key.and_then(|k| found.get(&k).copied());
                item.stars = Some(counts.map_or(0, |c| c.stars));
                item.commits = Some(counts.map_or(0, |c| c.recent_commits));
            }
        }
        Ok(items)
    }

    /// What lists and search read of the repositories `keys`, by key.
    pub async fn github_counts(&self, keys: &[String]) -> Result<std::collections::HashMap<String, GithubCounts>> {
        let mut out = std::collections::HashMap::new();
        for chunk in keys.chunks(crate::bulk::IN_LIST_MAX) {
            let docs: Vec<Document> = self
                .collection(coll::GITHUB)
                .find(doc! { "_id": { "$in": chunk } })
                .projection(doc! { "stars": 1, "recent_commits": 1, "archived": 1 })
                .await
                .map_err(StoreError::mongo("find", coll::GITHUB))?
                .try_collect()
                .await
                .map_err(StoreError::mongo("find", coll::GITHUB))?;
            for d in docs {
                let counts = GithubCounts {
                    stars: count(&d, "stars"),
                    recent_commits: count(&d, "recent_commits"),
                    archived: d.get_bool("archived").unwrap_or(false),
                };
                out.insert(name(&d).to_string(), counts);
            }
        }
        Ok(out)
    }

    /// Recomputes "most starred" and "most active" from the `github` collection: one entry
    /// per repository, its most depended-upon package (off the request path: after each
    /// GitHub refresh run). Read by a range on the indexed count, as [`Self::rebuild_browse_lists`]
    /// does, never below 1 (a repository without stars or recent commits is in neither).
    pub async fn rebuild_github_lists(&self) -> Result<()> {
        for (id, field) in [("starred", "stars"), ("active", "recent_commits")] {
            let last = self
                .stored_list(id)
                .await?
                .get(BROWSE_LIST_LEN - 1)
                .and_then(|i| if field == "stars" { i.stars } else { i.commits });
            let from = last.unwrap_or(1 << 20).max(1);
            let floors = std::iter::successors(Some(from), |f| (*f > 1).then_some((f / 4).max(1)));
            let mut repos = Vec::new();
            for floor in floors {
                repos = self
                    .collection(coll::GITHUB)
                    .find(doc! { field: { "$gte": floor } })
                    .projection(doc! { "stars": 1, "recent_commits": 1, "top_package": 1 })
                    .batch_size(crate::bulk::SCAN_BATCH)
                    .await
                    .map_err(StoreError::mongo("find", coll::GITHUB))?
                    .try_collect::<Vec<Document>>()
                    .await
                    .map_err(StoreError::mongo("find", coll::GITHUB))?;
                if repos.len() >= BROWSE_LIST_LEN || floor == 1 {
                    break;
                }
            }
            repos.sort_by(|a, b| count(b, field).cmp(&count(a, field)).then_with(|| name(a).cmp(name(b))));
            repos.truncate(BROWSE_LIST_LEN);
            let names: Vec<String> =
                repos.iter().filter_map(|r| r.get_str("top_package").ok().map(str::to_string)).collect();
            let mut packages = std::collections::HashMap::new();
            for chunk in names.chunks(crate::bulk::IN_LIST_MAX) {
                let mut projection = PROJECTION();
                projection.insert("state", 1);
                let docs: Vec<Document> = self
                    .packages()
                    .find(doc! { "_id": { "$in": chunk } })
                    .projection(projection)
                    .await
                    .map_err(StoreError::mongo("find", coll::PACKAGES))?
                    .try_collect()
                    .await
                    .map_err(StoreError::mongo("find", coll::PACKAGES))?;
                for d in docs.into_iter().filter(|d| d.get_str("state") == Ok("active")) {
                    packages.insert(name(&d).to_string(), d);
                }
            }
            let items: Vec<ListItem> = repos
                .iter()
                .filter_map(|r| {
                    let d = packages.get(r.get_str("top_package").ok()?)?;
                    Some(ListItem {
                        stars: Some(count(r, "stars")),
                        commits: Some(count(r, "recent_commits")),
                        ..item(d)
                    })
                })
                .collect();
            self.save_list(id, &items).await?;
        }
        Ok(())
    }

    async fn stored_list(&self, id: &str) -> Result<Vec<ListItem>> {
        let d = self
            .collection(coll::BROWSE_LISTS)
            .find_one(doc! { "_id": id })
            .await
            .map_err(StoreError::mongo("find", coll::BROWSE_LISTS))?;
        let Some(d) = d else { return Ok(Vec::new()) };
        Ok(d.get_array("items")
            .map(|a| a.iter().filter_map(|b| mongodb::bson::from_bson(b.clone()).ok()).collect())
            .unwrap_or_default())
    }

    async fn save_list(&self, id: &str, items: &[ListItem]) -> Result<()> {
        let items = mongodb::bson::to_bson(items).map_err(|e| StoreError::encode(coll::BROWSE_LISTS, e))?;
        self.collection(coll::BROWSE_LISTS)
            .update_one(doc! { "_id": id }, doc! { "$set": { "items": items, "at": DateTime::now() } })
            .upsert(true)
            .await
            .map_err(StoreError::mongo("update", coll::BROWSE_LISTS))?;
        Ok(())
    }

    /// Merges packages just written into "recent" (newest first) and drops `removed` ones.
    pub async fn update_recent(&self, written: Vec<ListItem>, removed: &[String]) -> Result<()> {
        if written.is_empty() && removed.is_empty() {
            return Ok(());
        }
        let mut items = self.stored_list("recent").await?;
        let changed: std::collections::HashSet<&str> =
            written.iter().map(|i| i.name.as_str()).chain(removed.iter().map(String::as_str)).collect();
        items.retain(|i| !changed.contains(i.name.as_str()));
        let mut written = written;
        written.iter_mut().for_each(|i| i.dependents_count = None);
        items.extend(written);
        items.sort_by(|a, b| b.modified.cmp(&a.modified).then_with(|| a.name.cmp(&b.name)));
        items.truncate(BROWSE_LIST_LEN);
        self.save_list("recent", &items).await
    }

    /// Recomputes both precomputed lists from the packages (cron: `dependents --rerank`).
    /// Off the request path.
    ///
    /// Each is read by a range on its indexed sort key, not by a sorted `find` with a
    /// `limit`: the development server applies `limit` after materializing every match (at
    /// 1M packages it then answered nothing within the driver's 10 s heartbeat and the
    /// rerank failed). The range starts at the stored list's last entry, which still holds
    /// about the list on the next run (counts and times move slowly), and widens only when
    /// it holds fewer: by quarters of the count, by doubling hours back. Fixed steps from
    /// "now" do not do: the synthetic registry's newest change is 11 months old and the
    /// step that first reached it read 125,406 packages in 35 s.
    pub async fn rebuild_browse_lists(&self) -> Result<()> {
        let last = self.stored_list("depended").await?.get(BROWSE_LIST_LEN - 1).and_then(|i| i.dependents_count);
        let from = last.unwrap_or(1 << 20).max(1);
        let floors = std::iter::successors(Some(from), |f| (*f > 1).then_some(f / 4)).map(Bson::Int64);
        let mut depended = self.top_by("dependents_count", floors).await?;
        depended.sort_by(|a, b| {
            count(b, "dependents_count").cmp(&count(a, "dependents_count")).then_with(|| name(a).cmp(name(b)))
        });
        depended.truncate(BROWSE_LIST_LEN);
        self.save_list("depended", &depended.iter().map(item).collect::<Vec<_>>()).await?;

        let now = DateTime::now().timestamp_millis();
        let last = self.stored_list("recent").await?.get(BROWSE_LIST_LEN - 1).and_then(|i| i.modified.clone());
        let last = last.and_then(|m| DateTime::parse_rfc3339_str(m).ok()).map(|t| t.timestamp_millis().min(now));
        let from = last.unwrap_or(now);
        let floors = last
            .into_iter()
            .chain((0..RECENT_STEPS).map(|k| from - (1i64 << k) * 3_600_000))
            .map(|ms| Bson::DateTime(DateTime::from_millis(ms)));
        let mut recent = self.top_by("modified", floors).await?;
        recent.sort_by(|a, b| {
            let at = |d: &Document| d.get_datetime("modified").ok().copied();
            at(b).cmp(&at(a)).then_with(|| name(a).cmp(name(b)))
        });
        recent.truncate(BROWSE_LIST_LEN);
        let mut items: Vec<ListItem> = recent.iter().map(item).collect();
        items.iter_mut().for_each(|i| i.dependents_count = None);
        self.save_list("recent", &items).await
    }

    /// The active packages whose `field` is at least the first of `floors` that gives
    /// [`BROWSE_LIST_LEN`] of them (every package when none does), unordered.
    async fn top_by(&self, field: &str, floors: impl Iterator<Item = Bson>) -> Result<Vec<Document>> {
        let mut projection = PROJECTION();
        projection.insert("state", 1);
        for floor in floors.map(Some).chain([None]) {
            let filter = match &floor {
                Some(f) => doc! { field: { "$gte": f.clone() } },
                None => doc! {},
            };
            let docs: Vec<Document> = self
                .packages()
                .find(filter)
                .projection(projection.clone())
                .batch_size(crate::bulk::SCAN_BATCH)
                .await
                .map_err(StoreError::mongo("find", coll::PACKAGES))?
                .try_filter(|d| std::future::ready(d.get_str("state") == Ok("active")))
                .try_collect()
                .await
                .map_err(StoreError::mongo("find", coll::PACKAGES))?;
            if docs.len() >= BROWSE_LIST_LEN || floor.is_none() {
                return Ok(docs);
            }
        }
        Ok(Vec::new())
    }
}
