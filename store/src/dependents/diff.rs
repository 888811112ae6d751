//! Which edges a batch of dependency changes removes and adds. Pure.

use std::collections::HashSet;

use crate::model::{DepKind, DepTargets};

/// A package whose dependency edges (may have) changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeChange {
    /// The dependent (source of the edges).
    pub name: String,
    /// Its latest version, shown in the lists it joins.
    pub version: Option<String>,
    pub before: DepTargets,
    pub after: DepTargets,
}

/// One edge: `source` depends on `target` as `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EdgeOp {
    pub target: String,
    pub kind: DepKind,
    pub source: String,
}

/// `_id` of the edge from `source` to `target` (a source is prod or dev for a target, never both).
pub fn edge_id(target: &str, source: &str) -> String {
    format!("{target}\u{0}{source}")
}

fn by_kind(t: &DepTargets, kind: DepKind) -> &[String] {
    match kind {
        DepKind::Prod => &t.prod,
        DepKind::Dev => &t.dev,
    }
}

/// Edges to remove and to add. A target that moves from dev to prod (or back) is one
/// removal and one addition.
pub fn diff(changes: &[EdgeChange]) -> (Vec<EdgeOp>, Vec<EdgeOp>) {
    let mut removals = Vec::new();
    let mut additions = Vec::new();
    for c in changes {
        for kind in DepKind::ALL {
            let before: HashSet<&str> = by_kind(&c.before, kind).iter().map(String::as_str).collect();
            let after: HashSet<&str> = by_kind(&c.after, kind).iter().map(String::as_str).collect();
            let op = |t: &str| EdgeOp { target: t.to_string(), kind, source: c.name.clone() };
            removals.extend(by_kind(&c.before, kind).iter().filter(|t| !after.contains(t.as_str())).map(|t| op(t)));
            additions.extend(by_kind(&c.after, kind).iter().filter(|t| !before.contains(t.as_str())).map(|t| op(t)));
        }
    }
    (removals, additions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(prod: &[&str], dev: &[&str]) -> DepTargets {
        DepTargets {
            prod: prod.iter().map(|s| s.to_string()).collect(),
            dev: dev.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn only_the_difference_moves() {
        let c = EdgeChange {
            name: "app".into(),
            version: None,
            before: targets(&["a", "b", "c"], &["x"]),
            after: targets(&["a", "c", "d", "x"], &["b"]),
        };
        let (rem, add) = diff(&[c]);
        let show = |ops: &[EdgeOp]| -> Vec<String> {
            ops.iter().map(|o| format!("{}:{}", o.kind.as_str(), o.target)).collect()
        };
        assert_eq!(show(&rem), vec!["prod:b", "dev:x"]);
        assert_eq!(show(&add), vec!["prod:d", "prod:x", "dev:b"]);
    }
}
