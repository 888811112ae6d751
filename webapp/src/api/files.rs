//! `GET /api/v1/packages/{name}/versions/{version}/files[/{path}]`: an unpacked version's
//! file tree, page by page, and one file's metadata with its raw URL.

use nodules_store::model::{EntryKind, SourceState, TreeEntry};
use nodules_store::queue::source_id;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::AppError;
use crate::params::Paging;
use crate::state::AppState;

/// The largest `?page=` asked for: far beyond any tree (a thousand entries a page).
const MAX_PAGE: u64 = 1_000_000_000;

/// The query parameters, for the OpenAPI document (read through [`Paging`]).
#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilesParams {
    /// Page of the tree (1000 entries each), from 1.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1_000_000_000)]
    pub page: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FilesJson {
    pub name: String,
    pub version: String,
    /// `pending`, `done`, `failed` or `capped`.
    pub state: String,
    pub reason: Option<String>,
    pub file_count: Option<i64>,
    pub page: i64,
    pub pages: i64,
    pub files: Vec<FileJson>,
    pub next_page: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FileJson {
    pub path: String,
    pub size: i64,
    /// `file`, `symlink` or `hardlink`.
    pub kind: String,
    pub mode: u32,
    pub sha256: Option<String>,
    /// A link's target (recorded, never followed).
    pub link_target: Option<String>,
    /// Where the bytes are served (null when not stored: links, files over the size cap).
    pub raw_url: Option<String>,
    /// The file's page in the source browser.
    pub html_url: String,
    /// The language by the file's name (`TypeScript`), or null.
    pub language: Option<String>,
    /// Lines of a stored text file; null for binary content, links and files not stored.
    pub lines: Option<i64>,
    /// The stored content is not text.
    pub binary: bool,
}

fn file_json(name: &str, version: &str, e: TreeEntry) -> FileJson {
    let html_url = crate::source::url(name, Some(version), &e.path);
    let raw_url = e.blob.as_ref().map(|_| format!("{html_url}?raw=1"));
    FileJson {
        kind: match e.kind {
            EntryKind::File => "file",
            EntryKind::Symlink => "symlink",
            EntryKind::Hardlink => "hardlink",
        }
        .to_string(),
        path: e.path,
        size: e.size,
        mode: e.mode,
        sha256: e.sha256,
        link_target: e.link_target,
        raw_url,
        html_url,
        language: e.language,
        lines: e.lines,
        binary: e.binary,
    }
}

async fn source(app: &AppState, name: &str, version: &str) -> Result<nodules_store::model::Source, AppError> {
    match app.store().source(name, version).await? {
        Some(s) => Ok(s),
        None if app.store().package(name).await?.is_none() => Err(AppError::PackageNotFound { name: name.to_string() }),
        None => Err(AppError::VersionNotFound { name: name.to_string(), version: version.to_string() }),
    }
}

/// The file tree of an unpacked version.
#[utoipa::path(
    get,
    path = crate::routes::API_FILES,
    params(("name" = String, Path, min_length = 1, max_length = 214, pattern = r"^(?:@[^\s/@]+/)?[^\s/@._][^\s/@]*$", description = "Package name; scoped as `@scope/name` (the `/` may be sent as `%2F`)"), ("version" = String, Path, min_length = 1, max_length = 256, description = "A published version, as in `versions[].version`"), FilesParams),
    responses(
        (status = 200, description = "A page of the file tree", body = FilesJson),
        (status = 400, description = "Bad page", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown package or version", body = crate::error::ErrorBody),
    )
)]
pub async fn list_files(app: &AppState, name: &str, version: &str, paging: &Paging) -> Result<FilesJson, AppError> {
    let page = paging.api_page(MAX_PAGE)? as i64;
    let s = source(app, name, version).await?;
    let files = if s.tree_pages >= page {
        app.store()
            .tree_page(&source_id(name, version), s.tree_gen, page)
            .await?
            .into_iter()
            .map(|e| file_json(name, version, e))
            .collect()
    } else {
        Vec::new()
    };
    Ok(FilesJson {
        name: name.to_string(),
        version: version.to_string(),
        state: s.state.as_str().to_string(),
        reason: s.reason.clone(),
        file_count: s.facts.as_ref().map(|f| f.file_count),
        page,
        pages: s.tree_pages,
        files,
        next_page: (page < s.tree_pages).then_some(page + 1),
    })
}

/// One file's metadata.
#[utoipa::path(
    get,
    path = crate::routes::API_FILE,
    params(
        ("name" = String, Path, min_length = 1, max_length = 214, pattern = r"^(?:@[^\s/@]+/)?[^\s/@._][^\s/@]*$", description = "Package name; scoped as `@scope/name` (the `/` may be sent as `%2F`)"),
        ("version" = String, Path, min_length = 1, max_length = 256, description = "A published version, as in `versions[].version`"),
        ("path" = String, Path, min_length = 1, max_length = 1024,
         pattern = r"^([^/.\x00][^/\x00]*|\.[^/.\x00][^/\x00]*|\.\.[^/\x00]+)(/([^/.\x00][^/\x00]*|\.[^/.\x00][^/\x00]*|\.\.[^/\x00]+))*$",
         description = "Path inside the package (`/`-separated, no `.` or `..` segment)"),
    ),
    responses(
        (status = 200, description = "The file's metadata", body = FileJson),
        (status = 404, description = "Unknown package, version or file", body = crate::error::ErrorBody),
    )
)]
pub async fn file_meta(app: &AppState, name: &str, version: &str, path: &str) -> Result<FileJson, AppError> {
    let s = source(app, name, version).await?;
    if s.state == SourceState::Pending || s.tree_pages == 0 {
        return Err(AppError::NotFound);
    }
    let entry = app
        .store()
        .tree_entry(&source_id(name, version), s.tree_gen, &s.tree_firsts, path)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(file_json(name, version, entry))
}
