//! `GET /api/v1/stream`: the live stream as Server-Sent Events.
//!
//! A client that comes back with `Last-Event-ID` (browsers' `EventSource` sends it by
//! itself) is first sent what it missed, read from the records (see [`super::event`] for
//! what an id promises), then the live events; one that fell too far behind is sent a
//! `reset` event (reload what you show) and goes on live. Each client has a buffer of
//! [`CLIENT_BUFFER`] events: one that does not read them is dropped, and resumes when it
//! reconnects. Past the cap on open streams the answer is 503 with a jittered
//! `Retry-After`; on shutdown every stream gets a `shutdown` event (with a jittered
//! `retry:`) before it ends, so clients reconnect elsewhere, not all at once.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::event::{EventId, Filter, LiveEvent};
use super::hub::{CLIENT_BUFFER, ClientSlot, Hub, Sent};
use crate::error::{ApiError, AppError};
use crate::params::text;
use crate::state::AppState;

/// Writes a client may resume across: further behind, it is told to reset.
pub const RESUMABLE_WRITES: i64 = 20_000;
/// Records read per step of a resume.
const REPLAY_BATCH: i64 = 500;

/// Publishes, updates and removals as they are indexed (Server-Sent Events).
///
/// Each event's `event:` is its kind (`publish`, `update`, `remove`, and `reset`, `shutdown`
/// for the stream itself), its `data:` a JSON object, its `id:` `F.S.I`. Resume by sending
/// the last id received as `Last-Event-ID`: every event after it is sent, and possibly some
/// already received, which carry the same `key`.
#[utoipa::path(
    get,
    path = crate::routes::API_STREAM,
    params(
        ("package" = Option<String>, Query, max_length = 214, description = "Only events about this package"),
        ("keyword" = Option<String>, Query, max_length = 100, description = "Only events about packages with this keyword"),
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event received: resume after it"),
    ),
    responses(
        (status = 200, description = "The stream; it does not end", content_type = "text/event-stream", body = String),
        (status = 400, description = "A filter too long", body = crate::error::ErrorBody),
        (status = 503, description = "Too many open streams: retry after the `Retry-After` seconds", body = crate::error::ErrorBody),
    )
)]
pub async fn stream(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let filter = Filter {
        package: text("package", q.get("package").map(String::as_str), 214)?.map(str::to_string),
        keyword: text("keyword", q.get("keyword").map(String::as_str), 100)?.map(|k| k.trim().to_lowercase()),
    };
    let hub = app.0.stream.clone();
    let Some(slot) = hub.join() else {
        // spread out: a crowd coming back after a restart must not come back together
        return Err(AppError::Overloaded { retry_after_secs: rand::random_range(5..=35) }.into());
    };
    let resume = headers.get("last-event-id").map(|v| v.to_str().ok().and_then(EventId::parse));
    let live = hub.subscribe();
    let replay = match resume {
        None => Replay::None,
        Some(id) => replay(&app, &hub, id, &filter).await,
    };
    let client = Client { hub, _slot: slot, live, filter, replay, closing: None, done: false };
    let sse = Sse::new(client.events()).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)));
    let mut r = sse.into_response();
    // a proxy (nginx) must pass events through as they come
    r.headers_mut().insert("x-accel-buffering", axum::http::HeaderValue::from_static("no"));
    r.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(r)
}

/// What a resuming client is sent before the live events.
enum Replay {
    None,
    /// Its last id was unreadable, too old, or from another database.
    Reset(&'static str),
    /// The events it missed (and the stated overlap), and their keys.
    Events {
        events: Vec<LiveEvent>,
        floor: i64,
        keys: HashSet<(i64, i32)>,
    },
}

/// Whether a client that last received `id` can resume here, where the reader has seen
/// writes up to `high`; `Err` with why it must reset instead.
fn resumable(id: Option<EventId>, high: i64) -> Result<EventId, &'static str> {
    let id = id.ok_or("the Last-Event-ID was not one of this stream's ids")?;
    if id.floor > high || id.seq < id.floor {
        // another database's, or made up
        return Err("the Last-Event-ID is ahead of this server's changes");
    }
    if high - id.floor > RESUMABLE_WRITES {
        return Err("the Last-Event-ID is older than the resumable window");
    }
    Ok(id)
}

async fn replay(app: &AppState, hub: &Hub, id: Option<EventId>, filter: &Filter) -> Replay {
    let id = match resumable(id, hub.high().max(hub.floor())) {
        Ok(id) => id,
        Err(reason) => return Replay::Reset(reason),
    };
    let mut events = Vec::new();
    let mut from = id.floor;
    loop {
        let Ok(records) = app.store().events_after(from, None, REPLAY_BATCH).await else {
            return Replay::Reset("the changes could not be read now");
        };
        let n = records.len() as i64;
        if let Some(last) = records.last() {
            from = last.seq;
        }
        for r in &records {
            events.extend(r.events.iter().filter(|e| e.seq > id.floor).map(|e| LiveEvent::new(r, e)));
        }
        if n < REPLAY_BATCH || events.len() as i64 > RESUMABLE_WRITES {
            break;
        }
    }
    events.retain(|e| e.wanted(filter));
    events.sort_by_key(|e| (e.seq, e.index));
    let keys = events.iter().map(|e| (e.seq, e.index)).collect();
    Replay::Events { events, floor: id.floor, keys }
}

struct Client {
    hub: Arc<Hub>,
    /// Counts this client until it goes.
    _slot: ClientSlot,
    live: tokio::sync::broadcast::Receiver<Sent>,
    filter: Filter,
    replay: Replay,
    closing: Option<tokio::sync::watch::Receiver<bool>>,
    done: bool,
}

impl Client {
    fn events(mut self) -> impl Stream<Item = Result<Event, Infallible>> {
        self.closing = Some(self.hub.closing());
        let first = match std::mem::replace(&mut self.replay, Replay::None) {
            Replay::None => Vec::new(),
            Replay::Reset(reason) => {
                self.replay = Replay::None;
                vec![reset(&self.hub, reason)]
            }
            Replay::Events { events, floor, keys } => {
                let out = events.iter().map(|e| e.sse(floor)).collect();
                self.replay = Replay::Events { events: Vec::new(), floor, keys };
                out
            }
        };
        let head = futures::stream::iter(first.into_iter().map(Ok));
        let tail = futures::stream::unfold(self, |mut c| async move {
            let event = c.next().await?;
            Some((Ok(event), c))
        });
        futures::StreamExt::chain(head, tail)
    }

    /// The next event to send; `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        let mut closing = self.closing.clone()?;
        loop {
            if *closing.borrow() {
                self.done = true;
                return Some(shutdown());
            }
            let received = tokio::select! {
                r = self.live.recv() => r,
                _ = closing.changed() => continue,
            };
            match received {
                Ok(Sent { event, floor }) => {
                    if !event.wanted(&self.filter) {
                        continue;
                    }
                    if let Replay::Events { keys, .. } = &self.replay
                        && keys.contains(&(event.seq, event.index))
                    {
                        continue;
                    }
                    return Some(event.sse(floor));
                }
                Err(RecvError::Lagged(_)) => {
                    // more than CLIENT_BUFFER events behind: it resumes when it reconnects
                    self.hub.metrics.dropped.inc();
                    tracing::debug!(buffer = CLIENT_BUFFER, "live stream: a slow client dropped");
                    return None;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

fn reset(hub: &Hub, reason: &str) -> Event {
    let floor = hub.floor();
    let data = serde_json::json!({ "kind": "reset", "reason": reason, "reload": true });
    Event::default().id(EventId { floor, seq: floor, index: 0 }.to_string()).event("reset").data(data.to_string())
}

/// The last event of a server that stops: reconnect (elsewhere) after a jittered delay.
fn shutdown() -> Event {
    let data = serde_json::json!({ "kind": "shutdown", "reason": "the server is shutting down; reconnect" });
    Event::default()
        .event("shutdown")
        .retry(Duration::from_millis(rand::random_range(1000..=10_000)))
        .data(data.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_resumes_within_the_window_and_resets_outside_it() {
        let id = |floor, seq| Some(EventId { floor, seq, index: 0 });
        assert!(resumable(id(100, 105), 200).is_ok());
        assert!(resumable(id(100, 100), 100 + RESUMABLE_WRITES).is_ok(), "the window's edge");
        let old = resumable(id(100, 105), 101 + RESUMABLE_WRITES);
        assert_eq!(old.err(), Some("the Last-Event-ID is older than the resumable window"));
        assert!(resumable(id(300, 305), 200).is_err(), "ahead of this database");
        assert!(resumable(id(100, 90), 200).is_err(), "an event below its own floor");
        assert!(resumable(None, 200).is_err(), "unreadable");
    }
}
