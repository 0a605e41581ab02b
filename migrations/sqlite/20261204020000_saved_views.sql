-- Saved views of the list page: a name for a list setup (view kind, columns, filters, sort)
-- of one object type, private to its owner or shared with everyone who may read the type.
-- A preference, not business data: it changes no record and grants nothing, so it is not
-- audited and has no outbox event. Its owner's removal removes it.
CREATE TABLE saved_views (
    id          BLOB PRIMARY KEY,
    type_name   TEXT NOT NULL,
    owner       BLOB NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    shared      INTEGER NOT NULL DEFAULT 0,
    -- JSON object: `kind` (list, board, calendar), `columns`, `sort`, `filter` (FEEL) and
    -- `filters` (the list page's filter controls), checked by the façade when written.
    spec        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    -- One name per owner and type, so the picker never shows two of the same.
    UNIQUE (type_name, owner, name)
);
CREATE INDEX saved_views_shared ON saved_views (type_name, shared);
