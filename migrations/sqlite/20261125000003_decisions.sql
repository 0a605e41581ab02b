-- Deployed DMN models: every version kept, running work stays on the version it started with.
CREATE TABLE decisions (
    name        TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    namespace   TEXT    NOT NULL,
    xml         TEXT    NOT NULL,
    deployed_at TEXT    NOT NULL,
    deployed_by TEXT    NOT NULL,
    PRIMARY KEY (name, version)
);
