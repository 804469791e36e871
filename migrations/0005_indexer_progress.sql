-- When the checkpoint last moved (forwards, or back in a revert), beside `updated_at` (when the
-- indexer last reported, which it does on every poll of the node): an indexer that reports but
-- cannot advance while the head moves on is stalled, and `serve` in another process can tell
-- only from these two times (docs/adr/0010). Kept by the database itself, so every statement
-- that moves the checkpoint (a batch, a revert, one added later) keeps it right.
ALTER TABLE indexer_state ADD COLUMN advanced_at TIMESTAMPTZ NOT NULL DEFAULT now();

CREATE FUNCTION indexer_state_advanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.advanced_at := now();
    RETURN NEW;
END
$$;

CREATE TRIGGER indexer_state_advanced BEFORE UPDATE OF block_number ON indexer_state
    FOR EACH ROW WHEN (OLD.block_number IS DISTINCT FROM NEW.block_number)
    EXECUTE FUNCTION indexer_state_advanced();
