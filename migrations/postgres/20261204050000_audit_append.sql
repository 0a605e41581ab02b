-- One round trip for the common audit append on PostgreSQL: take the event log's lock,
-- then chain one entry to the newest and insert it. A VOLATILE function takes a fresh
-- snapshot for each statement, so the read after the lock sees every entry committed by
-- the lock's previous holder. The hash is the one `weft_store::kernel::audit` computes
-- (SHA-256 over the parts, each followed by 0x1f); `weft audit verify` checks it.
-- The lock key and the first entry's previous hash come from Rust (`EVENT_LOG_LOCK`,
-- `audit::GENESIS`), so each is written in one place.
CREATE FUNCTION weft_audit_append_one(
    p_lock_key    BIGINT,
    p_genesis     TEXT,
    p_at          TIMESTAMPTZ,
    p_actor       TEXT,
    p_action      TEXT,
    p_target_type TEXT,
    p_target_id   TEXT,
    p_detail      TEXT,
    p_at_text     TEXT
) RETURNS BIGINT
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_seq  BIGINT;
    v_prev TEXT;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock_key);
    SELECT seq, hash INTO v_seq, v_prev FROM audit_log ORDER BY seq DESC LIMIT 1;
    v_seq := COALESCE(v_seq, 0) + 1;
    v_prev := COALESCE(v_prev, p_genesis);
    INSERT INTO audit_log (seq, at, actor, action, target_type, target_id, detail, prev_hash, hash)
    VALUES (v_seq, p_at, p_actor, p_action, p_target_type, p_target_id, p_detail, v_prev,
            encode(sha256(convert_to(
                concat_ws(chr(31), v_prev, v_seq::text, p_at_text, p_actor, p_action, p_target_type, p_target_id, p_detail)
                || chr(31), 'UTF8')), 'hex'));
    RETURN v_seq;
END
$$;
