//! Block identities as the indexer tracks them.

use alloy::primitives::B256;

/// A block's identity and link to its parent: what the reorg window stores and the checkpoint
/// names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRef {
    /// The block number.
    pub number: u64,
    /// The block hash.
    pub hash: B256,
    /// The parent's hash: a block extends the stored chain only if this matches.
    pub parent_hash: B256,
    /// Unix seconds.
    pub time: u64,
}
