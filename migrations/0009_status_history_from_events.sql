-- An application's status history is its events: one row per ApplicationSubmitted and
-- ApplicationStatusChanged, which the event log already holds with the same key and the
-- columns the history shows (docs/adr/0021-bulk-backfill.md). The table repeated each of those
-- events as a second row, with its own primary key: on a board whose events are mostly
-- application events, nearly a row per event. Measured: 100k history rows took 0.78 s to
-- insert, as long as the event rows themselves without their secondary indexes.
--
-- A view of the same name and columns keeps every reader unchanged: the API's lookup by
-- application (`application_id = ANY(...)` ordered by block and log index) runs on
-- `events_by_application`, which has exactly that key. A submission's status is Submitted (0);
-- a status change's is the one it carries.
DROP TABLE application_status_changes;

CREATE VIEW application_status_changes AS
SELECT chain_id, contract, application_id, block_number, log_index,
       CASE WHEN kind = 'ApplicationSubmitted' THEN 0::smallint ELSE status END AS status,
       tx_hash, block_time
FROM events
WHERE application_id IS NOT NULL;
