// `sqlx::migrate!` embeds `migrations/` when this crate compiles; without this, a migration
// added or edited later is missing from an incremental build until some source here changes.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
