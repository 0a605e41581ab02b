-- The workspace itself: one row naming this installation. Later kernel tables
-- (principals, object types, history, audit, outbox) arrive in their own migrations.
CREATE TABLE workspace (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    instance_id TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO workspace (id, instance_id) VALUES (1, md5(random()::text || clock_timestamp()::text));
