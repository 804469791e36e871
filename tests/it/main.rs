//! Integration tests: one binary, real anvil and real PostgreSQL, started by the harness itself.

mod actions;
mod api;
mod api_hostile;
mod api_limits;
mod api_plans;
mod api_serve;
mod contract;
mod db;
mod dev;
mod generated;
mod harness;
mod hostile_values;
mod indexer;
mod node_errors;
mod outages;
mod random_reorgs;
mod readme;
mod rewind;
mod rpc_faults;
mod rpc_proxy;
mod scenario;
mod tasks;
mod web;
