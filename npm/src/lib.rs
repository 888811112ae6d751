//! npm knowledge, no database: what a registry document, a manifest and a package name
//! mean, which registry to ask with which token, and how every HTTP client retries. The one
//! shared library without database access (it uses `nodules_store::model` types only);
//! every service depends on it, it depends on no service.
pub mod client; // registry documents over HTTP: conditional GETs, retried
pub mod files; // a package file's language, and whether it is text (lines, longest line)
pub mod logging; // stderr logging that keeps progress bars intact
pub mod names; // valid package names
pub mod normalize; // registry document / manifest -> Package, pure
pub mod progress; // progress bars / periodic log lines
pub mod registry; // which registry, which token
pub mod resolve; // the dependency tree npm installs, from stored versions
pub mod retry; // the one retry policy: backoff schedule, Retry-After, what is transient
