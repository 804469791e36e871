-- Deadlines as the contract holds them (docs/adr/0008-deadlines-beyond-rfc3339.md).
--
-- A posting's deadline is any uint64 of Unix seconds. `deadline_unix` keeps it losslessly
-- (NUMERIC(20,0), NULL = no deadline) and is what every rule reads: open/expired, filters and
-- the DEADLINE_SOONEST order. `deadline` becomes the same instant as a time, derived from it in
-- one place (`deadline_time`), and NULL when the instant lies after 9999-12-31T23:59:59Z, the
-- last second RFC 3339 can write: such a deadline is never "passed", and the API shows it
-- through `deadlineUnix`.

CREATE FUNCTION deadline_time(unix NUMERIC) RETURNS TIMESTAMPTZ
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN unix <= 253402300799 THEN pg_catalog.to_timestamp(unix::double precision) END;

ALTER TABLE jobs ADD COLUMN deadline_unix NUMERIC(20,0) CHECK (deadline_unix > 0);
UPDATE jobs SET deadline_unix = extract(epoch FROM deadline) WHERE deadline IS NOT NULL;
DROP INDEX jobs_by_deadline;
ALTER TABLE jobs DROP COLUMN deadline;
ALTER TABLE jobs ADD COLUMN deadline TIMESTAMPTZ GENERATED ALWAYS AS (deadline_time(deadline_unix)) STORED;
-- The DEADLINE_SOONEST order: no deadline last.
CREATE INDEX jobs_by_deadline
    ON jobs (chain_id, contract, COALESCE(deadline_unix, 18446744073709551616), job_id);

ALTER TABLE job_revisions ADD COLUMN deadline_unix NUMERIC(20,0) CHECK (deadline_unix > 0);
UPDATE job_revisions SET deadline_unix = extract(epoch FROM deadline) WHERE deadline IS NOT NULL;
ALTER TABLE job_revisions DROP COLUMN deadline;
ALTER TABLE job_revisions
    ADD COLUMN deadline TIMESTAMPTZ GENERATED ALWAYS AS (deadline_time(deadline_unix)) STORED;
