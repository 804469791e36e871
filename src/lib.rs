//! jobboard: an on-chain job board's indexer and API.
//!
//! The code is laid out as the pipeline data flows through:
//!
//! ```text
//! Ethereum node (JSON-RPC)
//!   -> chain:    talks to the node: deploys, log ranges, heads
//!   -> contract: sol! bindings from the Foundry artifact -> typed values; no I/O
//!   -> indexer:  orders, checks and batches events (where chain, contract and store meet)
//!   -> store:    the only module with SQL
//!   -> api:      GraphQL over axum, reading through store
//!   -> web:      the board's page for people, served beside the API, reading through it
//! ```
//!
//! Beside the pipeline, `actions` is the write side for people: the `job` and `application`
//! commands that sign and send the contract's transactions and read its views. `app` wires the
//! pipeline into the long-running commands (`index`, `serve`, `run`, `dev`), whose tasks
//! `tasks` supervises together; `cli` holds their flags, and each stage's config type (with its
//! defaults) lives in that stage. `args` holds the few flags `cli` and `actions` share, so
//! `actions` never imports `cli`.
//!
//! Rules that keep the seams clean: `contract` does no I/O; `store` knows nothing of axum,
//! GraphQL or alloy providers; `api` reads through `store` only; `indexer` is where the others
//! meet.

pub mod actions;
pub mod api;
pub mod app;
pub mod args;
pub mod chain;
pub mod cli;
pub mod config;
pub mod contract;
pub mod indexer;
pub mod local;
pub mod shutdown;
pub mod store;
pub mod tasks;
pub mod telemetry;
pub mod web;
