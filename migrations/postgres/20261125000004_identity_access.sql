-- Identity and access: principals (members, guests, service accounts), their sign-in
-- secrets and sessions, API tokens, invitations, org units and memberships, roles with
-- their grants and field rules, per-record shares and out-of-office delegations.

CREATE TABLE principals (
    id                  UUID    PRIMARY KEY,
    kind                TEXT    NOT NULL CHECK (kind IN ('member', 'guest', 'service')),
    -- Lower-cased sign-in name (usually the e-mail address); unique across all kinds.
    login               TEXT    NOT NULL UNIQUE,
    display_name        TEXT    NOT NULL,
    email               TEXT,
    -- The party a guest belongs to; members and services have none.
    party_id            UUID,
    status              TEXT    NOT NULL CHECK (status IN ('active', 'invited', 'disabled')),
    password_hash       TEXT,
    password_changed_at TIMESTAMPTZ,
    totp_secret         TEXT,
    totp_enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    -- The 30-second step of the last TOTP code accepted: a code is never accepted twice.
    totp_last_step      BIGINT,
    failed_logins       INTEGER NOT NULL DEFAULT 0,
    locked_until        TIMESTAMPTZ,
    locale              TEXT,
    created_at          TIMESTAMPTZ    NOT NULL,
    updated_at          TIMESTAMPTZ    NOT NULL,
    CHECK ((kind = 'guest') = (party_id IS NOT NULL))
);
CREATE INDEX principals_by_party ON principals (party_id);

CREATE TABLE recovery_codes (
    principal_id UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    code_hash    TEXT NOT NULL,
    used_at      TIMESTAMPTZ,
    PRIMARY KEY (principal_id, code_hash)
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    principal_id UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_by_principal ON sessions (principal_id);

-- The second step of a sign-in with TOTP: the password was right, the code is pending.
CREATE TABLE login_challenges (
    id_hash      TEXT PRIMARY KEY,
    principal_id UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ,
    ip           TEXT
);

CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    principal_id UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    -- JSON array of role names the token may use (a subset of its principal's roles).
    roles        TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_by_principal ON api_tokens (principal_id);

CREATE TABLE invitations (
    token_hash   TEXT PRIMARY KEY,
    principal_id UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ
);

CREATE TABLE org_units (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    code        TEXT UNIQUE,
    parent_id   UUID REFERENCES org_units (id),
    manager_id  UUID REFERENCES principals (id),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    archived_at TIMESTAMPTZ
);
CREATE INDEX org_units_by_parent ON org_units (parent_id);

CREATE TABLE unit_members (
    unit_id      UUID    NOT NULL REFERENCES org_units (id) ON DELETE CASCADE,
    principal_id UUID    NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    is_primary   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (unit_id, principal_id)
);
CREATE INDEX unit_members_by_principal ON unit_members (principal_id);
CREATE UNIQUE INDEX unit_members_one_primary ON unit_members (principal_id) WHERE is_primary;

-- A role is one JSON document (labels, grants, field rules), validated as a whole.
CREATE TABLE roles (
    name       TEXT    PRIMARY KEY,
    definition TEXT    NOT NULL,
    builtin    BOOLEAN NOT NULL DEFAULT FALSE,
    revision   BIGINT  NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ    NOT NULL,
    updated_at TIMESTAMPTZ    NOT NULL
);

CREATE TABLE principal_roles (
    principal_id UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    role         TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    PRIMARY KEY (principal_id, role)
);

-- Read on one record for one principal (assignees, mentioned, process actors).
CREATE TABLE record_shares (
    type_name    TEXT NOT NULL,
    record_id    UUID NOT NULL,
    principal_id UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    reason       TEXT NOT NULL,
    granted_by   TEXT NOT NULL,
    granted_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (type_name, record_id, principal_id)
);
CREATE INDEX record_shares_by_principal ON record_shares (principal_id, type_name, record_id);

CREATE TABLE delegations (
    id             UUID PRIMARY KEY,
    from_principal UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    to_principal   UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    -- Inclusive dates (YYYY-MM-DD) in the workspace's time zone.
    starts_on      TEXT NOT NULL,
    ends_on        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    created_by     TEXT NOT NULL,
    revoked_at     TIMESTAMPTZ,
    CHECK (from_principal <> to_principal),
    CHECK (starts_on <= ends_on)
);
CREATE INDEX delegations_by_to ON delegations (to_principal);
CREATE INDEX delegations_by_from ON delegations (from_principal);
