-- Backfill by loading raw and projecting in bulk (docs/adr/0021-bulk-backfill.md).
--
-- Below the finalized block the indexer appends the raw event log (`events`, and the decoded
-- postings in `job_revisions`) with a mark of its own, then builds the projections from those
-- rows in SQL over large chunks. `loaded_*` is that mark: the last block whose raw rows are all
-- in the database, NULL when nothing is loaded beyond the checkpoint. The checkpoint
-- (`block_number`, `block_hash`, `block_time`) keeps its meaning, "every row up to here,
-- projections included", and takes the loaded mark's value in the projection's transaction.
-- Each mark moves in the same transaction as the rows it covers, so a crash between the two
-- leaves raw rows that the next start projects, exactly once.
ALTER TABLE indexer_state
    ADD COLUMN loaded_block BIGINT,
    ADD COLUMN loaded_hash  BYTEA CHECK (length(loaded_hash) = 32),
    ADD COLUMN loaded_time  TIMESTAMPTZ,
    ADD CONSTRAINT loaded_mark_complete
        CHECK ((loaded_block IS NULL) = (loaded_hash IS NULL) AND (loaded_block IS NULL) = (loaded_time IS NULL)),
    ADD CONSTRAINT loaded_above_checkpoint CHECK (loaded_block > block_number OR block_number IS NULL);

-- A revision's tags as the job gets them (split, trimmed, lowercased, control characters
-- removed by `split_tags`), so SQL can make a revision the job's current posting without
-- a second copy of that rule. NULL for revisions written before this migration, which no
-- projection reads again (they are all projected already).
ALTER TABLE job_revisions ADD COLUMN tags TEXT[];
