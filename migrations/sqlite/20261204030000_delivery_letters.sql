-- Letters: mails to an address outside the workspace (an applicant who has no account yet),
-- queued on the same durable queue as everything else delivered outward. `target` is the
-- record the letter is about; the payload carries the address, subject and body.
-- SQLite cannot change a CHECK constraint in place: the queue is rebuilt with the wider one.

CREATE TABLE deliveries_new (
    id              BLOB PRIMARY KEY,
    -- `email` (target: a principal), `robot` (target: a robot) or `letter` (target: the
    -- record it is about; the address is in the payload).
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'robot', 'letter')),
    target          BLOB NOT NULL,
    source          TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('immediate', 'digest')),
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'dropped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until    TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (channel, target, source)
);
INSERT INTO deliveries_new
    SELECT id, channel, target, source, mode, payload, status, attempts, next_attempt_at,
           locked_until, last_error, created_at, updated_at
    FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_target ON deliveries (channel, target, status);
