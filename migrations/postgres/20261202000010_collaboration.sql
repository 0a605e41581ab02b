-- Collaboration: threads (one per record, created lazily, and channels not bound to a
-- record), their messages with edit history and reactions, channel members, record
-- followers and the per-principal inbox.

CREATE TABLE threads (
    id          UUID PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('record', 'channel')),
    -- A record thread's record.
    type_name   TEXT,
    record_id   UUID,
    -- A channel's name and whether guests may be members (an external group).
    name        TEXT,
    external    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    last_posted_at TIMESTAMPTZ,
    archived_at TIMESTAMPTZ,
    UNIQUE (type_name, record_id)
);

CREATE TABLE channel_members (
    thread_id    UUID NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    principal_id UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    added_by     TEXT NOT NULL,
    added_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (thread_id, principal_id)
);
CREATE INDEX channel_members_by_principal ON channel_members (principal_id);

CREATE TABLE messages (
    id          UUID PRIMARY KEY,
    thread_id   UUID NOT NULL REFERENCES threads (id),
    -- Order within the thread (1, 2, ...): a cursor that never skips a message.
    seq         BIGINT NOT NULL,
    author_id   UUID NOT NULL,
    -- The delegator when a delegate posted for them.
    on_behalf_of UUID,
    -- `internal` (members only) or `shared` (also the record's party guests).
    visibility  TEXT NOT NULL CHECK (visibility IN ('internal', 'shared')),
    -- Markdown source; rendered and sanitised by the client's renderer, stored as written.
    body        TEXT NOT NULL,
    reply_to    UUID,
    -- JSON arrays: mentioned principal ids and mentioned records ({type, id}).
    mentions    TEXT NOT NULL,
    record_mentions TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    edited_at   TIMESTAMPTZ,
    -- A deleted message stays as a tombstone (no body) so replies keep their place.
    deleted_at  TIMESTAMPTZ,
    deleted_by  TEXT,
    UNIQUE (thread_id, seq)
);

-- Every earlier body of an edited message.
CREATE TABLE message_revisions (
    message_id UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    version    BIGINT NOT NULL,
    body       TEXT NOT NULL,
    replaced_at TIMESTAMPTZ NOT NULL,
    replaced_by TEXT NOT NULL,
    PRIMARY KEY (message_id, version)
);

CREATE TABLE message_reactions (
    message_id   UUID NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    principal_id UUID NOT NULL,
    emoji        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_id, principal_id, emoji)
);

-- Who follows a record, and why (`creator`, `owner`, `author`, `mentioned`, `manual`).
CREATE TABLE followers (
    type_name    TEXT NOT NULL,
    record_id    UUID NOT NULL,
    principal_id UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    reason       TEXT NOT NULL,
    since        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (type_name, record_id, principal_id)
);
CREATE INDEX followers_by_principal ON followers (principal_id);

-- One principal's inbox. `source` makes delivery idempotent: the outbox event (and the
-- recipient) an item came from, so a replayed event adds nothing.
CREATE TABLE inbox_items (
    id            UUID PRIMARY KEY,
    principal_id  UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('mention', 'update', 'alert', 'todo')),
    source        TEXT NOT NULL,
    type_name     TEXT,
    record_id     UUID,
    thread_id     UUID,
    message_id    UUID,
    actor         TEXT NOT NULL,
    summary       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('unread', 'read', 'done')),
    snoozed_until TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (principal_id, source)
);
CREATE INDEX inbox_items_by_principal ON inbox_items (principal_id, state, created_at);

-- Attachments: files stored once per content (SHA-256) in the blob store, and the
-- attachment rows that put them on a record (and, once posted, on a message). Downloads go
-- through an attachment id, checked like the record or message: never by hash.
CREATE TABLE blobs (
    sha256       TEXT PRIMARY KEY,
    size         BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE attachments (
    id           UUID PRIMARY KEY,
    sha256       TEXT NOT NULL REFERENCES blobs (sha256),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    visibility   TEXT NOT NULL CHECK (visibility IN ('internal', 'shared')),
    type_name    TEXT NOT NULL,
    record_id    UUID NOT NULL,
    message_id   UUID,
    uploaded_by  UUID NOT NULL,
    uploaded_at  TIMESTAMPTZ NOT NULL,
    deleted_at   TIMESTAMPTZ
);
CREATE INDEX attachments_by_record ON attachments (type_name, record_id);
CREATE INDEX attachments_by_message ON attachments (message_id);
