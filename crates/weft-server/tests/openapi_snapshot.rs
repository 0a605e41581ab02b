//! The web UI's API types are generated from `web/openapi.json` (openapi-typescript), so
//! that file must be exactly the document the server serves. A change to a handler's
//! annotations fails here first; regenerate the file, then `cd web && npm run build`
//! shows whether the UI still type-checks against the new API.

use std::path::PathBuf;

const REGENERATE: &str = "WEFT_UPDATE_OPENAPI=1 cargo test -p weft-server --test openapi_snapshot";

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web/openapi.json")
}

fn current_document() -> String {
    let mut text = weft_server::openapi_document().to_pretty_json().expect("the OpenAPI document serialises");
    text.push('\n');
    text
}

#[test]
fn committed_openapi_document_matches_the_server() {
    let path = committed_path();
    let current = current_document();
    if std::env::var_os("WEFT_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &current).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed == current {
        return;
    }
    let first_difference = committed
        .lines()
        .zip(current.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("line {}:\n  committed: {a}\n  server:    {b}", i + 1))
        .unwrap_or_else(|| "one document is a prefix of the other".to_owned());
    panic!(
        "web/openapi.json differs from weft_server::openapi_document() ({first_difference}).\n\
         Regenerate it with\n    {REGENERATE}\n\
         then run `cd web && npm run build` to see whether the UI still type-checks, and commit both."
    );
}
