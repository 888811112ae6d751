//! A version's README as its page shows it: read from the stored blob, rendered once per
//! blob, link base and renderer version (kept in memory), or a note saying why there is none.

use nodules_store::model::SourceState;

use crate::package_data::PackageData;
use crate::state::AppState;

/// Largest README read from storage.
const README_MAX: usize = 2 << 20;

/// The README's HTML, or a note saying why there is none.
pub async fn for_version(app: &AppState, d: &PackageData) -> (Option<String>, Option<String>) {
    // never another version's README meanwhile: the page's banner says why there is none
    let source = match &d.source {
        Some(s) if !d.not_downloaded() => s,
        _ => return (None, Some("Its README is shown once this version is downloaded.".into())),
    };
    let facts = match (source.state, &source.facts) {
        (SourceState::Failed, _) | (SourceState::Capped, None) => {
            let reason = source.reason.clone().unwrap_or_else(|| "unknown".into());
            return (None, Some(format!("Source unavailable: {reason}")));
        }
        (_, Some(f)) => f,
        (_, None) => return (None, Some("This package has no README.".into())),
    };
    let Some(file) = &facts.readme else { return (None, Some("This package has no README.".into())) };
    let base = link_base(d);
    let key = super::cache_key(&file.blob, &base);
    if let Some(html) = app.0.readmes.get(&key).await {
        return (Some(html.as_ref().clone()), None);
    }
    let bytes = match app.store().blob(&file.blob, README_MAX).await {
        Ok(Some(b)) => b,
        // a released version asked for again: its files are on their way back
        Ok(None) if d.queued => return (None, Some(d.not_downloaded_note().into())),
        Ok(None) => return (None, Some("The README's contents are no longer stored.".into())),
        Err(e) => {
            tracing::warn!(error = %e, "reading a README failed");
            return (None, Some("The README could not be read right now.".into()));
        }
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let lower = file.path.to_ascii_lowercase();
    let markdown =
        lower.ends_with(".md") || lower.ends_with(".markdown") || lower.ends_with(".mdown") || !lower.contains('.');
    let html =
        tokio::task::spawn_blocking(
            move || {
                if markdown { super::render(&text, &base) } else { super::render_plain(&text) }
            },
        )
        .await
        .unwrap_or_default();
    app.0.readmes.insert(key, std::sync::Arc::new(html.clone())).await;
    (Some(html), None)
}

fn link_base(d: &PackageData) -> super::LinkBase {
    let repo = d.version.repository.as_ref();
    match repo.and_then(|r| r.hosted.as_ref()) {
        Some(h) if h.host == nodules_store::model::GitHostKind::Github => match &h.owner {
            Some(owner) => super::LinkBase::github(
                owner,
                &h.repo,
                repo.and_then(|r| r.directory.as_deref()),
                h.committish.as_deref(),
            ),
            None => super::LinkBase::none(),
        },
        _ => super::LinkBase::none(),
    }
}
