//! A Server-Sent Events client for tests: reqwest's byte stream read by the
//! `eventsource-stream` parser (the protocol's field rules are not ours to re-implement).

use std::pin::Pin;
use std::time::{Duration, Instant};

use eventsource_stream::{Event, Eventsource};
use futures::{Stream, StreamExt};

type Events = Pin<Box<dyn Stream<Item = Result<Event, String>> + Send>>;

pub struct SseClient {
    events: Events,
}

impl SseClient {
    /// Opens `url`, resuming after `last_event_id` when given; `Err` with the status and
    /// headers of an answer that is not a stream.
    pub async fn connect(url: &str, last_event_id: Option<&str>) -> Result<SseClient, reqwest::Response> {
        let mut req = reqwest::Client::new().get(url).header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let r = req.send().await.expect("connect to the stream");
        let is_stream = r.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        if !r.status().is_success() || !is_stream {
            return Err(r);
        }
        let events = r.bytes_stream().eventsource().map(|e| e.map_err(|e| e.to_string()));
        Ok(SseClient { events: Box::pin(events) })
    }

    /// The next event within `wait`; `None` when the stream ended or nothing came.
    pub async fn next(&mut self, wait: Duration) -> Option<Event> {
        match tokio::time::timeout(wait, self.events.next()).await {
            Ok(Some(Ok(e))) => Some(e),
            Ok(Some(Err(e))) => panic!("the stream is not valid Server-Sent Events: {e}"),
            _ => None,
        }
    }

    /// Events until `done` says the ones received are enough, or `wait` passed.
    pub async fn collect_until(&mut self, wait: Duration, mut done: impl FnMut(&[Event]) -> bool) -> Vec<Event> {
        let deadline = Instant::now() + wait;
        let mut got = Vec::new();
        while !done(&got) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(e) => got.push(e),
                None => break,
            }
        }
        got
    }
}

/// An event's `data:` as JSON.
pub fn data(e: &Event) -> serde_json::Value {
    serde_json::from_str(&e.data).unwrap_or_else(|err| panic!("event data is not JSON ({err}): {}", e.data))
}
