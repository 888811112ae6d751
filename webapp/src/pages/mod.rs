//! HTML pages, by area, each with its page struct beside the handler.
pub mod browse; // home, keyword, author, recent, depended
pub mod dependents; // a package's dependents, page by page
pub mod errors; // errors/*.html for every error answered as a page
pub mod github; // the module page's GitHub box and commit graph
pub mod package; // module and version pages, 410 pages, every page under /package/
pub mod package_page; // the module page's data
pub mod search;
pub mod versions; // versions at a glance, and a package's whole history page by page // /search: results, filters as links, pagination
