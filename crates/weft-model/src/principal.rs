//! Who acts. Every command and read is made by a principal; engines act as `System`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PrincipalKind {
    /// An employee.
    Member,
    /// A contact of an external party; always bound to exactly that party.
    Guest { party: Uuid },
    /// An API token's service account.
    Service,
    /// Weft's own engines (processes, rules, migrations).
    System,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    pub id: Uuid,
    pub kind: PrincipalKind,
    /// Set when the request came with an API token: the roles the token may use. The
    /// principal's effective roles are its own roles limited to these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_roles: Option<Vec<String>>,
    /// Set when a delegate acts for someone who is out of office: that person's id. The
    /// delegate acts with the delegator's rights as well as its own, and both are recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<Uuid>,
}

impl Principal {
    pub const SYSTEM_ID: Uuid = Uuid::nil();

    pub fn new(id: Uuid, kind: PrincipalKind) -> Principal {
        Principal { id, kind, token_roles: None, on_behalf_of: None }
    }

    pub fn service(id: Uuid) -> Principal {
        Principal::new(id, PrincipalKind::Service)
    }

    pub fn is_system(&self) -> bool {
        matches!(self.kind, PrincipalKind::System)
    }

    pub fn system() -> Principal {
        Principal::new(Self::SYSTEM_ID, PrincipalKind::System)
    }

    pub fn member(id: Uuid) -> Principal {
        Principal::new(id, PrincipalKind::Member)
    }

    pub fn guest(id: Uuid, party: Uuid) -> Principal {
        Principal::new(id, PrincipalKind::Guest { party })
    }

    /// The party a guest is bound to.
    pub fn party(&self) -> Option<Uuid> {
        match self.kind {
            PrincipalKind::Guest { party } => Some(party),
            _ => None,
        }
    }

    /// How the principal is written in history, audit and events.
    pub fn actor(&self) -> String {
        match (self.kind, self.on_behalf_of) {
            (PrincipalKind::System, _) => "system".to_owned(),
            (_, Some(delegator)) => format!("{} for {delegator}", self.id),
            _ => self.id.to_string(),
        }
    }
}
