//! `GET /api/v1/packages/{name}/versions/{version}/search?q=…&i=1`: search inside a version's
//! files, the same answers as its page (`source::grep`).

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::package_data::{Found, load_files_lean};
use crate::source::grep;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct PackageSearchJson {
    pub name: String,
    pub version: String,
    pub query: String,
    /// Matching lines returned (at most 200).
    pub total: i64,
    /// More lines matched than were returned.
    pub more: bool,
    /// Files not searched: too large, or past the search's time budget.
    pub skipped: i64,
    pub timed_out: bool,
    /// `{path, url, matches: [{line, text, ranges: [[start, end]]}]}`, `ranges` in bytes of `text`.
    #[schema(value_type = Vec<Object>)]
    pub files: serde_json::Value,
}

/// Lines of a version's text files that match `q`.
#[utoipa::path(
    get,
    path = crate::routes::API_PACKAGE_SEARCH,
    params(
        ("name" = String, Path, min_length = 1, max_length = 214, pattern = r"^(?:@[^\s/@]+/)?[^\s/@._][^\s/@]*$", description = "Package name; scoped as `@scope/name` (the `/` may be sent as `%2F`)"),
        ("version" = String, Path, min_length = 1, max_length = 256, description = "A published version, as in `versions[].version`"),
        ("q" = String, Query, min_length = 1, max_length = 200,
         pattern = "[^\t-\r \u{85}\u{a0}\u{1680}\u{2000}-\u{200a}\u{2028}\u{2029}\u{202f}\u{205f}\u{3000}]",
         description = "Text to find, or `re:` and a regular expression (Rust `regex` syntax); an unusable expression is a 400"),
        ("i" = Option<String>, Query, pattern = "^[01]$", description = "`1`: ignore case"),
    ),
    responses(
        (status = 200, description = "Matching lines, by file", body = PackageSearchJson),
        (status = 202, description = "The version is being prepared (downloaded); try again after `Retry-After` seconds", body = crate::error::ErrorBody,
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 400, description = "Missing or bad `q` or `i`", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown package or version", body = crate::error::ErrorBody),
        (status = 410, description = "Deleted or unpublished", body = crate::error::ErrorBody),
    )
)]
pub async fn search_package(
    app: &AppState,
    name: &str,
    version: &str,
    q: Option<&str>,
    i: Option<&str>,
) -> Result<PackageSearchJson, AppError> {
    let ignore_case = match i {
        None | Some("0") => false,
        Some("1") => true,
        Some(v) => {
            return Err(AppError::InvalidParam { name: "i", value: v.to_string(), expected: "`0` or `1`".into() });
        }
    };
    let query = crate::params::text("q", q, grep::MAX_QUERY)?.map(str::trim).unwrap_or_default();
    let re = grep::pattern(query, ignore_case)?;
    let data = match load_files_lean(app, name, Some(version)).await? {
        Found::Published(d) => d,
        Found::Gone(p) => return Err(AppError::Gone { name: p.name.clone(), state: p.state.as_str() }),
    };
    let v = data.version.version.clone();
    let Some(s) = crate::source::stored(&data) else {
        return Err(AppError::Preparing { what: format!("the files of {name}@{v}") });
    };
    let found = grep::search(app, &data, s, &re).await?;
    let files = found
        .files
        .iter()
        .map(|f| {
            serde_json::json!({
                "path": f.path,
                "url": crate::source::url(name, Some(&v), &f.path),
                "matches": f.matches,
            })
        })
        .collect();
    Ok(PackageSearchJson {
        name: name.to_string(),
        version: v,
        query: query.to_string(),
        total: found.total as i64,
        more: found.more,
        skipped: found.skipped as i64,
        timed_out: found.timed_out,
        files: serde_json::Value::Array(files),
    })
}
