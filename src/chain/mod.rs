//! Everything that talks to the Ethereum node: connecting, deploying the board, and (for the
//! indexer) fetching logs and heads from endpoints chosen by health and head height.

mod block;
mod client;
mod deploy;
mod endpoints;
mod error;
mod heads;
mod logs_answer;
mod redact;
mod refusal;

pub use block::{BlockRef, Header};
pub use client::{ChainClient, DEFAULT_PROBE_EVERY, Finality, RetryPolicy};
pub use deploy::{Deployment, deploy_board};
pub use error::{ChainError, NodeBehind, NodeLacksBlock};
pub use heads::{HeadsError, watch_new_heads};
pub use redact::{RedactedError, error_text, redact, redact_text, redacted};
pub use refusal::{RangeRefusal, parse_refusal};
