//! `/package/{*rest}` and `/api/v1/packages/{*rest}`: the package name (a leading `@`
//! takes two segments; `@scope%2fname` is accepted too) and what follows it. axum's
//! `{name}` cannot match `@scope/name`, so the `PackageRoute` extractor (`routes.rs`) splits
//! every such URL here, and an invalid name is a 404 before any query.

use nodules_npm::names::valid_name;

use crate::error::AppError;

/// A package URL split into the name and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagePath {
    pub name: String,
    /// Segments after the name (`["v", "1.0.0"]`, `["dependents"]`, `["source", "lib", "a.js"]`).
    pub rest: Vec<String>,
    /// The URL ended with a `/` (a source directory).
    pub trailing_slash: bool,
}

impl PackagePath {
    /// Parses the (already percent-decoded) part after `/package/`.
    pub fn parse(rest: &str) -> Result<PackagePath, AppError> {
        let trailing_slash = rest.ends_with('/') && rest.len() > 1;
        let mut segments = rest.split('/').filter(|s| !s.is_empty());
        let first = segments.next().ok_or(AppError::NotFound)?;
        let name = if first.starts_with('@') && !first.contains('/') {
            let second = segments.next().ok_or_else(|| AppError::InvalidName(first.to_string()))?;
            format!("{first}/{second}")
        } else {
            first.to_string()
        };
        if !valid_name(&name) {
            return Err(AppError::InvalidName(name));
        }
        let rest: Vec<String> = segments.map(str::to_string).collect();
        if rest.iter().any(|s| s == ".." || s == "." || s.contains('\0')) {
            return Err(AppError::NotFound);
        }
        Ok(PackagePath { name, rest, trailing_slash })
    }

    /// The path of the package's page (`/package/@scope/name`).
    pub fn page_url(name: &str) -> String {
        format!("/package/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_rests() {
        let p = PackagePath::parse("react").expect("ok");
        assert_eq!((p.name.as_str(), p.rest.len()), ("react", 0));
        let p = PackagePath::parse("@types/node/v/20.0.0").expect("ok");
        assert_eq!(p.name, "@types/node");
        assert_eq!(p.rest, vec!["v", "20.0.0"]);
        let p = PackagePath::parse("@types/node/dependents").expect("ok");
        assert_eq!(p.rest, vec!["dependents"]);
        // @scope%2fname arrives decoded as one segment
        let p = PackagePath::parse("@types/node").expect("ok");
        assert_eq!(p.name, "@types/node");
        assert!(matches!(PackagePath::parse("@types"), Err(AppError::InvalidName(_))));
        assert!(matches!(PackagePath::parse("a b"), Err(AppError::InvalidName(_))));
        assert!(matches!(PackagePath::parse("x/source/../../etc"), Err(AppError::NotFound)));
        assert!(PackagePath::parse("x/source/").expect("ok").trailing_slash);
    }
}
