//! What the tests stand on, not tests of the board: real processes (anvil, PostgreSQL,
//! `jobboard` itself), a database per test, a scenario that drives the contract and keeps a
//! model of what the index must hold, a generated board for the API's limits, an RPC proxy
//! that injects a node's faults, pgbouncer in front of a database, and the deployment
//! manifests read as data.

pub mod db;
pub mod dev;
pub mod generated;
pub mod harness;
pub mod manifests;
pub mod pgbouncer;
pub mod ports;
pub mod rpc_proxy;
pub mod scenario;
pub mod serve;
pub mod ws;
