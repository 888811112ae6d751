//! Which version a dependency spec installs, as npm-pick-manifest decides: the `latest`
//! dist-tag when it satisfies the range and is not deprecated, else the highest satisfying
//! version, non-deprecated ones first. Engines are not considered (npm checks them against
//! the Node.js running npm, which a server does not know).

use nodejs_semver::{Range, Version};

use super::Packument;

/// What a dependency spec asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    /// A semver range (`^1.2.0`, `1.x || 2`, `*`, ``).
    Range(Range),
    /// An exact version (`1.2.3`): taken even when deprecated.
    Version(String),
    /// A dist-tag (`next`).
    Tag(String),
    /// Not from this registry (git, URL, file, alias): not resolved here.
    Other,
}

impl Spec {
    pub fn parse(raw: &str) -> Spec {
        let raw = raw.trim();
        if raw.is_empty() || raw == "*" {
            return Spec::Range(Range::any());
        }
        if raw.contains(':') || raw.contains('/') {
            return Spec::Other;
        }
        if let Ok(v) = Version::parse(raw)
            && !raw.starts_with(['=', 'v', '<', '>', '~', '^'])
        {
            return Spec::Version(v.to_string());
        }
        match Range::parse(raw) {
            Ok(r) => Spec::Range(r),
            // npm-package-arg: what is not a range is a tag when it is a valid tag name
            Err(_) if raw.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) => Spec::Tag(raw.into()),
            Err(_) => Spec::Other,
        }
    }

    /// Whether `version` meets the spec where it is installed (npm's dep-valid: loose
    /// semver, prereleases only when the range names one of the same tuple).
    pub fn satisfied_by(&self, version: &str, p: Option<&Packument>) -> bool {
        match self {
            Spec::Range(r) => Version::parse(version).is_ok_and(|v| r.satisfies(&v)),
            Spec::Version(v) => Version::parse(version).is_ok_and(|got| got.to_string() == *v),
            Spec::Tag(t) => p.and_then(|p| p.tags.get(t)).is_some_and(|v| v == version),
            Spec::Other => false,
        }
    }
}

/// The version of `p` that `spec` installs, if any.
pub fn pick<'p>(p: &'p Packument, spec: &Spec) -> Option<&'p str> {
    let range = match spec {
        Spec::Version(v) => {
            return p
                .versions
                .iter()
                .find(|x| Version::parse(&x.version).is_ok_and(|got| got.to_string() == *v))
                .map(|x| x.version.as_str());
        }
        Spec::Tag(t) => {
            let v = p.tags.get(t)?;
            return p.versions.iter().find(|x| &x.version == v).map(|x| x.version.as_str());
        }
        Spec::Other => return None,
        Spec::Range(r) => r,
    };
    let any = *range == Range::any();
    if let Some(latest) = p.tags.get("latest")
        && let Some(l) = p.versions.iter().find(|x| &x.version == latest)
        && (any || Version::parse(latest).is_ok_and(|v| range.satisfies(&v)))
        && !l.deprecated
    {
        return Some(l.version.as_str());
    }
    p.versions
        .iter()
        .filter_map(|x| Some((Version::parse(&x.version).ok()?, x)))
        .filter(|(v, _)| range.satisfies(v))
        // non-deprecated first, then the highest
        .max_by(|(va, a), (vb, b)| (!a.deprecated).cmp(&!b.deprecated).then(va.cmp(vb)))
        .map(|(_, x)| x.version.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::PackumentVersion;

    fn packument(latest: &str, versions: &[(&str, bool)]) -> Packument {
        Packument {
            tags: [("latest".to_string(), latest.to_string())].into(),
            versions: versions
                .iter()
                .map(|(v, d)| PackumentVersion { version: v.to_string(), deprecated: *d })
                .collect(),
        }
    }

    #[test]
    fn latest_when_it_satisfies_else_the_highest_not_deprecated() {
        let p = packument("1.2.0", &[("2.0.0", false), ("1.3.0", false), ("1.2.0", false), ("1.1.0", false)]);
        assert_eq!(pick(&p, &Spec::parse("^1.0.0")), Some("1.2.0"), "latest below the highest still wins");
        assert_eq!(pick(&p, &Spec::parse(">=1.2.1")), Some("2.0.0"));
        assert_eq!(pick(&p, &Spec::parse("1.1.x || ^2")), Some("2.0.0"));
        let d = packument("1.0.0", &[("1.3.0", true), ("1.2.0", false), ("1.0.0", true)]);
        assert_eq!(pick(&d, &Spec::parse("^1")), Some("1.2.0"), "deprecated latest and highest avoided");
        assert_eq!(pick(&d, &Spec::parse("1.3.0")), Some("1.3.0"), "an exact version is taken as is");
    }

    #[test]
    fn zero_majors_and_prereleases_as_node_semver() {
        let p = packument("0.2.5", &[("0.3.0", false), ("0.2.5", false), ("0.2.6-beta.1", false)]);
        assert_eq!(pick(&p, &Spec::parse("^0.2.0")), Some("0.2.5"));
        assert_eq!(pick(&p, &Spec::parse("^0.2.6-beta.0")), Some("0.2.6-beta.1"));
        assert_eq!(pick(&p, &Spec::parse(">0.2.5")), Some("0.3.0"), "prereleases need a range that names them");
        assert_eq!(pick(&p, &Spec::parse("git+https://example.test/x.git")), None);
    }
}
