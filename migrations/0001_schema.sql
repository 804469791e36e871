-- jobboard schema v1.
--
-- The event log (`events`) is the source of truth; every other table is a projection of it,
-- written in the same transaction as the events and the checkpoint. Every table is keyed by
-- (chain_id, contract) so one database can hold boards on several chains.
--
-- Encodings (docs/adr/0002-value-encoding.md): addresses and hashes are BYTEA (20 / 32 bytes),
-- job and application ids BIGINT (converted from uint256 with a checked conversion), block
-- numbers BIGINT, salaries NUMERIC(20,0) (uint64 exceeds BIGINT), times TIMESTAMPTZ from the
-- block timestamp. Event strings are untrusted bytes: the raw ABI data is kept in
-- `events.data`; projections hold a lossy UTF-8 rendering.

-- One row per indexed board: the checkpoint and what the API's _meta and /readyz report.
CREATE TABLE indexer_state (
    chain_id        BIGINT      NOT NULL,
    contract        BYTEA       NOT NULL CHECK (length(contract) = 20),
    start_block     BIGINT      NOT NULL,
    -- The last block whose events are all in the database (NULL before the first batch).
    block_number    BIGINT,
    block_hash      BYTEA       CHECK (length(block_hash) = 32),
    block_time      TIMESTAMPTZ,
    -- The newest block the indexer treats as final; no reorg is handled below it.
    finalized_block BIGINT,
    -- The node's latest block as last seen.
    head_block      BIGINT,
    backfill_done   BOOLEAN     NOT NULL DEFAULT false,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (chain_id, contract)
);

-- The block window: headers of indexed blocks above the finalized point, so a reorg can be
-- detected by hash and its fork point found without the node's help.
CREATE TABLE blocks (
    chain_id    BIGINT      NOT NULL,
    contract    BYTEA       NOT NULL,
    number      BIGINT      NOT NULL,
    hash        BYTEA       NOT NULL CHECK (length(hash) = 32),
    parent_hash BYTEA       NOT NULL CHECK (length(parent_hash) = 32),
    time        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, contract, number)
);

-- Every decoded JobBoard event, keyed by its natural position on the chain.
CREATE TABLE events (
    chain_id       BIGINT      NOT NULL,
    block_number   BIGINT      NOT NULL,
    log_index      INTEGER     NOT NULL,
    contract       BYTEA       NOT NULL CHECK (length(contract) = 20),
    block_hash     BYTEA       NOT NULL CHECK (length(block_hash) = 32),
    block_time     TIMESTAMPTZ NOT NULL,
    tx_hash        BYTEA       NOT NULL CHECK (length(tx_hash) = 32),
    tx_index       INTEGER     NOT NULL,
    -- The Solidity event name: JobPosted, JobUpdated, JobClosed, ApplicationSubmitted,
    -- ApplicationStatusChanged.
    kind           TEXT        NOT NULL CHECK (kind IN ('JobPosted', 'JobUpdated', 'JobClosed',
                                   'ApplicationSubmitted', 'ApplicationStatusChanged')),
    job_id         BIGINT      NOT NULL,
    application_id BIGINT,
    -- The employer (JobPosted) or applicant (ApplicationSubmitted) named by the event.
    actor          BYTEA       CHECK (length(actor) = 20),
    -- ApplicationStatusChanged: the new status (0 Submitted .. 4 Withdrawn).
    status         SMALLINT,
    -- The raw log, lossless: its topics concatenated (32 bytes each) and its ABI-encoded data,
    -- exactly as the node returned them.
    topics         BYTEA       NOT NULL CHECK (length(topics) % 32 = 0),
    data           BYTEA       NOT NULL,
    PRIMARY KEY (chain_id, block_number, log_index)
);
CREATE INDEX events_activity ON events (chain_id, contract, block_number DESC, log_index DESC);
CREATE INDEX events_by_job ON events (chain_id, contract, job_id, block_number, log_index);
CREATE INDEX events_by_application ON events (chain_id, contract, application_id, block_number, log_index)
    WHERE application_id IS NOT NULL;
CREATE INDEX events_by_actor ON events (chain_id, contract, actor, block_number, log_index)
    WHERE actor IS NOT NULL;

-- Jobs, with their current posting (the latest revision).
CREATE TABLE jobs (
    chain_id          BIGINT        NOT NULL,
    contract          BYTEA         NOT NULL,
    job_id            BIGINT        NOT NULL,
    employer          BYTEA         NOT NULL CHECK (length(employer) = 20),
    title             TEXT          NOT NULL,
    company           TEXT          NOT NULL,
    location          TEXT          NOT NULL,
    -- The comma-separated tags as posted, and split/trimmed/lowercased for filtering.
    tags_text         TEXT          NOT NULL,
    tags              TEXT[]        NOT NULL,
    description       TEXT          NOT NULL,
    salary_currency   TEXT          NOT NULL,
    salary_min        NUMERIC(20,0),           -- NULL = not disclosed
    salary_max        NUMERIC(20,0),           -- NULL = not disclosed
    deadline          TIMESTAMPTZ,             -- NULL = none
    closed            BOOLEAN       NOT NULL DEFAULT false,
    posted_block      BIGINT        NOT NULL,
    posted_log_index  INTEGER       NOT NULL,
    posted_tx         BYTEA         NOT NULL,
    posted_at         TIMESTAMPTZ   NOT NULL,
    updated_block     BIGINT        NOT NULL,
    updated_at        TIMESTAMPTZ   NOT NULL,
    closed_block      BIGINT,
    closed_at         TIMESTAMPTZ,
    -- Live (not withdrawn) applications.
    application_count INTEGER       NOT NULL DEFAULT 0,
    search            TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, title), 'A') ||
        setweight(to_tsvector('english'::regconfig, company || ' ' || tags_text), 'B') ||
        setweight(to_tsvector('english'::regconfig, location), 'C') ||
        setweight(to_tsvector('english'::regconfig, description), 'D')
    ) STORED,
    PRIMARY KEY (chain_id, contract, job_id)
);
CREATE INDEX jobs_by_employer ON jobs (chain_id, contract, employer, job_id);
CREATE INDEX jobs_by_salary ON jobs (chain_id, contract, salary_max DESC NULLS LAST, job_id DESC);
CREATE INDEX jobs_by_deadline ON jobs (chain_id, contract, deadline ASC NULLS LAST, job_id);
CREATE INDEX jobs_by_applications ON jobs (chain_id, contract, application_count DESC, job_id DESC);
CREATE INDEX jobs_open ON jobs (chain_id, contract, job_id DESC) WHERE NOT closed;
CREATE INDEX jobs_search ON jobs USING GIN (search);
CREATE INDEX jobs_tags ON jobs USING GIN (tags);

-- Every version of every posting, keyed by the event that published it (the first is the
-- JobPosted content, then one per JobUpdated).
CREATE TABLE job_revisions (
    chain_id        BIGINT        NOT NULL,
    contract        BYTEA         NOT NULL,
    job_id          BIGINT        NOT NULL,
    title           TEXT          NOT NULL,
    company         TEXT          NOT NULL,
    location        TEXT          NOT NULL,
    tags_text       TEXT          NOT NULL,
    description     TEXT          NOT NULL,
    salary_currency TEXT          NOT NULL,
    salary_min      NUMERIC(20,0),
    salary_max      NUMERIC(20,0),
    deadline        TIMESTAMPTZ,
    block_number    BIGINT        NOT NULL,
    log_index       INTEGER       NOT NULL,
    tx_hash         BYTEA         NOT NULL,
    block_time      TIMESTAMPTZ   NOT NULL,
    PRIMARY KEY (chain_id, contract, job_id, block_number, log_index)
);

-- Applications with their current status.
CREATE TABLE applications (
    chain_id            BIGINT      NOT NULL,
    contract            BYTEA       NOT NULL,
    application_id      BIGINT      NOT NULL,
    job_id              BIGINT      NOT NULL,
    applicant           BYTEA       NOT NULL CHECK (length(applicant) = 20),
    application_hash    BYTEA       NOT NULL CHECK (length(application_hash) = 32),
    status              SMALLINT    NOT NULL CHECK (status BETWEEN 0 AND 4),
    submitted_block     BIGINT      NOT NULL,
    submitted_log_index INTEGER     NOT NULL,
    submitted_tx        BYTEA       NOT NULL,
    submitted_at        TIMESTAMPTZ NOT NULL,
    updated_block       BIGINT      NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, contract, application_id)
);
CREATE INDEX applications_by_job ON applications (chain_id, contract, job_id, application_id);
CREATE INDEX applications_by_applicant ON applications (chain_id, contract, applicant, application_id);

-- Every status an application has had, oldest first; the first is its submission.
CREATE TABLE application_status_changes (
    chain_id       BIGINT      NOT NULL,
    contract       BYTEA       NOT NULL,
    application_id BIGINT      NOT NULL,
    block_number   BIGINT      NOT NULL,
    log_index      INTEGER     NOT NULL,
    status         SMALLINT    NOT NULL CHECK (status BETWEEN 0 AND 4),
    tx_hash        BYTEA       NOT NULL,
    block_time     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (chain_id, contract, application_id, block_number, log_index)
);

-- Per-address counts, recomputed from the projections for every address a batch touches.
CREATE TABLE employers (
    chain_id       BIGINT  NOT NULL,
    contract       BYTEA   NOT NULL,
    address        BYTEA   NOT NULL CHECK (length(address) = 20),
    job_count      INTEGER NOT NULL,
    -- Jobs not closed on-chain (expiry depends on the reader's clock and is applied at read time).
    open_job_count INTEGER NOT NULL,
    PRIMARY KEY (chain_id, contract, address)
);

CREATE TABLE applicants (
    chain_id               BIGINT  NOT NULL,
    contract               BYTEA   NOT NULL,
    address                BYTEA   NOT NULL CHECK (length(address) = 20),
    -- Every application ever submitted, withdrawn ones included.
    application_count      INTEGER NOT NULL,
    -- Applications not withdrawn.
    live_application_count INTEGER NOT NULL,
    PRIMARY KEY (chain_id, contract, address)
);
