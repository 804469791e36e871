//! Everything that talks to the Ethereum node: connecting, deploying the board, and (for the
//! indexer) fetching logs and heads.

mod block;
mod client;
mod deploy;
mod error;
mod heads;

pub use block::BlockRef;
pub use client::{ChainClient, RangeRefusal, RetryPolicy, parse_refusal, redact};
pub use deploy::{Deployment, deploy_board};
pub use error::ChainError;
pub use heads::{HeadsError, watch_new_heads};
