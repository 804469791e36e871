-- How each board's indexer is doing, as the process indexing it last reported: SYNCING
-- (backfilling or catching up), LIVE (within a few blocks of the head), STALLED (the node
-- answers but the index cannot advance: a node behind the checkpoint, incomplete answers) or
-- ERROR (the node cannot be reached, or the board stopped on an error an operator must fix).
-- `last_error` keeps the last failure after the board recovers, with when it was last seen.
--
-- A row of its own, not columns of `indexer_state`: it is written over a connection that does
-- not hold the board's writer lock (the node may be down before the lock's session is even
-- open, and a status write must never wait on, or hold up, a batch's transaction, which
-- updates `indexer_state` under a row lock). The indexed block and the head stay in
-- `indexer_state`, moved with the data; readers join the two (docs/adr/0016).
CREATE TABLE board_status (
    chain_id      BIGINT      NOT NULL,
    contract      BYTEA       NOT NULL CHECK (length(contract) = 20),
    name          TEXT        NOT NULL,
    status        TEXT        NOT NULL CHECK (status IN ('SYNCING', 'LIVE', 'STALLED', 'ERROR')),
    last_error    TEXT,
    last_error_at TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, contract)
);
