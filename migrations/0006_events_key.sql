-- The event table's key names its board, as every other table's does:
-- (chain_id, contract, block_number, log_index). A log index is unique within a block whatever
-- the contract, so no existing row conflicts; the key now says which board a row belongs to,
-- ahead of several boards per database (several chains, or two deployments on one).
--
-- The new key has the columns of `events_activity`, and a btree is read backwards as cheaply as
-- forwards, so the feed's newest-first walk (and its `kind_in` filter) runs on the key and that
-- index goes: one index fewer to write on the largest table.
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (chain_id, contract, block_number, log_index);
DROP INDEX events_activity;
