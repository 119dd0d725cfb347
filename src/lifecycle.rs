//! Delivery and call lifecycles: how messages and calls move on after the provider
//! accepted them, following the path the provider reports (`VoipProvider::sms_path`, `call_path`).
//!
//! Each record has at most one pending step, stored with it, so a step survives a restart
//! and is applied exactly once whichever instance runs it. Applying a step schedules the
//! next one. In `immediate` mode every step is due at once, and storage takes them in the
//! transaction that stores the record (or moves it); in `timed` mode a background runner
//! applies them as they fall due; in `manual` mode none is scheduled and records move only
//! through the inspection API.

use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use tokio::sync::Notify;

use crate::domain::{CallStatus, ProviderError, SalesforceId, SmsStatus, Step, Timestamp};
use crate::metrics::Metrics;
use crate::records::{Call, NextStatus, PendingStep, SmsMessage};
use crate::storage::{StepRules, Storage};
use crate::voip::VoipProvider;

/// How records move along their paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Progression {
    /// Every step at once, before the action answers.
    Immediate,
    /// One step per step delay, in the background.
    Timed,
    /// Only through `POST /_emulator/{messages,calls}/{id}/status`.
    Manual,
}

/// The most steps one transaction of the runner applies.
const BATCH: u32 = 500;
/// How long the runner sleeps when nothing is due here: another instance may have
/// scheduled steps this one should help apply, or take over after that one stopped.
const IDLE: Duration = Duration::from_secs(1);

pub struct Lifecycle {
    progression: Progression,
    step_delay: Duration,
    voip: Arc<dyn VoipProvider>,
    metrics: Arc<Metrics>,
    /// Wakes the runner when this instance scheduled steps.
    scheduled: Notify,
}

impl Lifecycle {
    pub fn new(
        progression: Progression,
        step_delay: Duration,
        voip: Arc<dyn VoipProvider>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let step_delay = if progression == Progression::Immediate {
            Duration::ZERO
        } else {
            step_delay
        };
        Self {
            progression,
            step_delay,
            voip,
            metrics,
            scheduled: Notify::new(),
        }
    }

    pub fn progression(&self) -> Progression {
        self.progression
    }

    /// Tells the runner that this instance scheduled steps, which may be due before it
    /// planned to look again.
    pub fn steps_scheduled(&self) {
        self.scheduled.notify_one();
    }

    /// Applies steps as they fall due, until the task is dropped. In `manual` mode nothing
    /// moves by itself, so there is nothing to run (and no database to look at each second):
    /// steps an earlier timed run left pending wait for a timed or immediate run. Except with
    /// a provider outside the emulator, whose hand-offs have deadlines to keep
    /// (`VoipProvider::hand_off_deadline`).
    pub async fn run(self: Arc<Self>, storage: Arc<dyn Storage>) {
        if self.progression == Progression::Manual && self.voip.hand_off_deadline().is_none() {
            return;
        }
        loop {
            let mut failed = false;
            loop {
                match storage.run_due_steps(Timestamp::now(), BATCH).await {
                    Ok(run) => {
                        self.metrics.lifecycle_steps.inc_by(run.taken as u64);
                        for step in &run.unreadable {
                            tracing::error!(
                                seq = step.seq,
                                reason = %step.reason,
                                "a stored lifecycle step cannot be read; dropped it"
                            );
                        }
                        if run.taken < BATCH as usize {
                            break;
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot apply due lifecycle steps; retrying");
                        failed = true;
                        break;
                    }
                }
            }
            let pause = match storage.next_step_due().await {
                Ok(Some(due)) if !failed => millis_until(due).min(IDLE),
                _ => IDLE,
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = self.scheduled.notified() => {}
            }
        }
    }

    /// `step`, to be taken after the step delay; none in manual mode.
    fn pending<S: Copy>(
        &self,
        record_id: SalesforceId,
        step: &Step<S>,
        to: impl Fn(S) -> NextStatus,
        now: Timestamp,
    ) -> Option<PendingStep> {
        if self.progression == Progression::Manual {
            return None;
        }
        Some(PendingStep {
            record_id,
            to: to(step.status),
            error: step.error.map(|(code, message)| ProviderError {
                code,
                message: message.to_owned(),
            }),
            due_at: Timestamp::from_millis(now.millis() + self.step_delay.as_millis() as i64),
        })
    }
}

fn millis_until(due: Timestamp) -> Duration {
    Duration::from_millis(u64::try_from(due.millis() - Timestamp::now().millis()).unwrap_or(0))
}

/// The first step left of a provider's path, unless a provider could not report it after
/// `current` (a record moved by hand past it, or to a final status).
fn next_on_path<S: Copy>(
    remaining: &'static [Step<S>],
    current: S,
    can_become: impl Fn(S, S) -> bool,
) -> Option<&'static Step<S>> {
    remaining
        .first()
        .filter(|next| can_become(current, next.status))
}

impl StepRules for Lifecycle {
    fn provider(&self) -> &str {
        self.voip.name()
    }

    fn next_sms_step(&self, message: &SmsMessage, now: Timestamp) -> Option<PendingStep> {
        let path = self.voip.sms_path(message.to_phone, message.status);
        let step = next_on_path(path, message.status, SmsStatus::can_become)?;
        self.pending(message.id, step, NextStatus::Message, now)
    }

    fn next_call_step(&self, call: &Call, now: Timestamp) -> Option<PendingStep> {
        let path = self.voip.call_path(call.to_phone, call.status);
        let step = next_on_path(path, call.status, CallStatus::can_become)?;
        self.pending(call.id, step, NextStatus::Call, now)
    }
}
