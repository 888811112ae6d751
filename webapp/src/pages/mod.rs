//! HTML pages, by area, each with its page struct beside the handler.
pub mod browse; // home, keyword, author, recent, depended
pub mod compare; // /compare/{a},{b}: packages side by side, and the form that picks them
pub mod dependents; // a package's dependents, page by page
pub mod errors; // errors/*.html for every error answered as a page
pub mod github; // the module page's GitHub box and commit graph
pub mod package; // module and version pages, 410 pages, every page under /package/
pub mod package_page; // the module page's data
pub mod search; // /search: results, filters as links, pagination
pub mod tree; // a version's install tree as npm resolves it, and what it costs
pub mod version_notes; // what a version added since the previous one; its @types package
pub mod versions; // versions at a glance, and a package's whole history page by page
