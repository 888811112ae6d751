//! The Nodules site and JSON API.
pub mod api; // JSON API handlers and the OpenAPI document
pub mod badge; // /badge/{name}/*.svg: SVG badges for READMEs
pub mod cache; // rendered pages in memory, dropped when their package changes
pub mod cli; // command line
pub mod compare; // packages side by side: the names a comparison takes, each one's facts
pub mod error; // AppError -> status, error page or JSON
pub mod feeds; // Atom feeds: recent, a package's versions, a keyword's and an author's packages
pub mod format; // display helpers for templates
pub mod hit; // a kept page answered before routing
pub mod media; // embedded static files
pub mod metrics; // /metrics: requests by route template, limits, cache
pub mod package_data; // loading what a package page shows
pub mod pages; // HTML pages
pub mod params; // query-string parameters shared by pages and the API
pub mod path; // PackagePath: names with scopes in URLs
pub mod protect; // rate limits, load shedding, security headers
pub mod readme; // README Markdown -> sanitized HTML
pub mod respond; // ETags, 304s, Cache-Control, the page cache
pub mod routes; // every URL, one table
pub mod search; // Tantivy index: schema, sync, queries
pub mod server; // serve: state, background work, listener
pub mod sitemaps; // /sitemap.xml, its shards, /robots.txt
pub mod sitemaps_cli; // the `sitemaps` command
pub mod source; // the source browser: folders, highlighted files, raw bytes
pub mod state; // AppState, templates
pub mod stream; // /api/v1/stream: publishes, updates and removals as Server-Sent Events
