//! Integration tests: one binary, real anvil (and, later, real PostgreSQL), started by the
//! harness itself.

mod contract;
mod harness;
