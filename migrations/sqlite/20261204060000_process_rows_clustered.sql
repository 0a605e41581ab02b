-- Process tasks and finished steps are kept in their key's order (WITHOUT ROWID): each was a
-- rowid table with a separate index for its text or composite key, so every insert wrote
-- two B-trees for the row and every read by key searched two. A process step inserts a task
-- and its finished steps and reads tasks by id; now one B-tree each.

CREATE TABLE process_tasks_clustered (
    id                   TEXT    PRIMARY KEY,
    instance_id          BLOB    NOT NULL REFERENCES process_instances (id),
    element              TEXT    NOT NULL,
    name                 TEXT,
    status               TEXT    NOT NULL CHECK (status IN ('open', 'completed', 'cancelled')),
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
INSERT INTO process_tasks_clustered
    (id, instance_id, element, name, status, assignee, delegated_from, candidate_principals,
     candidate_roles, candidate_units, forbid_self_approval, due_at, created_at, ended_at,
     ended_by, outcome, inputs, record_type, record_id)
SELECT id, instance_id, element, name, status, assignee, delegated_from, candidate_principals,
       candidate_roles, candidate_units, forbid_self_approval, due_at, created_at, ended_at,
       ended_by, outcome, inputs, record_type, record_id
FROM process_tasks;
DROP TABLE process_tasks;
ALTER TABLE process_tasks_clustered RENAME TO process_tasks;
CREATE INDEX process_tasks_by_instance ON process_tasks (instance_id);
CREATE INDEX process_tasks_open_by_assignee ON process_tasks (status, assignee);

CREATE TABLE process_steps_clustered (
    instance_id BLOB    NOT NULL REFERENCES process_instances (id),
    ordinal     INTEGER NOT NULL,
    process_key TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    element     TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    ended_at    TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    PRIMARY KEY (instance_id, ordinal)
) WITHOUT ROWID;
INSERT INTO process_steps_clustered
    (instance_id, ordinal, process_key, version, element, started_at, ended_at, outcome)
SELECT instance_id, ordinal, process_key, version, element, started_at, ended_at, outcome
FROM process_steps;
DROP TABLE process_steps;
ALTER TABLE process_steps_clustered RENAME TO process_steps;
CREATE INDEX process_steps_by_element ON process_steps (process_key, element);
