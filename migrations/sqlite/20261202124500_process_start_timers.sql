-- Timer start events: one row per timer start event of a process's newest version, with
-- its next occurrence. The job worker starts an instance when it is due (the instance id
-- derives from the row and the occurrence, so a replay starts nothing twice) and moves the
-- row to the next occurrence; deploying a new version cancels the older version's rows.

CREATE TABLE process_start_timers (
    -- `<definition id>/<start event id>`
    id            TEXT    PRIMARY KEY,
    definition_id BLOB    NOT NULL REFERENCES process_definitions (id),
    process_key   TEXT    NOT NULL,
    element       TEXT    NOT NULL,
    -- The weft_calendar::TimerSpec, as text (`R3/PT1H`, `2026-12-01T09:00:00Z`, `PT5M`).
    spec          TEXT    NOT NULL,
    calendar      TEXT,
    due_at        TEXT    NOT NULL,
    fired         INTEGER NOT NULL DEFAULT 0,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'cancelled')),
    last_error    TEXT
);
CREATE INDEX process_start_timers_due ON process_start_timers (status, due_at);
CREATE INDEX process_start_timers_by_key ON process_start_timers (process_key, status);
