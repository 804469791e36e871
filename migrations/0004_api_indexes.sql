-- Every list and filter the API offers is served by an index (docs/adr/0011-api-limits.md).
--
-- Orderings: the keyset of SALARY_HIGH_TO_LOW and DEADLINE_SOONEST compares (sort value, id)
-- as one row value, which an index bounds only when the value is never NULL; so the API sorts
-- on `COALESCE(...)` (undisclosed salaries as -1, no deadline as 2^64: last in both orders)
-- and the indexes are on exactly those expressions. The deadline's is made by 0003 (on the
-- on-chain `deadline_unix`); the plain-column salary index this replaces matched no statement.
DROP INDEX IF EXISTS jobs_by_salary;
CREATE INDEX jobs_by_salary ON jobs (chain_id, contract, COALESCE(salary_max, -1) DESC, job_id DESC);

-- `salaryMin_gte` by its column; `salaryMax_lte` is served by `jobs_by_salary` (the API writes
-- it as a range of the same COALESCE expression).
CREATE INDEX jobs_by_salary_min ON jobs (chain_id, contract, salary_min);

-- Substring filters (`title_contains`, `location_contains`: ILIKE '%text%') through trigram
-- indexes; pg_trgm is a trusted contrib extension shipped with PostgreSQL.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX jobs_title_trgm ON jobs USING GIN (title gin_trgm_ops);
CREATE INDEX jobs_location_trgm ON jobs USING GIN (location gin_trgm_ops);

-- Not indexed on purpose: `applications.updated_block` (RECENTLY_UPDATED), because an index
-- on it would end the HOT updates of status changes (0002); and `events.kind` (`kind_in`),
-- because every index on the event log slows the indexer, and the newest-first walk of
-- `events_activity` serves a kind filter.
