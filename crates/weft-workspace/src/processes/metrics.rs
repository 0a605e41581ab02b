//! Process metrics (J9 "process visibility"): per step of a process, how many finished and
//! how long they took (average and p90), how many are under way and overdue now, and the
//! instances running longest. Computed from `process_steps` (finished steps, written by every
//! step's transaction) and the active instances' states.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use uuid::Uuid;
use weft_model::Principal;
use weft_process::TokenState;
use weft_store::kernel::processes as store;

use super::step::decode_state;
use crate::{Result, Workspace};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepMetrics {
    pub element: String,
    pub completed: u64,
    /// Ended early: interrupted, returned from, withdrawn, cancelled.
    pub cancelled: u64,
    /// Of completed steps, in milliseconds.
    pub average_ms: i64,
    pub p90_ms: i64,
    /// Tokens at this element now.
    pub live: u64,
    /// Open tasks here past their due date.
    pub overdue: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessMetrics {
    pub key: String,
    pub active: u64,
    pub steps: Vec<StepMetrics>,
    /// The active instances running longest (id, started), oldest first, at most 10.
    pub longest_running: Vec<(Uuid, OffsetDateTime)>,
}

impl Workspace {
    /// Metrics of process `key` across its versions (staff).
    pub async fn process_metrics(&self, principal: &Principal, key: &str) -> Result<ProcessMetrics> {
        self.require_staff(principal)?;
        let now = self.process_now();
        let mut by_element: BTreeMap<String, (StepMetrics, Vec<i64>)> = BTreeMap::new();
        for (element, started, ended, outcome) in store::steps_of_process(&self.db, key).await? {
            let slot = by_element
                .entry(element.clone())
                .or_insert_with(|| (StepMetrics { element, ..StepMetrics::default() }, Vec::new()));
            if outcome == "completed" {
                slot.0.completed += 1;
                slot.1.push(i64::try_from((ended - started).whole_milliseconds()).unwrap_or(i64::MAX));
            } else {
                slot.0.cancelled += 1;
            }
        }
        let active = store::active_instances(&self.db, key).await?;
        for instance in &active {
            let state = decode_state(&instance.state)?;
            for token in &state.tokens {
                if matches!(token.state, TokenState::Moving) {
                    continue;
                }
                let slot = by_element.entry(token.element.clone()).or_insert_with(|| {
                    (StepMetrics { element: token.element.clone(), ..StepMetrics::default() }, Vec::new())
                });
                slot.0.live += 1;
            }
        }
        for task in store::open_tasks_of_process(&self.db, key).await? {
            if task.due_at.is_some_and(|due| due < now) {
                let slot = by_element.entry(task.element.clone()).or_insert_with(|| {
                    (StepMetrics { element: task.element.clone(), ..StepMetrics::default() }, Vec::new())
                });
                slot.0.overdue += 1;
            }
        }
        let steps = by_element
            .into_values()
            .map(|(mut m, mut durations)| {
                durations.sort_unstable();
                if !durations.is_empty() {
                    let n = durations.len();
                    m.average_ms = durations.iter().sum::<i64>() / n as i64;
                    // Nearest rank: the smallest duration at or above 90% of the steps.
                    let rank = (n * 9).div_ceil(10).max(1);
                    m.p90_ms = durations.get(rank - 1).copied().unwrap_or_default();
                }
                m
            })
            .collect();
        Ok(ProcessMetrics {
            key: key.to_owned(),
            active: active.len() as u64,
            steps,
            longest_running: active.iter().take(10).map(|i| (i.id, i.started_at)).collect(),
        })
    }
}
