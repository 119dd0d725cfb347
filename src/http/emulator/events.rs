//! `GET /_emulator/events`: Server-Sent Events for everything that happens, from every
//! instance sharing the database. A reconnecting client (`Last-Event-ID`) first gets what
//! it missed; keep-alive comments hold idle connections open; a stream ends when the
//! server shuts down.

use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use crate::events::EventKind;
use crate::http::error::PlatformError;
use crate::http::query::QueryPairs;
use crate::state::AppState;
use crate::storage::StoredEvent;

/// The most events one catch-up reads from the database.
const CATCH_UP: u32 = 10_000;

pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: QueryPairs,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PlatformError> {
    let mut kinds = None;
    let mut after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    for (name, value) in &query.0 {
        match name.as_str() {
            "types" => kinds = Some(parse_kinds(value)?),
            "after" => {
                after = Some(
                    value
                        .trim()
                        .parse()
                        .map_err(|_| invalid(format!("after `{value}` is not an event id")))?,
                )
            }
            other => {
                return Err(invalid(format!(
                    "unknown parameter `{other}`; the stream takes types and after"
                )));
            }
        }
    }
    // Subscribe before reading the backlog, so nothing committed in between is missed.
    let live = state.storage().subscribe();
    let backlog = match after {
        Some(after) => state.storage().events_after(after, CATCH_UP).await?,
        None => Vec::new(),
    };
    let feed = Feed {
        floor: after.unwrap_or(0),
        replayed: backlog.iter().map(|e| e.seq).collect(),
        last: backlog.last().map_or(after.unwrap_or(0), |e| e.seq),
        backlog: backlog.into_iter().map(Arc::new).collect(),
        live,
        kinds,
        stopping: state.stopping(),
        state: state.clone(),
    };
    let keep_alive = KeepAlive::new().interval(state.limits().event_keep_alive);
    Ok(Sse::new(futures_util::stream::unfold(feed, Feed::next)).keep_alive(keep_alive))
}

fn invalid(message: String) -> PlatformError {
    PlatformError::bad_request("INVALID_FILTER", message)
}

fn parse_kinds(value: &str) -> Result<Vec<EventKind>, PlatformError> {
    value
        .split(',')
        .filter(|name| !name.trim().is_empty())
        .map(|name| {
            EventKind::parse(name).ok_or_else(|| {
                let known: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                invalid(format!(
                    "unknown event type `{name}`; the types are {}",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// One subscriber's position in the events.
struct Feed {
    state: AppState,
    live: broadcast::Receiver<Arc<StoredEvent>>,
    /// Events read from the database, to send before live ones.
    backlog: VecDeque<Arc<StoredEvent>>,
    /// The client said it has everything up to here (`Last-Event-ID`, `after`).
    floor: i64,
    /// Seqs of the last catch-up, which may come again live.
    replayed: HashSet<i64>,
    /// The highest seq sent.
    last: i64,
    kinds: Option<Vec<EventKind>>,
    stopping: watch::Receiver<bool>,
}

impl Feed {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            let event = match self.backlog.pop_front() {
                Some(event) => event,
                None => self.receive().await?,
            };
            self.last = self.last.max(event.seq);
            if self.wants(&event) {
                let sse = Event::default()
                    .id(event.seq.to_string())
                    .event(&event.kind)
                    .data(&event.payload);
                return Some((Ok(sse), self));
            }
        }
    }

    /// The next live event not sent yet; `None` ends the stream (shutdown, or the database
    /// is unreachable while catching up).
    async fn receive(&mut self) -> Option<Arc<StoredEvent>> {
        loop {
            let received = tokio::select! {
                received = self.live.recv() => received,
                _ = self.stopping.wait_for(|stopping| *stopping) => return None,
            };
            match received {
                // Relayed events can arrive a moment after a catch-up that already held them.
                Ok(event) if event.seq <= self.floor || self.replayed.contains(&event.seq) => {
                    continue;
                }
                Ok(event) => return Some(event),
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(
                        missed,
                        "event subscriber fell behind; catching up from the database"
                    );
                    let backlog = self
                        .state
                        .storage()
                        .events_after(self.last, CATCH_UP)
                        .await
                        .ok()?;
                    self.replayed = backlog.iter().map(|e| e.seq).collect();
                    self.backlog = backlog.into_iter().map(Arc::new).collect();
                    if let Some(event) = self.backlog.pop_front() {
                        return Some(event);
                    }
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|kinds| kinds.iter().any(|k| k.as_str() == event.kind))
    }
}
