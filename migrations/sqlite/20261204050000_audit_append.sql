-- PostgreSQL only (a function for the audit append, see migrations/postgres); SQLite has a
-- single writer and chains in Rust. Kept so both dialects ship the same migration names.
SELECT 1;
