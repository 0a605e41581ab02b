-- What people and timers did to an instance beyond creating and finishing tasks (those are
-- the task rows): claims, transfers, delegations, returns, approvers added, withdrawals,
-- cancellations and timers that fired. Written in the step's (or the reassignment's)
-- transaction; read for the bound record's timeline.

CREATE TABLE process_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id BLOB    NOT NULL REFERENCES process_instances (id),
    at          TEXT    NOT NULL,
    -- The actor (`<id>`, `<delegate> for <delegator>`, or `system`).
    actor       TEXT    NOT NULL,
    -- The step's cause: `task.transfer`, `task.return`, `withdraw`, `timer.fire`, …
    action      TEXT    NOT NULL,
    task_id     TEXT,
    element     TEXT,
    -- JSON: the cause's detail (to whom, to which step, the comment or reason).
    detail      TEXT    NOT NULL
);
CREATE INDEX process_history_by_instance ON process_history (instance_id, id);
