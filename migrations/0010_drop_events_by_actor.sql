-- `events_by_actor` goes: no statement reads it. The API finds an address's activity through
-- the projections' indexed `jobs.employer` and `applications.applicant` and then the events of
-- those ids by `events_by_job` / `events_by_application` (docs/adr/0011-api-limits.md), and the
-- bulk projection reads `actor` from its chunk, never by this index. It was written for the
-- event rows that name an actor (every posting and submission, about half of a board's
-- events), which the backfill paid for on every row it loaded (docs/adr/0021-bulk-backfill.md).
DROP INDEX IF EXISTS events_by_actor;
