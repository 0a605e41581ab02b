//! Records of declared object types: their tables (`spec`, `ddl`), how values map onto
//! columns (`codec`), the row-level reads and writes the façade composes (`rows`), and
//! `backdate`, which dates history loaded after the fact (`backdating`).

mod backdating;
pub mod codec;
pub mod ddl;
pub mod filter;
pub mod rows;
pub mod spec;

pub use backdating::{EntryTime, backdate};
pub use ddl::{DdlStep, alter_plan, create_plan};
pub use spec::{FieldStorage, LinesSpec, SqlType, Storage, TableSpec};
