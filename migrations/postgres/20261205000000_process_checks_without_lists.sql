-- SQLite only (its `IN (...)` checks build a temporary B-tree at every insert and update, see
-- migrations/sqlite); PostgreSQL evaluates them in place. Kept so both dialects ship the
-- same migration names.
SELECT 1;
