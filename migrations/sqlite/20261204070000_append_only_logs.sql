-- The event outbox and the record history number their rows with the integer key alone,
-- without AUTOINCREMENT: AUTOINCREMENT made every insert read and rewrite the table's row
-- in `sqlite_sequence`, one more page in the log for every commit. The numbers stay strictly
-- increasing because neither table loses a row: a new row gets one more than the largest key,
-- and the triggers below refuse deleting a row or changing its key, so the largest key is
-- never freed for reuse. (A unit rolled back frees its numbers either way, as it did with
-- AUTOINCREMENT, whose counter rolls back with it.)

CREATE TABLE outbox_append_only (
    seq       INTEGER PRIMARY KEY,
    at        TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    type_name TEXT    NOT NULL,
    record_id BLOB,
    actor     TEXT    NOT NULL,
    payload   TEXT    NOT NULL
);
INSERT INTO outbox_append_only (seq, at, kind, type_name, record_id, actor, payload)
SELECT seq, at, kind, type_name, record_id, actor, payload FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_append_only RENAME TO outbox;
CREATE TRIGGER outbox_keeps_rows BEFORE DELETE ON outbox
BEGIN
    SELECT RAISE(ABORT, 'outbox events are never deleted');
END;
CREATE TRIGGER outbox_keeps_numbers BEFORE UPDATE OF seq ON outbox
BEGIN
    SELECT RAISE(ABORT, 'outbox events keep their sequence numbers');
END;

CREATE TABLE history_append_only (
    id        INTEGER PRIMARY KEY,
    type_name TEXT    NOT NULL,
    record_id BLOB    NOT NULL,
    version   INTEGER NOT NULL,
    command   TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    at        TEXT    NOT NULL,
    changes   TEXT    NOT NULL
);
INSERT INTO history_append_only (id, type_name, record_id, version, command, actor, at, changes)
SELECT id, type_name, record_id, version, command, actor, at, changes FROM history;
DROP TABLE history;
ALTER TABLE history_append_only RENAME TO history;
CREATE INDEX history_by_record ON history (type_name, record_id, id);
CREATE TRIGGER history_keeps_rows BEFORE DELETE ON history
BEGIN
    SELECT RAISE(ABORT, 'history entries are never deleted');
END;
CREATE TRIGGER history_keeps_numbers BEFORE UPDATE OF id ON history
BEGIN
    SELECT RAISE(ABORT, 'history entries keep their numbers');
END;
