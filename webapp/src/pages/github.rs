//! The module page's GitHub box: what `nodules-downloader github` stored about the shown
//! version's repository, or why there is nothing (no repository, not on GitHub, not
//! fetched yet, gone). The 52-week commit graph is drawn by the template as SVG bars from
//! the numbers here (no text from GitHub inside it), with an accessible title.

use nodules_store::github::GithubRepo;
use serde::Serialize;

use crate::format::rfc3339;

use crate::package_data::PackageData;

/// Width of one week's bar in the sparkline, and its height at most (SVG units).
pub const BAR_STEP: i64 = 4;
pub const GRAPH_HEIGHT: i64 = 32;

/// What the box shows.
#[derive(Debug, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GithubView {
    /// The version gives no repository.
    NoRepository,
    /// Its repository is elsewhere (`host`: GitLab, Bitbucket, a URL).
    NotOnGithub {
        host: String,
    },
    /// On GitHub, not refreshed yet.
    NotFetched {
        owner: String,
        repo: String,
    },
    /// GitHub says 404 or 451.
    Gone {
        owner: String,
        repo: String,
        why: String,
        fetched_at: Option<String>,
    },
    Shown(Box<Shown>),
}

#[derive(Debug, Serialize)]
pub struct Shown {
    pub owner: String,
    pub repo: String,
    pub url: String,
    pub stars: i64,
    pub forks: i64,
    pub open_issues: i64,
    pub archived: bool,
    pub pushed_at: Option<String>,
    pub fetched_at: Option<String>,
    /// Why the last refresh failed (the data shown is the last good one).
    pub error: Option<String>,
    pub description: Option<String>,
    pub commit: Option<CommitView>,
    /// `Some` once GitHub computed them: the bars and the year's total.
    pub graph: Option<Graph>,
    /// GitHub was still computing the weekly counts at the last refresh.
    pub graph_pending: bool,
    /// The package's folder in a monorepo: the activity is the whole repository's.
    pub directory: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CommitView {
    pub short_sha: String,
    pub message: String,
    pub author: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Graph {
    pub total: i64,
    pub width: i64,
    pub height: i64,
    /// `(x, y, height)` of each week's bar, oldest first.
    pub bars: Vec<(i64, i64, i64)>,
}

/// The sparkline of `weeks` (oldest first): bars scaled to the busiest week, an empty week
/// a 1-unit baseline.
pub fn graph(weeks: &[i64]) -> Graph {
    let max = weeks.iter().copied().max().unwrap_or(0).max(1);
    let bars = weeks
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let h = if n <= 0 { 1 } else { (n * (GRAPH_HEIGHT - 1) / max).max(1) + 1 };
            (i as i64 * BAR_STEP, GRAPH_HEIGHT - h, h)
        })
        .collect();
    Graph {
        total: weeks.iter().copied().map(|n| n.max(0)).sum(),
        width: weeks.len() as i64 * BAR_STEP,
        height: GRAPH_HEIGHT,
        bars,
    }
}

pub fn view(d: &PackageData) -> GithubView {
    let Some(repository) = d.version.repository.as_ref() else { return GithubView::NoRepository };
    let Some((owner, repo)) = d.github_name() else {
        let host = repository
            .hosted
            .as_ref()
            .map(|h| h.host.as_str().to_string())
            .unwrap_or_else(|| "another host".to_string());
        return GithubView::NotOnGithub { host };
    };
    let Some(g) = d.github.as_ref().filter(|g| g.fetched_at.is_some()) else {
        return GithubView::NotFetched { owner: owner.to_string(), repo: repo.to_string() };
    };
    if let Some(why) = &g.gone {
        return GithubView::Gone {
            owner: g.owner.clone(),
            repo: g.repo.clone(),
            why: why.clone(),
            fetched_at: rfc3339(g.fetched_at),
        };
    }
    GithubView::Shown(Box::new(shown(g, repository.directory.clone())))
}

fn shown(g: &GithubRepo, directory: Option<String>) -> Shown {
    let facts = g.facts.clone().unwrap_or_default();
    Shown {
        url: format!("https://github.com/{}/{}", g.owner, g.repo),
        owner: g.owner.clone(),
        repo: g.repo.clone(),
        stars: facts.stars,
        forks: facts.forks,
        open_issues: facts.open_issues,
        archived: facts.archived,
        pushed_at: rfc3339(facts.pushed_at),
        fetched_at: rfc3339(g.fetched_at),
        error: g.error.clone(),
        description: facts.description,
        commit: g.latest_commit.as_ref().map(|c| CommitView {
            short_sha: c.sha.chars().take(7).collect(),
            message: c.message.clone(),
            author: c.author.clone(),
            date: rfc3339(c.date),
            // only GitHub's own commit pages are linked
            url: c.url.clone().filter(|u| u.starts_with("https://github.com/")),
        }),
        graph: g.weekly_commits.as_deref().map(graph),
        graph_pending: g.activity_pending && g.weekly_commits.is_none(),
        directory: directory.filter(|d| !d.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_busiest_week() {
        let mut weeks = vec![0; 52];
        weeks[51] = 10;
        weeks[50] = 5;
        let g = graph(&weeks);
        assert_eq!((g.total, g.width, g.bars.len()), (15, 208, 52));
        assert_eq!(g.bars[51], (204, 0, GRAPH_HEIGHT), "the busiest week is full height");
        assert_eq!(g.bars[0], (0, GRAPH_HEIGHT - 1, 1), "an empty week is the baseline");
        assert!(g.bars[50].2 > 1 && g.bars[50].2 < GRAPH_HEIGHT);
        assert_eq!(graph(&[0; 52]).total, 0);
    }
}
