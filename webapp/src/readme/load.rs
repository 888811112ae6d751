//! A version's README as its page shows it: read from the stored blob, rendered once per
//! blob, link base and renderer version (kept in memory), or a note saying why there is none.

use nodules_store::model::SourceState;

use crate::package_data::PackageData;
use crate::state::AppState;

/// Largest README read from storage.
const README_MAX: usize = 2 << 20;
/// Most README HTML a page carries: a longer one is cut at a block boundary, with a link to
/// the whole file in the source browser (every module page stays under 200 kB).
const README_PAGE_MAX: usize = 120_000;

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
    let whole_url = crate::source::url(&d.package.name, Some(&d.version.version), &file.path);
    let html = tokio::task::spawn_blocking(move || {
        let render = |t: &str| if markdown { super::render(t, &base) } else { super::render_plain(t) };
        let mut html = render(&text);
        // too long for a page: the source cut in proportion, at a block boundary, until it fits
        let mut shown = text.len();
        for _ in 0..4 {
            if html.len() <= README_PAGE_MAX {
                break;
            }
            shown = cut_at_block(&text, shown * README_PAGE_MAX / html.len() * 9 / 10).len();
            html = render(&text[..shown]);
        }
        if shown < text.len() {
            html.push_str(&format!(
                "<p class=\"readme-cut\"><strong>The README is cut here</strong> ({} of {}): <a href=\"{}\">read the whole file</a>.</p>",
                crate::format::filesize(shown as i64),
                crate::format::filesize(text.len() as i64),
                escape_attr(&whole_url),
            ));
        }
        html
    })
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

/// The longest prefix of `text` up to `max` bytes that ends at a blank line outside a fenced
/// code block (a whole line when there is no blank line).
fn cut_at_block(text: &str, max: usize) -> &str {
    if max >= text.len() {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
    let mut cut = head.rfind("\n\n").map(|i| i + 2).or_else(|| head.rfind('\n').map(|i| i + 1)).unwrap_or(0);
    // an odd number of fences before the cut: it is inside a code block, cut before it
    let fences: Vec<usize> = text[..cut]
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .chain(std::iter::once(0))
        .filter(|&i| text[i..].starts_with("```") || text[i..].starts_with("~~~"))
        .collect();
    if fences.len() % 2 == 1
        && let Some(&open) = fences.iter().max()
    {
        cut = open;
    }
    &text[..cut]
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_a_blank_line_and_never_inside_a_code_block() {
        let text = "# Title\n\nfirst paragraph\n\n```js\nlet a = 1;\n\nlet b = 2;\n```\n\nlast\n";
        assert_eq!(cut_at_block(text, 18), "# Title\n\n");
        let inside = text.find("let b").expect("b");
        assert_eq!(cut_at_block(text, inside), "# Title\n\nfirst paragraph\n\n", "not inside the fence");
        assert_eq!(cut_at_block(text, text.len()), text);
        assert_eq!(cut_at_block("é".repeat(10).as_str(), 5), "", "no line break: nothing rather than half a line");
    }
}
