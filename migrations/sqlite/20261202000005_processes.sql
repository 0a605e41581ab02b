-- Processes: deployed BPMN definitions (versioned), running instances with their engine
-- state, and the rows the engine's effects become: user tasks, jobs (timers and service
-- work), message subscriptions, a buffer for messages that arrive before their
-- subscription, the steps taken (for metrics), and business calendars for timers.
-- Effects are keyed by the engine's wait id (`<instance>.<seq>`), the same on every replay
-- of a step, so inserting them with ON CONFLICT DO NOTHING makes a replay exactly-once.

CREATE TABLE process_definitions (
    id          BLOB    PRIMARY KEY,
    process_key TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    -- The object type instances are bound to (their `record` variable), if any.
    record_type TEXT,
    -- The bound type's lifecycle transition that starts an instance (`submit`), if any.
    start_on    TEXT,
    -- JSON object: the process variables declared at deployment, name to type.
    variables   TEXT    NOT NULL,
    xml         TEXT    NOT NULL,
    -- SHA-256 of the XML: a redeploy of the same text returns the existing version.
    checksum    TEXT    NOT NULL,
    deployed_at TEXT    NOT NULL,
    deployed_by TEXT    NOT NULL,
    UNIQUE (process_key, version)
);
CREATE INDEX process_definitions_by_checksum ON process_definitions (process_key, checksum);

CREATE TABLE process_instances (
    id              BLOB    PRIMARY KEY,
    definition_id   BLOB    NOT NULL REFERENCES process_definitions (id),
    process_key     TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('active', 'completed', 'cancelled', 'withdrawn')),
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
CREATE INDEX process_instances_by_record ON process_instances (record_type, record_id);
CREATE INDEX process_instances_by_status ON process_instances (process_key, status);

CREATE TABLE process_tasks (
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
);
CREATE INDEX process_tasks_by_instance ON process_tasks (instance_id);
CREATE INDEX process_tasks_open_by_assignee ON process_tasks (status, assignee);

CREATE TABLE process_jobs (
    id           TEXT    PRIMARY KEY,
    instance_id  BLOB    NOT NULL REFERENCES process_instances (id),
    element      TEXT    NOT NULL,
    -- `timer`, `weft:transition`, `weft:decision`, `weft:notify`, `weft:start_child`,
    -- `weft:child_ended`, or another task type.
    kind         TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    due_at       TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'done', 'cancelled', 'incident')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    locked_by    TEXT,
    locked_until TEXT,
    last_error   TEXT,
    created_at   TEXT    NOT NULL
);
CREATE INDEX process_jobs_due ON process_jobs (status, due_at);

CREATE TABLE process_subscriptions (
    id          TEXT PRIMARY KEY,
    instance_id BLOB NOT NULL REFERENCES process_instances (id),
    element     TEXT NOT NULL,
    message     TEXT NOT NULL,
    correlation TEXT,
    status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at  TEXT NOT NULL
);
CREATE INDEX process_subscriptions_by_message ON process_subscriptions (message, correlation, status);

-- Messages published before anything subscribed; delivered when a subscription appears,
-- dropped after `expires_at`.
CREATE TABLE process_messages (
    id           BLOB PRIMARY KEY,
    message      TEXT NOT NULL,
    correlation  TEXT,
    payload      TEXT NOT NULL,
    published_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    consumed_at  TEXT
);
CREATE INDEX process_messages_by_name ON process_messages (message, correlation);

-- Every step an instance finished (the engine's history), for process metrics.
CREATE TABLE process_steps (
    instance_id BLOB    NOT NULL REFERENCES process_instances (id),
    ordinal     INTEGER NOT NULL,
    process_key TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    element     TEXT    NOT NULL,
    started_at  TEXT    NOT NULL,
    ended_at    TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    PRIMARY KEY (instance_id, ordinal)
);
CREATE INDEX process_steps_by_element ON process_steps (process_key, element);

-- Business calendars timers may count working time in (weft_calendar::CalendarDef JSON).
CREATE TABLE business_calendars (
    name       TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
