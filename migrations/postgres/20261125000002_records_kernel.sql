-- The records kernel: declared object types, naming counters, field-level history, the
-- hash-chained audit log, the event outbox with consumer offsets, and idempotency keys.
-- Each object type's own table (r_<type>) is created from its declaration, not here.

CREATE TABLE object_types (
    name        TEXT        PRIMARY KEY,
    app         TEXT        NOT NULL,
    revision    BIGINT      NOT NULL,
    declaration TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE naming_counters (
    type_name  TEXT   NOT NULL,
    period     TEXT   NOT NULL,
    last_value BIGINT NOT NULL,
    PRIMARY KEY (type_name, period)
);

CREATE TABLE history (
    id        BIGSERIAL   PRIMARY KEY,
    type_name TEXT        NOT NULL,
    record_id UUID        NOT NULL,
    version   BIGINT      NOT NULL,
    command   TEXT        NOT NULL,
    actor     TEXT        NOT NULL,
    at        TIMESTAMPTZ NOT NULL,
    changes   TEXT        NOT NULL
);
CREATE INDEX history_by_record ON history (type_name, record_id, id);

CREATE TABLE audit_log (
    seq         BIGINT      PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT        NOT NULL,
    action      TEXT        NOT NULL,
    target_type TEXT        NOT NULL,
    target_id   TEXT        NOT NULL,
    detail      TEXT        NOT NULL,
    prev_hash   TEXT        NOT NULL,
    hash        TEXT        NOT NULL
);

CREATE TABLE outbox (
    seq       BIGSERIAL   PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    kind      TEXT        NOT NULL,
    type_name TEXT        NOT NULL,
    record_id UUID,
    actor     TEXT        NOT NULL,
    payload   TEXT        NOT NULL
);

CREATE TABLE consumer_offsets (
    name       TEXT        PRIMARY KEY,
    position   BIGINT      NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE idempotency_keys (
    principal    TEXT        NOT NULL,
    key          TEXT        NOT NULL,
    request_hash TEXT        NOT NULL,
    status       INTEGER     NOT NULL,
    response     TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (principal, key)
);
