//! Versions at a glance: the module page's one line per release line (the latest of each,
//! its date, how many versions it holds), and `/package/{name}/versions`, the whole history
//! page by page, filtered (stable, prerelease, deprecated), with releases per month drawn
//! as a server-rendered SVG. A package with 3,000 canaries no longer makes a 600 kB page.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::Response;
use nodules_store::model::{Package, VersionSummary};
use serde::Serialize;

use crate::error::{AppError, PageError};
use crate::respond::{CachePolicy, HTML, answer};
use crate::source::diff_page;
use crate::state::AppState;

/// Versions per page of the history.
pub const PER_PAGE: usize = 100;
/// Release lines the module page lists; older ones are on the history page.
const LINES_SHOWN: usize = 12;
/// Months the chart draws at most (the latest ones).
const CHART_MONTHS: usize = 120;

#[derive(Debug, Serialize)]
pub struct VersionRow {
    pub version: String,
    pub published: Option<String>,
    pub deprecated: bool,
    pub prerelease: bool,
    pub current: bool,
    /// The history page's link to the diff from the version listed below it.
    pub diff_url: Option<String>,
}

impl VersionRow {
    fn new(s: &VersionSummary, current: &str) -> VersionRow {
        VersionRow {
            version: s.version.clone(),
            published: s.published.and_then(|t| t.try_to_rfc3339_string().ok()),
            deprecated: s.deprecated.is_some(),
            prerelease: s.prerelease,
            current: s.version == current,
            diff_url: None,
        }
    }
}

/// One release line: `18.x`, or `0.14.x` below 1.0 (where a minor is a breaking change).
#[derive(Debug, Serialize)]
pub struct MajorLine {
    pub line: String,
    /// Its highest stable version (or highest prerelease when it has no stable one).
    pub latest: VersionRow,
    pub count: usize,
    pub prereleases: usize,
    pub deprecated: usize,
    /// The version shown on the page is in this line.
    pub current: bool,
}

/// The module page's versions: its release lines, newest first, and how many more there are.
#[derive(Debug, Serialize)]
pub struct Glance {
    pub lines: Vec<MajorLine>,
    pub more_lines: usize,
    pub prereleases: usize,
    pub deprecated: usize,
}

/// The release line `version` belongs to.
fn line_of(version: &str) -> String {
    let core = version.split(['-', '+']).next().unwrap_or(version);
    let mut parts = core.split('.');
    match (parts.next(), parts.next()) {
        (Some("0"), Some(minor)) => format!("0.{minor}.x"),
        (Some(major), _) => format!("{major}.x"),
        _ => version.to_string(),
    }
}

/// What one release line holds, tallied over its versions (highest first).
#[derive(Default)]
struct Tally<'a> {
    stable: Option<&'a VersionSummary>,
    prerelease: Option<&'a VersionSummary>,
    count: usize,
    prereleases: usize,
    deprecated: usize,
    current: bool,
}

/// Lines of `p`'s versions (kept highest first), `current` marked.
pub fn glance(p: &Package, current: &str) -> Glance {
    let mut order: Vec<String> = Vec::new();
    let mut lines: BTreeMap<String, Tally> = BTreeMap::new();
    for v in &p.versions {
        let line = line_of(&v.version);
        let t = lines.entry(line.clone()).or_insert_with(|| {
            order.push(line);
            Tally::default()
        });
        if v.prerelease {
            t.prerelease.get_or_insert(v);
            t.prereleases += 1;
        } else {
            t.stable.get_or_insert(v);
        }
        t.count += 1;
        t.deprecated += usize::from(v.deprecated.is_some());
        t.current |= v.version == current;
    }
    let all: Vec<MajorLine> = order
        .iter()
        .filter_map(|l| {
            let t = lines.get(l)?;
            Some(MajorLine {
                line: l.clone(),
                latest: VersionRow::new(t.stable.or(t.prerelease)?, current),
                count: t.count,
                prereleases: t.prereleases,
                deprecated: t.deprecated,
                current: t.current,
            })
        })
        .collect();
    // lines of prereleases only (canary, experimental) after the others
    let (mut shown, pre_only): (Vec<_>, Vec<_>) = all.into_iter().partition(|l| l.count > l.prereleases);
    shown.extend(pre_only);
    let more_lines = shown.len().saturating_sub(LINES_SHOWN);
    // the line of the version shown stays visible
    let keep_current = shown.iter().skip(LINES_SHOWN).position(|l| l.current).map(|i| i + LINES_SHOWN);
    let current_line = keep_current.map(|i| shown.remove(i));
    shown.truncate(LINES_SHOWN);
    shown.extend(current_line);
    Glance {
        lines: shown,
        more_lines,
        prereleases: p.versions.iter().filter(|v| v.prerelease).count(),
        deprecated: p.versions.iter().filter(|v| v.deprecated.is_some()).count(),
    }
}

/// `?filter=`: which versions the history lists (none: all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Show {
    All,
    Stable,
    Prerelease,
    Deprecated,
}

impl Show {
    pub fn parse(raw: Option<&str>) -> Result<Show, AppError> {
        Ok(match raw {
            None | Some("") | Some("all") => Show::All,
            Some("stable") => Show::Stable,
            Some("prerelease") => Show::Prerelease,
            Some("deprecated") => Show::Deprecated,
            Some(other) => {
                return Err(AppError::InvalidParam {
                    name: "filter",
                    value: other.chars().take(40).collect(),
                    expected: "`all`, `stable`, `prerelease` or `deprecated`".into(),
                });
            }
        })
    }

    fn keeps(self, v: &VersionSummary) -> bool {
        match self {
            Show::All => true,
            Show::Stable => !v.prerelease,
            Show::Prerelease => v.prerelease,
            Show::Deprecated => v.deprecated.is_some(),
        }
    }
}

#[derive(Debug, Serialize)]
struct Counts {
    all: usize,
    stable: usize,
    prerelease: usize,
    deprecated: usize,
}

#[derive(Debug, Serialize)]
struct Bar {
    x: usize,
    y: usize,
    h: usize,
    label: String,
}

/// Releases per month, as bars of an SVG `WIDTH` × `HEIGHT` drawn by the template.
#[derive(Debug, Serialize)]
struct Chart {
    width: usize,
    height: usize,
    bar: usize,
    bars: Vec<Bar>,
    first: String,
    last: String,
    busiest: usize,
    summary: String,
}

const BAR: usize = 5;
const HEIGHT: usize = 60;

fn chart(versions: &[VersionSummary]) -> Option<Chart> {
    let mut months: BTreeMap<(i32, u32), usize> = BTreeMap::new();
    for v in versions {
        let Some(t) = v.published.and_then(|t| t.try_to_rfc3339_string().ok()) else { continue };
        let (Some(y), Some(m)) = (t.get(0..4).and_then(|y| y.parse().ok()), t.get(5..7).and_then(|m| m.parse().ok()))
        else {
            continue;
        };
        *months.entry((y, m)).or_default() += 1;
    }
    let (&first, _) = months.iter().next()?;
    let (&last, _) = months.iter().next_back()?;
    // every month from the first to the last, empty ones included, at most CHART_MONTHS
    let mut all = Vec::new();
    let (mut y, mut m) = first;
    while (y, m) <= last {
        all.push(((y, m), months.get(&(y, m)).copied().unwrap_or(0)));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    let all = &all[all.len().saturating_sub(CHART_MONTHS)..];
    let busiest = all.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bars = all
        .iter()
        .enumerate()
        .filter(|(_, (_, n))| *n > 0)
        .map(|(i, ((y, m), n))| {
            let h = (n * HEIGHT).div_ceil(busiest).max(1);
            Bar { x: i * BAR, y: HEIGHT - h, h, label: format!("{y}-{m:02}: {n}") }
        })
        .collect();
    let label = |(y, m): (i32, u32)| format!("{y}-{m:02}");
    let (first, last) = (all.first().map(|(k, _)| *k)?, all.last().map(|(k, _)| *k)?);
    Some(Chart {
        width: all.len() * BAR,
        height: HEIGHT,
        bar: BAR - 1,
        bars,
        first: label(first),
        last: label(last),
        busiest,
        summary: format!("Releases per month from {} to {}, at most {busiest} in a month", label(first), label(last)),
    })
}

#[derive(Debug, Serialize)]
pub struct VersionsPage {
    name: String,
    latest: Option<String>,
    show: Show,
    counts: Counts,
    rows: Vec<VersionRow>,
    first_row: usize,
    page: u64,
    pages: u64,
    dist_tags: Vec<(String, String)>,
    chart: Option<Chart>,
}

/// `/package/{name}/versions`.
pub async fn show_versions(app: &AppState, name: &str, filter: Option<&str>, page: u64) -> Result<Response, PageError> {
    let show = Show::parse(filter)?;
    let Some(p) = crate::package_data::record(app, name).await? else { return Err(AppError::NotFound.into()) };
    let page_data = VersionsPage::build(&p, show, page)?;
    let html = app.render("pages/versions.html", minijinja::context! { page => crate::state::val(&page_data) })?;
    Ok(answer(CachePolicy::Package(name.to_string()), StatusCode::OK, HTML, html))
}

impl VersionsPage {
    /// Page `page` of `p`'s versions that `show` keeps; not found past the last page.
    pub fn build(p: &Package, show: Show, page: u64) -> Result<VersionsPage, AppError> {
        if p.versions.is_empty() {
            return Err(AppError::NotFound);
        }
        let kept: Vec<&VersionSummary> = p.versions.iter().filter(|v| show.keeps(v)).collect();
        let pages = kept.len().div_ceil(PER_PAGE).max(1) as u64;
        let page = page.max(1);
        if page > pages {
            return Err(AppError::NotFound);
        }
        let start = (page as usize - 1) * PER_PAGE;
        let latest = p.latest.clone().unwrap_or_default();
        Ok(VersionsPage {
            name: p.name.clone(),
            latest: p.latest.clone(),
            show,
            counts: Counts {
                all: p.versions.len(),
                stable: p.versions.iter().filter(|v| !v.prerelease).count(),
                prerelease: p.versions.iter().filter(|v| v.prerelease).count(),
                deprecated: p.versions.iter().filter(|v| v.deprecated.is_some()).count(),
            },
            rows: (start..kept.len().min(start + PER_PAGE))
                .map(|i| VersionRow {
                    // the version below in the same list (the next page's first on the last row)
                    diff_url: kept.get(i + 1).map(|older| diff_page::url(&p.name, &older.version, &kept[i].version)),
                    ..VersionRow::new(kept[i], &latest)
                })
                .collect(),
            first_row: start + 1,
            page,
            pages,
            dist_tags: p.dist_tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            chart: chart(&p.versions),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::DateTime;

    fn v(version: &str, month: i64, deprecated: bool) -> VersionSummary {
        VersionSummary {
            version: version.into(),
            published: Some(DateTime::from_millis(1_600_000_000_000 + month * 31 * 86_400_000)),
            deprecated: deprecated.then(|| "old".to_string()),
            prerelease: version.contains('-'),
            hash: String::new(),
        }
    }

    fn package(versions: Vec<VersionSummary>) -> Package {
        Package { name: "p".into(), versions, ..Package::default() }
    }

    #[test]
    fn lines_are_majors_above_one_and_minors_below_with_their_latest_stable() {
        let p = package(vec![
            v("19.0.0-canary.2", 9, false),
            v("18.1.0", 8, false),
            v("18.0.0", 7, true),
            v("18.0.0-rc.1", 6, false),
            v("0.14.2", 2, false),
            v("0.14.1", 1, false),
            v("0.13.0", 0, true),
        ]);
        let g = glance(&p, "18.0.0");
        let summary: Vec<(&str, &str, usize, usize, usize, bool)> = g
            .lines
            .iter()
            .map(|l| (l.line.as_str(), l.latest.version.as_str(), l.count, l.prereleases, l.deprecated, l.current))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("18.x", "18.1.0", 3, 1, 1, true),
                ("0.14.x", "0.14.2", 2, 0, 0, false),
                ("0.13.x", "0.13.0", 1, 0, 1, false),
                ("19.x", "19.0.0-canary.2", 1, 1, 0, false),
            ],
            "prerelease-only lines last"
        );
        assert_eq!((g.prereleases, g.deprecated, g.more_lines), (2, 2, 0));
    }

    #[test]
    fn many_lines_fold_but_the_current_one_stays() {
        let versions: Vec<_> = (0..40).rev().map(|i| v(&format!("{}.0.0", i + 1), i, false)).collect();
        let g = glance(&package(versions), "1.0.0");
        assert_eq!(g.lines.len(), LINES_SHOWN + 1);
        assert_eq!(g.more_lines, 40 - LINES_SHOWN);
        assert_eq!(g.lines.last().map(|l| l.line.as_str()), Some("1.x"));
    }

    #[test]
    fn filters_and_an_unknown_one_is_a_400() {
        assert_eq!(Show::parse(Some("prerelease")).ok(), Some(Show::Prerelease));
        assert_eq!(Show::parse(None).ok(), Some(Show::All));
        assert!(Show::parse(Some("<script>")).is_err());
        assert!(Show::Deprecated.keeps(&v("1.0.0", 0, true)));
        assert!(!Show::Stable.keeps(&v("1.0.0-rc.1", 0, false)));
    }

    #[test]
    fn the_chart_has_a_bar_per_busy_month_and_room_for_empty_ones() {
        let c = chart(&[v("1.0.0", 0, false), v("1.0.1", 0, false), v("1.1.0", 3, false)]).expect("chart");
        assert_eq!(c.bars.len(), 2);
        assert_eq!(c.width, 4 * BAR, "four months, two of them empty");
        assert_eq!(c.busiest, 2);
        assert_eq!(c.bars[0].h, HEIGHT);
        assert!(chart(&[]).is_none());
    }
}
