//! `GET /api/v1/packages/{name}/diff/{from}...{to}`: what changed between two versions, as
//! the diff page shows it: the reviewer's summary, the files added, removed and changed with
//! their line counts, and with `?text=1` each file's unified diff. A version not stored yet
//! is queued for the downloader and the answer is a 202 with `Retry-After`.

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::AppError;
use crate::source::compare::{Prepared, file_diffs, prepare};
use crate::source::diff;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct DiffJson {
    pub name: String,
    pub from: String,
    pub to: String,
    /// Dependencies (of every kind), install scripts, `bin` and `engines` that differ:
    /// `{field, name, from, to}` (`from`/`to` null when absent on that side).
    #[schema(value_type = Object)]
    pub review: serde_json::Value,
    pub files: Vec<FileDiffJson>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileDiffJson {
    pub path: String,
    /// `added`, `removed`, `changed` or `renamed` (the same bytes under another path).
    pub change: String,
    /// The old path of a renamed file; null otherwise.
    pub from: Option<String>,
    /// Lines added and removed; null when the file was not diffed (binary, not stored, or
    /// past this answer's budget: see `note`).
    pub added: Option<i64>,
    pub removed: Option<i64>,
    pub binary: bool,
    pub note: Option<String>,
    /// The unified diff, with `?text=1`.
    pub unified: Option<String>,
}

/// The files changed between two versions, with line counts.
#[utoipa::path(
    get,
    path = crate::routes::API_DIFF,
    params(
        ("name" = String, Path, min_length = 1, max_length = 214, pattern = r"^(?:@[^\s/@]+/)?[^\s/@._][^\s/@]*$", description = "Package name; scoped as `@scope/name` (the `/` may be sent as `%2F`)"),
        ("from" = String, Path, min_length = 1, max_length = 256, pattern = r"^[^/.][^/]*$", description = "The older version, as in `versions[].version`"),
        ("to" = String, Path, min_length = 1, max_length = 256, pattern = r"^[^/.][^/]*$", description = "The newer version"),
        ("text" = Option<String>, Query, pattern = "^[01]$", description = "`1`: each file's unified diff in `unified`"),
    ),
    responses(
        (status = 200, description = "What changed", body = DiffJson),
        (status = 202, description = "A version is being prepared (downloaded); try again after `Retry-After` seconds", body = crate::error::ErrorBody,
         headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 400, description = "Bad `text`", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown package or version", body = crate::error::ErrorBody),
        (status = 410, description = "Deleted or unpublished", body = crate::error::ErrorBody),
    )
)]
pub async fn get_diff(
    app: &AppState,
    name: &str,
    from: &str,
    to: &str,
    text: Option<&str>,
) -> Result<DiffJson, AppError> {
    let with_text = match text {
        None | Some("0") => false,
        Some("1") => true,
        Some(v) => {
            return Err(AppError::InvalidParam { name: "text", value: v.to_string(), expected: "`0` or `1`".into() });
        }
    };
    let both = match prepare(app, name, from, to).await? {
        Prepared::Ready(b) => b,
        Prepared::Gone(p) => return Err(AppError::Gone { name: p.name.clone(), state: p.state.as_str() }),
        Prepared::Preparing(v) => {
            let what = v.iter().map(|v| format!("{name}@{v}")).collect::<Vec<_>>().join(" and ");
            return Err(AppError::Preparing { what: format!("the files of {what}") });
        }
    };
    let files = file_diffs(app, &both, None, false).await.map_err(|e| e.0)?;
    let files = files
        .iter()
        .map(|f| {
            fn lines(s: &Option<crate::source::compare::Side>) -> Vec<&str> {
                s.as_ref().map(|s| s.text.iter().map(String::as_str).collect()).unwrap_or_default()
            }
            FileDiffJson {
                path: f.change.path.clone(),
                change: f.change.change.as_str().to_string(),
                from: f.change.from.clone(),
                added: f.counts.map(|c| c.0 as i64),
                removed: f.counts.map(|c| c.1 as i64),
                binary: f.change.binary(),
                note: f.note.map(str::to_string),
                unified: f
                    .diff
                    .as_ref()
                    .filter(|_| with_text)
                    .map(|d| diff::unified(&f.change.path, d, &lines(&f.old), &lines(&f.new))),
            }
        })
        .collect();
    Ok(DiffJson {
        name: name.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        review: serde_json::to_value(both.review()).unwrap_or_default(),
        files,
    })
}
