//! Integration tests: one binary, real anvil and real PostgreSQL, started by the harness itself.
//!
//! `support` holds what the tests stand on (processes, databases, the scenario, the RPC proxy);
//! every other module is tests, one area of the board each.

mod support;

mod actions;
mod actions_chains;
mod api;
mod api_boards;
mod api_chains;
mod api_hostile;
mod api_limits;
mod api_plans;
mod api_serve;
mod chains;
mod contract;
mod deploy;
mod dev;
mod hostile_values;
mod indexer;
mod node_errors;
mod outages;
mod pgbouncer;
mod postgres;
mod random_reorgs;
mod readme;
mod replica;
mod replica_conflicts;
mod rewind;
mod rpc_faults;
mod rpc_proxy;
mod snapshot;
mod tasks;
mod web;
