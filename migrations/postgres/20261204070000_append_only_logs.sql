-- SQLite only (the outbox and history numbered without AUTOINCREMENT, see migrations/sqlite);
-- PostgreSQL's sequences never hand a number out twice. Kept so both dialects ship the same
-- migration names.
SELECT 1;
