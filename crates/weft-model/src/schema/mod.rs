//! Object types as data: their declaration (`decl`), the checks a declaration must pass
//! and the difference between two versions of one (`check`), and the typed values a
//! record holds, read from API input (`value`).
//!
//! Everything here is pure: the store turns declarations into tables, the façade calls
//! `coerce_record` before writing, and the FEEL crate checks the expressions listed by
//! `check::expressions`.

pub mod check;
mod currency;
pub mod decl;
mod ident;
mod pointer;
pub mod value;

pub use check::{DeclProblem, SchemaChange, check_declaration, diff, expressions, parse_declaration};
pub use currency::{is_currency_code, minor_units};
pub use decl::{
    DefaultValue, FieldDecl, FieldKind, Label, LifecycleDecl, MessageVisibility, NamingError, NamingPattern,
    NamingSeries, ObjectTypeDecl, OnDelete, ScalarKind, SelectOption, StateDecl, TransitionDecl,
};
pub use ident::{LINE_SYSTEM_COLUMNS, SYSTEM_COLUMNS};
pub use value::{
    Coerced, FieldError, FieldErrorCode, Mode, PendingDefault, Value, coerce_record, coerce_transition_inputs,
    coerce_value,
};
