//! The business API under `/api/v1`: object types and records. Handlers translate HTTP
//! into façade calls and façade errors into problems; they hold no business rules.

pub mod actor;
pub mod decisions;
pub mod errors;
pub mod events;
pub mod records;
pub mod types;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(types::list_types, types::declare_type))
        .routes(routes!(types::get_type, types::alter_type))
        .routes(routes!(records::list_records, records::create_record))
        .routes(routes!(records::bulk_create))
        .routes(routes!(records::aggregate_records))
        .routes(routes!(records::get_record, records::update_record, records::delete_record))
        .routes(routes!(records::restore_record))
        .routes(routes!(records::transition_record))
        .routes(routes!(records::record_timeline))
        .routes(routes!(events::consumers))
        .routes(routes!(decisions::deploy, decisions::list))
        .routes(routes!(decisions::versions))
        .routes(routes!(decisions::version))
        .routes(routes!(decisions::evaluate))
}
