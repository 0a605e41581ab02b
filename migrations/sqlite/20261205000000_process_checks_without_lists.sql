-- The process tables' status checks are written as comparisons joined by OR instead of
-- `IN (...)` lists. SQLite evaluates a constant list of more than two values by building a
-- temporary B-tree of it, every time the check runs: each insert, and each update that sets
-- the column. A process step inserts and updates tasks and its instance, so every step built
-- and dropped several such trees on the writer's thread. The allowed values are unchanged.
--
-- A table's checks change only by rebuilding the table. `process_instances` is the parent of
-- the other process tables; the migrations run with foreign keys off (weft-store's
-- `migrate`, as SQLite's procedure for changing a table prescribes), so dropping it does not
-- touch its children, whose references name the rebuilt table once it is renamed.

CREATE TABLE process_instances_rebuilt (
    id              BLOB    PRIMARY KEY,
    definition_id   BLOB    NOT NULL REFERENCES process_definitions (id),
    process_key     TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    status          TEXT    NOT NULL CHECK (status = 'active' OR status = 'completed'
                                            OR status = 'cancelled' OR status = 'withdrawn'),
    record_type     TEXT,
    record_id       BLOB,
    -- A call activity's child: the parent instance and the wait id it waits on.
    parent_instance BLOB,
    parent_wait     TEXT,
    started_by      BLOB,
    started_at      TEXT    NOT NULL,
    ended_at        TEXT,
    -- The engine's `Instance` (JSON, weft_process::STATE_FORMAT).
    state           TEXT    NOT NULL,
    -- Bumped by every step; a step whose revision moved under it is retried.
    revision        INTEGER NOT NULL
);
INSERT INTO process_instances_rebuilt
    (id, definition_id, process_key, version, status, record_type, record_id, parent_instance,
     parent_wait, started_by, started_at, ended_at, state, revision)
SELECT id, definition_id, process_key, version, status, record_type, record_id, parent_instance,
       parent_wait, started_by, started_at, ended_at, state, revision
FROM process_instances;
DROP TABLE process_instances;
ALTER TABLE process_instances_rebuilt RENAME TO process_instances;
CREATE INDEX process_instances_by_record ON process_instances (record_type, record_id);
CREATE INDEX process_instances_by_status ON process_instances (process_key, status);

CREATE TABLE process_tasks_rebuilt (
    id                   TEXT    PRIMARY KEY,
    instance_id          BLOB    NOT NULL REFERENCES process_instances (id),
    element              TEXT    NOT NULL,
    name                 TEXT,
    status               TEXT    NOT NULL CHECK (status = 'open' OR status = 'completed'
                                                 OR status = 'cancelled'),
    assignee             BLOB,
    -- Who the assignee stands in for when out-of-office delegation applied.
    delegated_from       BLOB,
    -- JSON arrays: principal ids, role names, unit ids.
    candidate_principals TEXT    NOT NULL,
    candidate_roles      TEXT    NOT NULL,
    candidate_units      TEXT    NOT NULL,
    forbid_self_approval INTEGER NOT NULL DEFAULT 0,
    due_at               TEXT,
    created_at           TEXT    NOT NULL,
    ended_at             TEXT,
    -- The actor (`<id>`, or `<delegate> for <delegator>`).
    ended_by             TEXT,
    outcome              TEXT,
    inputs               TEXT    NOT NULL,
    record_type          TEXT,
    record_id            BLOB
) WITHOUT ROWID;
INSERT INTO process_tasks_rebuilt
    (id, instance_id, element, name, status, assignee, delegated_from, candidate_principals,
     candidate_roles, candidate_units, forbid_self_approval, due_at, created_at, ended_at,
     ended_by, outcome, inputs, record_type, record_id)
SELECT id, instance_id, element, name, status, assignee, delegated_from, candidate_principals,
       candidate_roles, candidate_units, forbid_self_approval, due_at, created_at, ended_at,
       ended_by, outcome, inputs, record_type, record_id
FROM process_tasks;
DROP TABLE process_tasks;
ALTER TABLE process_tasks_rebuilt RENAME TO process_tasks;
CREATE INDEX process_tasks_by_instance ON process_tasks (instance_id);
CREATE INDEX process_tasks_open_by_assignee ON process_tasks (status, assignee);

CREATE TABLE process_jobs_rebuilt (
    id           TEXT    PRIMARY KEY,
    instance_id  BLOB    NOT NULL REFERENCES process_instances (id),
    element      TEXT    NOT NULL,
    -- `timer`, `weft:transition`, `weft:decision`, `weft:notify`, `weft:start_child`,
    -- `weft:child_ended`, or another task type.
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    due_at       TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status = 'pending' OR status = 'running' OR status = 'done'
                                         OR status = 'cancelled' OR status = 'incident'),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    locked_by    TEXT,
    locked_until TEXT,
    last_error   TEXT,
    created_at   TEXT    NOT NULL
);
INSERT INTO process_jobs_rebuilt
    (id, instance_id, element, kind, payload, due_at, status, attempts, max_attempts, locked_by,
     locked_until, last_error, created_at)
SELECT id, instance_id, element, kind, payload, due_at, status, attempts, max_attempts, locked_by,
       locked_until, last_error, created_at
FROM process_jobs;
DROP TABLE process_jobs;
ALTER TABLE process_jobs_rebuilt RENAME TO process_jobs;
CREATE INDEX process_jobs_due ON process_jobs (status, due_at);

