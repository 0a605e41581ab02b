-- The records kernel: declared object types, naming counters, field-level history, the
-- hash-chained audit log, the event outbox with consumer offsets, and idempotency keys.
-- Each object type's own table (r_<type>) is created from its declaration, not here.

CREATE TABLE object_types (
    name        TEXT    PRIMARY KEY,
    app         TEXT    NOT NULL,
    revision    INTEGER NOT NULL,
    declaration TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);

CREATE TABLE naming_counters (
    type_name  TEXT    NOT NULL,
    period     TEXT    NOT NULL,
    last_value INTEGER NOT NULL,
    PRIMARY KEY (type_name, period)
);

CREATE TABLE history (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    type_name TEXT    NOT NULL,
    record_id BLOB    NOT NULL,
    version   INTEGER NOT NULL,
    command   TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    changes   TEXT    NOT NULL
);
CREATE INDEX history_by_record ON history (type_name, record_id, id);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    target_id   TEXT    NOT NULL,
    detail      TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);

CREATE TABLE outbox (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    type_name TEXT    NOT NULL,
    record_id BLOB,
    actor     TEXT    NOT NULL,
    payload   TEXT    NOT NULL
);

CREATE TABLE consumer_offsets (
    name       TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at TEXT    NOT NULL
);

CREATE TABLE idempotency_keys (
    principal    TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    response     TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (principal, key)
);
