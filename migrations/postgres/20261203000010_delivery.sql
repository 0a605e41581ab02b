-- Delivery outward: what lands in inboxes, and what happens on channels and object types,
-- sent by e-mail and to IM robots. Settings per principal and per robot, and one durable
-- queue whose rows carry their attempts and next attempt, so a restart loses nothing and an
-- item that keeps failing ends as a dead letter an administrator can replay.

-- A principal's e-mail choices. No row: the defaults.
CREATE TABLE delivery_settings (
    principal_id   UUID PRIMARY KEY REFERENCES principals (id) ON DELETE CASCADE,
    -- JSON object: inbox kind (`mention`, `update`, `todo`, `alert`) to `immediate`,
    -- `digest` or `off`.
    email          TEXT NOT NULL,
    -- How long a digest collects items before it is sent.
    digest_minutes BIGINT NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

-- An IM robot (a group's incoming webhook) fed by one channel or by one object type.
CREATE TABLE delivery_robots (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('wecom', 'dingtalk', 'feishu', 'slack')),
    -- The webhook (it holds the robot's key or token: never shown back whole).
    url         TEXT NOT NULL,
    -- The signing secret (DingTalk, Feishu); never shown back.
    secret      TEXT,
    channel_id  UUID REFERENCES threads (id) ON DELETE CASCADE,
    type_name   TEXT,
    -- JSON array of event kinds (`message.posted`, `record.created`, `record.transitioned`).
    events      TEXT NOT NULL,
    -- Internal messages reach the robot only when its group is members-only.
    include_internal BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    CHECK ((channel_id IS NULL) <> (type_name IS NULL))
);
CREATE INDEX delivery_robots_by_channel ON delivery_robots (channel_id);
CREATE INDEX delivery_robots_by_type ON delivery_robots (type_name);

-- The outbound queue: one row per (channel, target, source), so a replayed event or inbox
-- item is queued once.
CREATE TABLE deliveries (
    id              UUID PRIMARY KEY,
    -- `email` (target: a principal) or `robot` (target: a robot).
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'robot')),
    target          UUID NOT NULL,
    -- What it came from: `item:<inbox item>`, `task:<process task>`, `event:<seq>`.
    source          TEXT NOT NULL,
    -- `immediate`, or `digest` (e-mail: sent with the recipient's other digest rows).
    mode            TEXT NOT NULL CHECK (mode IN ('immediate', 'digest')),
    -- JSON: the notice as rendered when queued (title, headline, text, link path, …).
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'dead', 'dropped')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    -- A `sending` row whose lock expired belongs to a worker that died: it is taken over.
    locked_until    TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (channel, target, source)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_target ON deliveries (channel, target, status);

-- The delivery consumer reads the items an outbox event put in inboxes by their source.
CREATE INDEX inbox_items_by_source ON inbox_items (source);
