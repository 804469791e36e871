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
}

impl ActivityEvent {
    pub(super) fn from_row(row: &ActivityRow) -> Self {
        ActivityEvent {
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
    /// The job concerned, as it is now (null for REORG or if since reverted).
    async fn job(&self, ctx: &Context<'_>) -> Result<Option<Job>> {
        let Some(id) = &self.job_id else { return Ok(None) };
        let id = parse_id(id, "jobId")?;
        Ok(api(ctx).loaders.load_one(JobId(id)).await.map_err(gql)?.map(Job::in_list))
    }

    /// The application concerned, as it is now.
    async fn application(&self, ctx: &Context<'_>) -> Result<Option<Application>> {
        let Some(id) = &self.application_id else { return Ok(None) };
        let id = parse_id(id, "applicationId")?;
        Ok(api(ctx).loaders.load_one(ApplicationId(id)).await.map_err(gql)?.map(|row| Application(row, None)))
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

/// Where the index stands.
#[derive(SimpleObject, Debug, Clone)]
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
}

impl Meta {
    /// Builds the meta of the context's board from its status (see [`IndexStatus::health`]).
    pub fn from_status(context: &ApiContext, status: Option<&IndexStatus>) -> Meta {
        let stall_after = context.stall_after;
        let board = context.reader.board();
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
            public_rpc_urls: context.public_rpc_urls.to_vec(),
        }
    }
}
