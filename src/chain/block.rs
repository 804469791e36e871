//! Block identities as the indexer tracks them.

use alloy::primitives::{B256, Bloom};

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

/// A header as the follow path checks logs against it: the block and its logs bloom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The block's identity.
    pub block: BlockRef,
    /// The bloom of every log address and topic in the block: a block whose bloom may hold the
    /// board's address but for which the node returned no board log is asked again.
    pub logs_bloom: Bloom,
}
