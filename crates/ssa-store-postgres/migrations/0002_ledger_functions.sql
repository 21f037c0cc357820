-- ssa schema version 2: the ledger's reserve, commit and release as one
-- function each, so each is one statement (one round trip, one implicit
-- transaction) instead of five to eight. The tables are those of version 1.
--
-- A refusal is raised with an SQLSTATE of class SL (not used by
-- PostgreSQL or the SQL standard): the statement's transaction rolls back,
-- so a refused call changes nothing.
--   SL001  the SAD is used up (or forgotten between two statements)
--   SL002  more digests than the SAD has left (DETAIL: how many are left)
--   SL003  a bound digest was signed or is in flight under the SAD
--   SL004  the SAD's time falls in a forgotten span (DETAIL: its end)
--   SL005  no reservation has that id

-- Reserves `p_count` uses of SAD `p_jti` under the client-chosen
-- reservation id `p_id`; `p_digests` are the distinct bound digests (empty
-- when the SAD binds none). Commits without waiting for the flush: the
-- signature's audit record commits synchronously after it, which flushes
-- the log past this commit too.
CREATE FUNCTION ssa_ledger_reserve(
    p_jti text, p_num bigint, p_iat bigint, p_exp bigint, p_now bigint,
    p_id bigint, p_count bigint, p_bound boolean, p_digests bytea[]
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    sad record;
    known boolean;
    span bigint;
    left_ bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    INSERT INTO ssa_ledger_sad (jti, num, iat, exp)
        VALUES (p_jti, p_num, p_iat, p_exp) ON CONFLICT DO NOTHING;
    -- Locked to the end of the statement's transaction: reservations of
    -- one SAD are serialised across nodes.
    SELECT s.num, s.committed, s.reserved, s.used && p_digests AS used INTO sad
        FROM ssa_ledger_sad s WHERE s.jti = p_jti FOR UPDATE;
    known := FOUND;
    SELECT f.hi INTO span FROM ssa_ledger_forgotten f
        WHERE f.lo <= p_exp AND p_iat <= f.hi LIMIT 1;
    IF span IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'SL004', MESSAGE = 'SAD forgotten', DETAIL = span::text;
    END IF;
    IF NOT known THEN
        -- A sweep forgot it between the insert and the lock.
        RAISE EXCEPTION USING ERRCODE = 'SL001', MESSAGE = 'SAD used up';
    END IF;
    left_ := greatest(sad.num - sad.committed - sad.reserved, 0);
    IF left_ = 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'SL001', MESSAGE = 'SAD used up';
    END IF;
    IF p_count > left_ THEN
        RAISE EXCEPTION USING ERRCODE = 'SL002', MESSAGE = 'too many digests', DETAIL = left_::text;
    END IF;
    -- The SAD's own reservations first, then the overlap: left to the
    -- planner, a sequential scan tested every reservation in flight (of
    -- any SAD) with the overlap, which compares every pair of digests.
    IF p_bound AND (sad.used OR EXISTS (
        WITH mine AS MATERIALIZED (
            SELECT r.digests FROM ssa_ledger_reservation r WHERE r.jti = p_jti
        )
        SELECT 1 FROM mine WHERE mine.digests && p_digests
    )) THEN
        RAISE EXCEPTION USING ERRCODE = 'SL003', MESSAGE = 'digest already used';
    END IF;
    INSERT INTO ssa_ledger_reservation (id, jti, at, count, digests)
        VALUES (p_id, p_jti, p_now, p_count, CASE WHEN p_bound THEN p_digests END);
    UPDATE ssa_ledger_sad SET reserved = reserved + p_count WHERE jti = p_jti;
END
$$;

-- Ends reservation `p_id` of SAD `p_jti`: its uses (and bound digests)
-- spent for good when `p_commit`, given back otherwise.
CREATE FUNCTION ssa_ledger_end(p_jti text, p_id bigint, p_commit boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    held record;
BEGIN
    -- The reservation's row is locked by its delete, the SAD's by its
    -- update: in the order a reserve never waits in (it locks the SAD and
    -- then inserts a new reservation), so the two cannot deadlock.
    DELETE FROM ssa_ledger_reservation WHERE id = p_id AND jti = p_jti
        RETURNING count, coalesce(digests, '{}') AS digests INTO held;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'SL005', MESSAGE = 'no such reservation';
    END IF;
    IF p_commit THEN
        -- A used-up SAD is refused before its digests are looked at, so
        -- they need not be kept.
        UPDATE ssa_ledger_sad SET committed = committed + held.count,
            reserved = reserved - held.count,
            used = CASE WHEN committed + held.count >= num THEN '{}' ELSE used || held.digests END
            WHERE jti = p_jti;
    ELSE
        UPDATE ssa_ledger_sad SET reserved = reserved - held.count WHERE jti = p_jti;
    END IF;
END
$$;

-- Compression, chosen for the values each column holds (measured with
-- `perf` at four signing threads: pglz was a fifth of the server's CPU).
-- Audit records are JSON with hex digests, which compress well: lz4 keeps
-- most of pglz's saving at a fraction of its CPU. Bound digests are
-- random: they are stored as they are, not tried and given up on.
ALTER TABLE ssa_audit_record ALTER COLUMN record SET COMPRESSION lz4;
ALTER TABLE ssa_audit_cut ALTER COLUMN record SET COMPRESSION lz4;
ALTER TABLE ssa_ledger_reservation ALTER COLUMN digests SET STORAGE EXTERNAL;
ALTER TABLE ssa_ledger_sad ALTER COLUMN used SET STORAGE EXTERNAL;
-- A reservation lives for one signing: its row is kept whole (up to a
-- page) rather than its digests moved out to the TOAST table and back;
-- 100 SHA-256 digests are 3.2 kB.
ALTER TABLE ssa_ledger_reservation SET (toast_tuple_target = 8160);

-- Work per reservation that bought nothing (pg_stat_statements at four
-- signing threads): the foreign key's check on every insert (the
-- functions insert a reservation only under its SAD's locked row, and a
-- sweep removes a SAD's reservations with it), and the index on `at`,
-- which only an administrator's release of stale reservations reads, over
-- the reservations in flight.
ALTER TABLE ssa_ledger_reservation DROP CONSTRAINT ssa_ledger_reservation_jti_fkey;
DROP INDEX ssa_ledger_reservation_at;
