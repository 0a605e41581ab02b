-- SQLite only (tasks and steps stored WITHOUT ROWID, see migrations/sqlite); PostgreSQL's
-- tables keep their primary key indexes. Kept so both dialects ship the same migration names.
SELECT 1;
