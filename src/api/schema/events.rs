//! Activity events (queried and pushed) and where the index stands (`_meta`).

use super::*;

/// Something that happened on the board, or a reorg (subscriptions only).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct ActivityEvent {
    /// What happened.
    pub kind: ActivityKind,
    /// The job concerned (null for REORG).
    pub job_id: Option<ID>,
    /// The application concerned, for application events.
    pub application_id: Option<ID>,
    /// The new status, for APPLICATION_STATUS_CHANGED.
    pub status: Option<ApplicationStatus>,
    /// The job's employer.
    pub employer: Option<Address>,
    /// The applicant, for application events.
    pub applicant: Option<Address>,
    /// The event's block; for REORG, the block reverted to.
    pub block_number: BigInt,
    /// That block's hash.
    pub block_hash: Option<Bytes32>,
    /// The event's log index (null for REORG).
    pub log_index: Option<i32>,
    /// The event's transaction (null for REORG).
    pub tx_hash: Option<Bytes32>,
    /// The block's time (null for REORG).
    pub timestamp: Option<DateTime>,
    /// The board the event happened on.
    #[graphql(skip)]
    pub on: BoardIx,
}

impl ActivityEvent {
    pub(super) fn from_row(row: &ActivityRow, on: BoardIx) -> Self {
        ActivityEvent {
            on,
            kind: ActivityKind::from(row.kind),
            job_id: Some(id_of(row.job_id)),
            application_id: row.application_id.map(id_of),
            status: row.status.map(ApplicationStatus::from),
            employer: row.employer.map(Address),
            applicant: row.applicant.map(Address),
            block_number: BigInt(row.block_number),
            block_hash: Some(Bytes32(row.block_hash)),
            log_index: Some(row.log_index),
            tx_hash: Some(Bytes32(row.tx_hash)),
            timestamp: Some(DateTime(row.block_time)),
        }
    }
}

#[ComplexObject]
impl ActivityEvent {
    /// The chain the event happened on (for REORG, the chain that reorganised).
    async fn chain_id(&self, ctx: &Context<'_>) -> BigInt {
        BigInt(board(ctx, self.on).chain_id())
    }

    /// The job concerned, as it is now (null for REORG or if since reverted).
    async fn job(&self, ctx: &Context<'_>) -> Result<Option<Job>> {
        let Some(id) = &self.job_id else { return Ok(None) };
        let id = parse_id(id, "jobId")?;
        let row = board(ctx, self.on).loaders.load_one(JobId(id)).await.map_err(gql)?;
        Ok(row.map(|row| Job::in_list(row, self.on)))
    }

    /// The application concerned, as it is now.
    async fn application(&self, ctx: &Context<'_>) -> Result<Option<Application>> {
        let Some(id) = &self.application_id else { return Ok(None) };
        let id = parse_id(id, "applicationId")?;
        let row = board(ctx, self.on).loaders.load_one(ApplicationId(id)).await.map_err(gql)?;
        Ok(row.map(|row| Application::new(row, self.on, None)))
    }
}

/// A block of the indexed chain.
#[derive(SimpleObject, Debug, Clone)]
pub struct BlockRef {
    /// Number.
    pub number: BigInt,
    /// Hash.
    pub hash: Bytes32,
    /// Time.
    pub timestamp: DateTime,
}

impl BlockRef {
    pub(super) fn from_info(info: &store::BlockInfo) -> Self {
        BlockRef { number: BigInt(info.number), hash: Bytes32(info.hash), timestamp: DateTime(info.time) }
    }
}

/// One board indexed in this database (a chain and its board contract), as its indexer last
/// reported: what an operator or a multi-chain frontend checks per chain.
#[derive(SimpleObject, Debug, Clone)]
pub struct BoardMeta {
    /// The chain's EIP-155 id.
    pub chain_id: BigInt,
    /// The board contract on that chain.
    pub contract: Address,
    /// The board's name in the indexer's boards file (its chain id when given by flags).
    pub name: String,
    /// Whether this API serves the board: its `chainId` is one lookups and lists take. A
    /// frontend offers the boards served (the database may index more than the API serves).
    pub served: bool,
    /// What its indexer is doing; STALLED also when it has not reported for `--stall-after`.
    pub status: BoardState,
    /// The last block whose events are all in the database (null before the first).
    pub block: Option<IndexedBlock>,
    /// The node's latest block as the indexer last saw it.
    pub head_block: Option<BigInt>,
    /// Head minus indexed block, in blocks (null until both are known).
    pub lag: Option<BigInt>,
    /// The last failure reported, kept after the board recovers.
    pub last_error: Option<String>,
    /// When that failure was last reported.
    pub last_error_at: Option<DateTime>,
    /// When the indexer last reported this board's status.
    pub updated_at: DateTime,
}

/// A block by number and hash.
#[derive(SimpleObject, Debug, Clone)]
pub struct IndexedBlock {
    /// Number.
    pub number: BigInt,
    /// Hash.
    pub hash: Bytes32,
}

impl BoardMeta {
    /// The board's entry from its stored status; a report older than `stall_after` reads as
    /// STALLED whatever it said, since the indexer is no longer there to say otherwise.
    /// `served` says whether the API asking serves the board.
    pub fn from_status(
        status: store::BoardStatus,
        stall_after: std::time::Duration,
        served: bool,
    ) -> BoardMeta {
        let silent = (chrono::Utc::now() - status.updated_at).to_std().is_ok_and(|ago| ago > stall_after);
        let state = if silent && status.state != store::BoardState::Error {
            store::BoardState::Stalled
        } else {
            status.state
        };
        let lag = match (status.head_block, status.indexed) {
            (Some(head), Some((block, _))) => Some(BigInt(head.saturating_sub(block))),
            _ => None,
        };
        BoardMeta {
            chain_id: BigInt(status.board.chain_id),
            contract: Address(status.board.contract),
            name: status.name,
            served,
            status: state.into(),
            block: status
                .indexed
                .map(|(number, hash)| IndexedBlock { number: BigInt(number), hash: Bytes32(hash) }),
            head_block: status.head_block.map(BigInt),
            lag,
            last_error: status.last_error,
            last_error_at: status.last_error_at.map(DateTime),
            updated_at: DateTime(status.updated_at),
        }
    }
}

/// Where the index stands.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Meta {
    /// The indexed chain.
    pub chain_id: BigInt,
    /// The indexed board contract.
    pub contract: Address,
    /// The last block whose events are all in the database (null before the first).
    pub block: Option<BlockRef>,
    /// The newest indexed block the indexer treats as final.
    pub finalized_block: Option<BlockRef>,
    /// The node's latest block as last seen.
    pub head_block: Option<BigInt>,
    /// Backfill done, within a few blocks of the head, and the indexer alive: it reported
    /// within `--stall-after`, and advanced within it if the head moved on.
    pub synced: bool,
    /// Backfill reached the finalized block.
    pub backfill_done: bool,
    /// When the indexer last reported in (it does on every poll of the node).
    pub indexer_updated_at: Option<DateTime>,
    /// JSON-RPC endpoints of the board's chain that the operator offers to browser wallets
    /// (`--public-rpc-url`), for `wallet_addEthereumChain`; empty when none is given.
    pub public_rpc_urls: Vec<String>,
    /// The board described.
    #[graphql(skip)]
    pub on: BoardIx,
}

#[ComplexObject]
impl Meta {
    /// Every board indexed in this database, one per chain and contract, ordered by chain id:
    /// each chain is indexed on its own, so one chain's outage shows here as its own ERROR
    /// while the others stay LIVE. Empty when the indexer predates per-board statuses.
    async fn boards(&self, ctx: &Context<'_>) -> Result<Vec<BoardMeta>> {
        let context = api(ctx);
        let statuses = board(ctx, self.on).reader.board_statuses().await.map_err(read_failed)?;
        Ok(statuses
            .into_iter()
            .map(|status| {
                let served = context.boards.iter().any(|on| on.reader.board() == status.board);
                BoardMeta::from_status(status, context.stall_after, served)
            })
            .collect())
    }
}

impl Meta {
    /// Builds the meta of the board `on` from its status (see [`IndexStatus::health`]).
    pub fn from_status(context: &ApiContext, on: BoardIx, status: Option<&IndexStatus>) -> Meta {
        let stall_after = context.stall_after;
        let board = context.boards[on.0].reader.board();
        let block = status.and_then(|s| s.block.as_ref());
        let synced = status.is_some_and(|s| s.health(stall_after).synced);
        Meta {
            chain_id: BigInt(board.chain_id),
            contract: Address(board.contract),
            block: block.map(BlockRef::from_info),
            finalized_block: status.and_then(|s| s.finalized_block.as_ref()).map(BlockRef::from_info),
            head_block: status.and_then(|s| s.head_block).map(BigInt),
            synced,
            backfill_done: status.is_some_and(|s| s.backfill_done),
            indexer_updated_at: status.map(|s| DateTime(s.updated_at)),
            // `--public-rpc-url` names endpoints of the API's first board's chain.
            public_rpc_urls: if on.0 == 0 { context.public_rpc_urls.to_vec() } else { Vec::new() },
            on,
        }
    }
}
