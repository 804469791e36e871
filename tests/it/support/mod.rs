//! What the tests stand on, not tests of the board: real processes (anvil, PostgreSQL,
//! `jobboard` itself), a database per test, a scenario that drives the contract and keeps a
//! model of what the index must hold, a generated board for the API's limits, an RPC proxy
//! that injects a node's faults, and pgbouncer in front of a database.

pub mod db;
pub mod dev;
pub mod generated;
pub mod harness;
pub mod pgbouncer;
pub mod rpc_proxy;
pub mod scenario;
pub mod serve;
pub mod ws;
