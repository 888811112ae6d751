//! What keeps the site up when strangers hammer it: per-client rate limits, shedding a
//! crowd, security headers on every answer.
pub mod client; // the client's address: socket peer, or X-Forwarded-For behind a proxy
pub mod headers; // CSP, nosniff, referrer policy, HSTS
pub mod limits; // methods, request line and header sizes
pub mod on_demand; // bounds on the versions visitors can queue for the downloader
pub mod rate; // per-client budgets, checked atomically
pub mod shed; // a global limit on requests in progress: 503 instead of a queue
