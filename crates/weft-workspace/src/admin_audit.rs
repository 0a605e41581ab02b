//! Every administrative change (users, tokens, roles, org units, delegations, shares) is
//! written to the audit chain in the same transaction as the change itself.

use weft_model::Principal;
use weft_store::Tx;
use weft_store::kernel::audit::{self, AuditEntry};

use crate::Result;

/// Appends one entry for an admin change made by `principal`: `action` like
/// `role.put`, `target_type` like `role`, `target_id` the role's name.
pub async fn record(
    tx: &mut Tx,
    principal: &Principal,
    action: &str,
    target_type: &str,
    target_id: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let entry = AuditEntry {
        actor: principal.actor(),
        action: action.to_owned(),
        target_type: target_type.to_owned(),
        target_id: target_id.to_owned(),
        detail,
    };
    audit::append(tx, &entry, weft_store::now()).await?;
    Ok(())
}
