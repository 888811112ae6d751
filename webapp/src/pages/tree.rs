//! `/package/{name}/tree`: the latest version's production dependency tree as `npm install`
//! resolves it (computed by `nodules-indexer trees`, read here by key), like `npm ls`: each
//! package's dependencies below it, collapsible, a package seen before marked "deduped",
//! optional ones marked; above it what installing costs.

use axum::http::StatusCode;
use axum::response::Response;
use nodules_store::install::{InstallSummary, InstallTree};
use nodules_store::model::PackageState;
use serde::Serialize;

use crate::error::{AppError, PageError};
use crate::respond::{CachePolicy, HTML, answer};
use crate::state::AppState;

/// Lines of the tree shown at most (the page stays under 200 kB).
const MAX_LINES: usize = 1_500;

/// What installing costs, as pages show it.
#[derive(Debug, Serialize)]
pub struct InstallView {
    pub packages: i64,
    pub optional: i64,
    pub size: i64,
    pub size_complete: bool,
    pub unknown_sizes: i64,
    pub install_scripts: i64,
    /// (license, packages), most used first.
    pub licenses: Vec<(String, i64)>,
    pub depth: i64,
    pub deepest: Vec<(String, String)>,
    pub unresolved: Vec<String>,
}

impl InstallView {
    pub fn new(s: &InstallSummary) -> InstallView {
        let mut licenses: Vec<(String, i64)> = s.licenses.iter().map(|(k, v)| (k.clone(), *v)).collect();
        licenses.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        InstallView {
            packages: s.packages,
            optional: s.optional,
            size: s.size,
            size_complete: s.size_complete,
            unknown_sizes: s.unknown_sizes,
            install_scripts: s.install_scripts,
            licenses,
            depth: s.depth,
            deepest: s
                .deepest
                .iter()
                .map(|id| match id.rsplit_once('@') {
                    Some((n, v)) if !n.is_empty() => (n.to_string(), v.to_string()),
                    _ => (id.clone(), String::new()),
                })
                .collect(),
            unresolved: s.unresolved.clone(),
        }
    }
}

/// One line of the tree: a package, or the opening or closing of a package's children.
#[derive(Debug, Serialize)]
struct Line {
    /// `leaf`, `open` (children follow until the matching `close`) or `close`.
    kind: &'static str,
    name: String,
    version: String,
    optional: bool,
    peer: bool,
    deduped: bool,
    size: Option<i64>,
    license: Option<String>,
    install_script: bool,
    deprecated: bool,
    depth: usize,
    /// Dependencies listed under it (`open` lines).
    children: usize,
}

#[derive(Debug, Serialize)]
pub struct TreePage {
    name: String,
    version: String,
    install: Option<InstallView>,
    lines: Vec<Line>,
    hidden: usize,
    computed_at: Option<String>,
}

pub async fn show_tree(app: &AppState, name: &str) -> Result<Response, PageError> {
    let Some(p) = crate::package_data::record(app, name).await? else {
        return Err(AppError::PackageNotFound { name: name.to_string() }.into());
    };
    match p.state {
        PackageState::Deleted | PackageState::Unpublished => return super::package::gone_page(app, &p),
        PackageState::Stub => return Err(AppError::PackageNotFound { name: name.to_string() }.into()),
        _ => {}
    }
    let Some(version) = p.latest.clone() else {
        return Err(AppError::PackageNotFound { name: name.to_string() }.into());
    };
    let tree = app.store().install_tree(name, &version).await?;
    let page = TreePage::build(&p.name, &version, tree.as_ref());
    let html = app.render("pages/tree.html", minijinja::context! { page => crate::state::val(&page) })?;
    Ok(answer(CachePolicy::Package(name.to_string()), StatusCode::OK, HTML, html))
}

impl TreePage {
    /// The page of `name@version`'s tree (`None`, or no nodes: not computed yet).
    pub fn build(name: &str, version: &str, tree: Option<&InstallTree>) -> TreePage {
        let tree = tree.filter(|t| !t.nodes.is_empty());
        let (lines, hidden) = tree.map(lines).unwrap_or_default();
        TreePage {
            name: name.to_string(),
            version: version.to_string(),
            install: tree.map(|t| InstallView::new(&t.summary)),
            lines,
            hidden,
            computed_at: tree.and_then(|t| crate::format::rfc3339(t.computed_at)),
        }
    }
}

/// The tree depth first from the root, each package's children once (later: "deduped").
fn lines(t: &InstallTree) -> (Vec<Line>, usize) {
    let mut out = Vec::new();
    let mut expanded = vec![false; t.nodes.len()];
    let mut hidden = 0;
    // (node, depth, closing?)
    let mut stack: Vec<(usize, usize, bool)> = vec![(0, 0, false)];
    while let Some((i, depth, closing)) = stack.pop() {
        if closing {
            out.push(line(t, i, "close", depth, false));
            continue;
        }
        if out.len() >= MAX_LINES {
            hidden += 1;
            continue;
        }
        let deps: Vec<usize> = t.nodes[i].deps.iter().map(|d| *d as usize).filter(|d| *d < t.nodes.len()).collect();
        if deps.is_empty() || expanded[i] {
            out.push(line(t, i, "leaf", depth, expanded[i] && !deps.is_empty()));
            continue;
        }
        expanded[i] = true;
        let mut open = line(t, i, "open", depth, false);
        open.children = deps.len();
        out.push(open);
        stack.push((i, depth, true));
        for d in deps.into_iter().rev() {
            stack.push((d, depth + 1, false));
        }
    }
    (out, hidden)
}

fn line(t: &InstallTree, i: usize, kind: &'static str, depth: usize, deduped: bool) -> Line {
    let n = &t.nodes[i];
    Line {
        kind,
        name: n.name.clone(),
        version: n.version.clone(),
        optional: n.optional,
        peer: n.peer,
        deduped,
        size: n.size,
        license: n.license.clone(),
        install_script: n.install_script,
        deprecated: n.deprecated,
        depth,
        children: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nodules_store::install::InstallNode;

    fn node(name: &str, deps: &[u32]) -> InstallNode {
        InstallNode { name: name.into(), version: "1.0.0".into(), deps: deps.to_vec(), ..InstallNode::default() }
    }

    #[test]
    fn each_package_opens_once_and_is_marked_deduped_after() {
        let t = InstallTree {
            nodes: vec![node("root", &[1, 2]), node("a", &[3]), node("b", &[1]), node("c", &[])],
            ..InstallTree::default()
        };
        let (lines, hidden) = lines(&t);
        let shape: Vec<(&str, &str, bool)> = lines.iter().map(|l| (l.kind, l.name.as_str(), l.deduped)).collect();
        assert_eq!(
            shape,
            vec![
                ("open", "root", false),
                ("open", "a", false),
                ("leaf", "c", false),
                ("close", "a", false),
                ("open", "b", false),
                ("leaf", "a", true),
                ("close", "b", false),
                ("close", "root", false),
            ]
        );
        assert_eq!(hidden, 0);
    }
}
