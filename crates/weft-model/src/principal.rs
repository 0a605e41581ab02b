//! Who acts. Every command and read is made by a principal; engines act as `System`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub id: Uuid,
    pub kind: PrincipalKind,
}

impl Principal {
    pub const SYSTEM_ID: Uuid = Uuid::nil();

    pub fn system() -> Principal {
        Principal { id: Self::SYSTEM_ID, kind: PrincipalKind::System }
    }

    pub fn member(id: Uuid) -> Principal {
        Principal { id, kind: PrincipalKind::Member }
    }

    pub fn guest(id: Uuid, party: Uuid) -> Principal {
        Principal { id, kind: PrincipalKind::Guest { party } }
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
        match self.kind {
            PrincipalKind::System => "system".to_owned(),
            _ => self.id.to_string(),
        }
    }
}
