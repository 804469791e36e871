//! Integration tests: one binary, real anvil and real PostgreSQL, started by the harness itself.

mod actions;
mod api;
mod contract;
mod db;
mod dev;
mod harness;
mod indexer;
mod readme;
mod rpc_faults;
mod rpc_proxy;
mod scenario;
