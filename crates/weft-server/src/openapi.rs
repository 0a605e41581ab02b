//! The OpenAPI 3.1 document's fixed parts. Paths and schemas come from the
//! `#[utoipa::path]` annotations on the handlers, so the document cannot drift from code.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Weft API",
        description = "One workspace for a company and its partners. Errors are RFC 9457 problem details \
                       (`application/problem+json`) with a stable `code`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(crate::Problem, crate::FieldError, weft_model::ErrorCode)),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "types", description = "Object types: declared as data, the same format as app manifests"),
        (name = "records", description = "Records of declared types: the one path for every change"),
        (name = "admin", description = "Operating the workspace"),
        (name = "decisions", description = "DMN decision tables: approval matrices, routing, scoring"),
        (name = "processes", description = "BPMN processes on records: deploy, start, follow, withdraw, metrics"),
        (name = "tasks", description = "User tasks: my tasks, claim, complete, approve, reject, transfer, delegate, return"),
        (name = "search", description = "Full-text search of records and messages, only what the caller may read"),
        (name = "public", description = "Forms anyone may submit without an account (a supplier's application)"),
    ),
)]
struct BaseDocument;

pub fn base_document() -> utoipa::openapi::OpenApi {
    let mut doc = BaseDocument::openapi();
    doc.info.version = weft_model::BINARY_VERSION.to_owned();
    doc
}
