//! `GET /_emulator/events`: Server-Sent Events for everything that happens, from every
//! instance sharing the database. A reconnecting client (`Last-Event-ID`) first gets what
//! it missed; keep-alive comments hold idle connections open; a stream ends when the
//! server shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use crate::domain::OrgName;
use crate::http::error::{PlatformCode, PlatformError};
use crate::http::extract::Scoped;
use crate::http::query::QueryPairs;
use crate::records::EventKind;
use crate::records::StoredEvent;
use crate::state::AppState;
use crate::storage::StorageError;

/// How many events one read of a catch-up takes: however far behind a subscriber starts,
/// or falls, it holds at most this many at once, and reads the next page when they are sent.
const PAGE: u32 = 256;

pub async fn stream(
    State(state): State<AppState>,
    Scoped { name: org, .. }: Scoped,
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
    // Subscribe before reading the first page, so nothing committed in between is missed.
    let mut feed = Feed {
        org,
        org_deleted: false,
        live: state.storage().subscribe(),
        backlog: VecDeque::new(),
        catching_up: after.is_some(),
        last: after.unwrap_or(0),
        read_up_to: after.unwrap_or(0),
        kinds,
        stopping: state.stopping(),
        state: state.clone(),
    };
    // The first page is read before answering, so that a database that cannot be read is a
    // 503, not an empty stream.
    if feed.catching_up {
        feed.read_page().await?;
    }
    let keep_alive = KeepAlive::new().interval(state.limits().event_keep_alive);
    Ok(Sse::new(futures_util::stream::unfold(feed, Feed::next)).keep_alive(keep_alive))
}

fn invalid(message: String) -> PlatformError {
    PlatformError::new(PlatformCode::InvalidFilter, message)
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
///
/// Events are committed in seq order (`INSERT_EVENTS`, SQLite's one writer), so a page read
/// from the database holds every event up to its last one, and a page that comes back short
/// leaves nothing stored after it that is not on its way live. A live event at or below
/// `read_up_to` was sent by a page already (it arrived live after the page read it), or
/// precedes the client's `Last-Event-ID`: it is skipped, and no set of sent seqs is kept.
/// Live events are not compared with `last`: SQLite publishes after the commit, so two
/// commits close together may reach subscribers in swapped order, and the later-arriving
/// one must still be sent.
struct Feed {
    state: AppState,
    /// The org whose events these are: the others' are passed over.
    org: OrgName,
    /// The org was deleted: its `org.deleted` event was the last.
    org_deleted: bool,
    live: broadcast::Receiver<Arc<StoredEvent>>,
    /// Events read from the database, to send before live ones: at most a page.
    backlog: VecDeque<Arc<StoredEvent>>,
    /// The database may hold events after `last` that will not arrive live: the client
    /// asked for a replay, or this subscriber fell behind the live events.
    catching_up: bool,
    /// The highest seq sent or passed over (`types`): the next page starts after it.
    last: i64,
    /// The highest seq read from the database, or the client's `Last-Event-ID`.
    read_up_to: i64,
    kinds: Option<Vec<EventKind>>,
    stopping: watch::Receiver<bool>,
}

impl Feed {
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        loop {
            if self.org_deleted {
                return None;
            }
            let event = self.next_event().await?;
            self.last = self.last.max(event.seq);
            self.org_deleted = event.kind == EventKind::OrgDeleted;
            if self.wants(&event) {
                let sse = Event::default()
                    .id(event.seq.to_string())
                    .event(event.kind.as_str())
                    .data(&event.payload);
                return Some((Ok(sse), self));
            }
        }
    }

    /// The next event after `last`: from the page read, the next page, or live. `None` ends
    /// the stream (shutdown, or stored events cannot be read while catching up).
    async fn next_event(&mut self) -> Option<Arc<StoredEvent>> {
        loop {
            if let Some(event) = self.backlog.pop_front() {
                return Some(event);
            }
            if self.catching_up {
                if let Err(error) = self.read_page().await {
                    // The subscriber reconnects with its Last-Event-ID and resumes there.
                    tracing::warn!(%error, "cannot read stored events: ending the stream");
                    return None;
                }
                continue;
            }
            let received = tokio::select! {
                received = self.live.recv() => received,
                _ = self.stopping.wait_for(|stopping| *stopping) => return None,
            };
            match received {
                Ok(event) if event.org != self.org || event.seq <= self.read_up_to => {}
                Ok(event) => return Some(event),
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(
                        missed,
                        "event subscriber fell behind; catching up from the database"
                    );
                    self.catching_up = true;
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Reads the stored events after `last`, a page at most; a short page ends the catch-up.
    async fn read_page(&mut self) -> Result<(), StorageError> {
        let page = self
            .state
            .storage()
            .events_after(&self.org, self.last, PAGE)
            .await?;
        self.catching_up = page.len() == PAGE as usize;
        if let Some(end) = page.last() {
            self.read_up_to = self.read_up_to.max(end.seq);
        }
        self.backlog.extend(page.into_iter().map(Arc::new));
        Ok(())
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&event.kind))
    }
}
