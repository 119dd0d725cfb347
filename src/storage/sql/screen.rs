//! Group reads of opt-outs: every SMS invocation asks which of its recipients opted out of
//! their sending number before anything is handed off (`ActivityStore::opted_out`), and
//! where the database must be read for it (other instances write too), concurrent
//! invocations share one read, as concurrent writes share one transaction (`commit.rs`).
//!
//! `opted_out` queues its question and waits for the read that took it. One task takes
//! whatever is queued (at most [`MAX_GROUP`] questions), asks the database once for the
//! opt-outs of all their recipients, and answers each question with its own. Up to
//! [`READS_AT_ONCE`] reads run at once; while they all run, questions queue up for the next.
//! A read only starts after its questions were queued, so each answer holds every opt-out
//! committed before its question was asked.
//!
//! When the database is unavailable every question of the group gets that error; a read
//! that fails for another reason is made again for each question alone, so that the
//! question behind it fails alone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::build::Sql;
use super::{Connection, Lanes, in_groups};
use crate::domain::{DialledNumber, OrgName};
use crate::storage::StorageError;

/// How many questions may wait for the reader before askers wait to queue.
const QUEUE: usize = 1024;
/// The most questions one read answers.
const MAX_GROUP: usize = 256;
/// Recipients per `SELECT`: well under both databases' bind limits.
const RECIPIENTS_PER_SELECT: usize = 1000;
/// How many reads may run at once: one, so that questions gather while it runs. A read is a
/// round trip of a fraction of a millisecond, and each is a transaction for the database;
/// two at once made about twice as many, smaller ones (BENCHMARKS.md).
pub(super) const READS_AT_ONCE: usize = 1;

/// An org number and a recipient who may have opted out of it.
pub(super) type Route = (DialledNumber, DialledNumber);

/// A question waiting for its read: which of these routes of this org are opted out.
struct Question {
    org: OrgName,
    routes: Vec<Route>,
    answer: oneshot::Sender<Result<Vec<Route>, StorageError>>,
}

/// The reader's queue.
pub(super) struct Screens(mpsc::Sender<Question>);

impl Screens {
    /// Starts the reader, which stops once this is dropped and its queue is drained.
    pub(super) fn start(lanes: Arc<Lanes>) -> Self {
        let (queue, questions) = mpsc::channel(QUEUE);
        tokio::spawn(run(lanes, questions));
        Self(queue)
    }

    /// The `routes` of `org` whose recipient opted out of the org number, as committed when
    /// this was called.
    pub(super) async fn opted_out(
        &self,
        org: &OrgName,
        routes: &[Route],
    ) -> Result<Vec<Route>, StorageError> {
        let (answer, answered) = oneshot::channel();
        let question = Question {
            org: org.clone(),
            routes: routes.to_vec(),
            answer,
        };
        self.0
            .send(question)
            .await
            .map_err(|_| StorageError::Stopped)?;
        answered.await.unwrap_or(Err(StorageError::Stopped))
    }
}

async fn run(lanes: Arc<Lanes>, questions: mpsc::Receiver<Question>) {
    in_groups(questions, MAX_GROUP, READS_AT_ONCE, |group| {
        let lanes = lanes.clone();
        async move { answer_group(&lanes, group).await }
    })
    .await;
}

/// Answers every question of the group from one read; on failure, as the module explains.
async fn answer_group(lanes: &Lanes, group: Vec<Question>) {
    match read(lanes, &group).await {
        Ok(opted_out) => {
            for question in group {
                // An asker that stopped waiting needs no answer.
                let theirs = question.theirs(&opted_out);
                let _ = question.answer.send(Ok(theirs));
            }
        }
        Err(StorageError::Unavailable(cause)) => {
            for question in group {
                let _ = question
                    .answer
                    .send(Err(StorageError::Unavailable(cause.clone())));
            }
        }
        Err(error) if group.len() == 1 => {
            if let Some(question) = group.into_iter().next() {
                let _ = question.answer.send(Err(error));
            }
        }
        Err(error) => {
            tracing::debug!(%error, questions = group.len(), "a group read of opt-outs failed: reading for each question alone");
            for question in group {
                let answer = read(lanes, std::slice::from_ref(&question))
                    .await
                    .map(|opted_out| question.theirs(&opted_out));
                let _ = question.answer.send(answer);
            }
        }
    }
}

/// Opted-out routes, by org.
type OptedOut = HashMap<OrgName, HashSet<Route>>;

impl Question {
    /// The question's routes that are opted out.
    fn theirs(&self, opted_out: &OptedOut) -> Vec<Route> {
        let Some(routes) = opted_out.get(&self.org) else {
            return Vec::new();
        };
        self.routes
            .iter()
            .filter(|route| routes.contains(route))
            .copied()
            .collect()
    }
}

/// The opt-outs of every recipient the questions name, in their orgs. Opt-outs are few, so
/// all of a recipient's are read and matched here.
///
/// The read goes to an idle connection as it is, without the ping a connection is made sure
/// of with first (`lanes.rs`): that ping is a round trip on every SMS's path, there to keep a
/// write from being sent to a database that hangs, and a read writes nothing. A database
/// that hangs fails the read at the acquire timeout instead, as it would fail the ping; a
/// connection that fails the read is closed, and the read is made again on one made sure of
/// (a connection to a database that restarted, say).
async fn read(lanes: &Lanes, questions: &[Question]) -> Result<OptedOut, StorageError> {
    let orgs: HashSet<&OrgName> = questions.iter().map(|q| &q.org).collect();
    let recipients: Vec<DialledNumber> = questions
        .iter()
        .flat_map(|q| q.routes.iter().map(|(_, recipient)| *recipient))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if let Some(mut conn) = lanes.take_idle() {
        let read = select(&mut conn, &orgs, &recipients);
        match tokio::time::timeout_at(lanes.deadline(), read).await {
            Ok(Ok(opted_out)) => return Ok(opted_out),
            Ok(Err(error)) => {
                conn.set_closing(true);
                drop(conn);
                tracing::debug!(%error, "a read of opt-outs failed on an idle connection: reading again on one made sure of");
            }
            Err(_) => {
                conn.set_closing(true);
                return Err(sqlx::Error::PoolTimedOut.into());
            }
        }
    }
    let mut conn = lanes.take().await?;
    Ok(select(&mut conn, &orgs, &recipients).await?)
}

/// The opt-outs of `recipients` in `orgs`, read on `conn`.
async fn select(
    conn: &mut Connection,
    orgs: &HashSet<&OrgName>,
    recipients: &[DialledNumber],
) -> Result<OptedOut, sqlx::Error> {
    let mut opted_out = OptedOut::new();
    for chunk in recipients.chunks(RECIPIENTS_PER_SELECT) {
        let mut select = Sql::new("SELECT org, org_number, sender FROM opt_outs WHERE org IN ");
        select
            .list(orgs.iter().copied())
            .push(" AND sender IN ")
            .list(chunk);
        let rows: Vec<(OrgName, DialledNumber, DialledNumber)> =
            select.query_as()?.fetch_all(&mut *conn).await?;
        for (org, number, recipient) in rows {
            opted_out
                .entry(org)
                .or_default()
                .insert((number, recipient));
        }
    }
    Ok(opted_out)
}
