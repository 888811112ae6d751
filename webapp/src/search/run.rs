//! A search as a request runs it: off the async runtime, within its time budget, its
//! answer kept while the index generation holds.

use std::sync::Arc;
use std::time::Duration;

use crate::error::AppError;
use crate::respond::CachePolicy;
use crate::search::results::SearchResults;
use crate::search::sync::SearchService;

/// A search that takes longer than this answers 503 (the work is abandoned).
pub const BUDGET: Duration = Duration::from_secs(2);

/// Runs a search off the async runtime, within the time budget.
pub async fn run_search(
    search: Option<&Arc<SearchService>>,
    q: String,
    limit: usize,
    offset: usize,
) -> Result<SearchResults, AppError> {
    let Some(search) = search else { return Err(AppError::SearchUnavailable) };
    let engine = search.engine.clone();
    let work = tokio::task::spawn_blocking(move || engine.search(&q, limit, offset));
    match tokio::time::timeout(BUDGET, work).await {
        Ok(Ok(Ok(r))) => Ok(r),
        Ok(Ok(Err(e))) if e.is_bad_query() => Err(AppError::InvalidQuery { message: e.to_string() }),
        Ok(Ok(Err(e))) => Err(AppError::Internal(anyhow::Error::new(e))),
        Ok(Err(e)) => Err(AppError::Internal(e.into())),
        Err(_) => Err(AppError::SearchTimeout),
    }
}

/// How a search answer may be kept: site-wide, and only while the index generation it was
/// computed from is current, so an answer cached before the index changed is never served after.
pub fn cache_policy(search: Option<&Arc<SearchService>>) -> CachePolicy {
    let Some(search) = search else { return CachePolicy::Browser("no-cache") };
    let engine = search.engine.clone();
    let generation = engine.generation();
    CachePolicy::Global(Some(Arc::new(move || engine.generation() == generation)))
}
