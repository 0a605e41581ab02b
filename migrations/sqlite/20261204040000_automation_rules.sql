-- Automation rules: when a record of a type is created, updated or moved, and a FEEL
-- condition holds, run actions (set fields, apply a decision table, transition, alert).
-- The definition is JSON the façade checks before writing (rules::def); changes to it are
-- audited. The rules engine is an outbox consumer (`automation_rules`).
CREATE TABLE automation_rules (
    name        TEXT PRIMARY KEY,
    type_name   TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    -- JSON object: `on`, `condition`, `actions`, `label`.
    definition  TEXT NOT NULL,
    version     BIGINT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX automation_rules_type ON automation_rules (type_name);
