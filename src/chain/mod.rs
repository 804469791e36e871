//! Everything that talks to the Ethereum node: connecting, deploying the board, and (for the
//! indexer) fetching logs and heads.

mod deploy;
mod error;

pub use deploy::{Deployment, deploy_board};
pub use error::ChainError;
