//! Kernel tables shared by every object type: the audit chain, the outbox and its
//! consumer offsets, field-level history, naming counters, the type registry and
//! idempotency keys. Each is written only inside a command's transaction.

pub mod access;
pub mod audit;
pub mod collab;
pub mod counters;
pub mod decisions;
pub mod delegations;
pub mod delivery;
pub mod history;
pub mod idempotency;
pub mod org;
pub mod outbox;
pub mod principals;
pub mod processes;
pub mod registry;
pub mod rules;
pub mod sessions;
pub mod views;

use sea_query::Alias;

pub(crate) fn t(name: &str) -> Alias {
    Alias::new(name)
}
