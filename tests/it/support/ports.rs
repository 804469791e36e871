//! Ports for the processes the tests start on fixed ports (`jobboard dev`, `serve`,
//! pgbouncer), taken below the kernel's ephemeral range.
//!
//! A port the kernel hands out for `127.0.0.1:0` is free only until the listener closes: an
//! outgoing connection from any concurrent test (to PostgreSQL, to anvil) may take the same
//! number as its source port before the process under test binds it. Ports below the ephemeral
//! range (32768 and up on Linux) are never used that way, and a process-wide counter keeps two
//! tests from picking the same one.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};

use anyhow::{Result, bail};

/// The range handed out, below Linux's default ephemeral range (32768–60999).
const FIRST: u16 = 20_000;
const LAST: u16 = 32_000;

static NEXT: AtomicU16 = AtomicU16::new(0);

/// A port no listener holds now, and that no other test of this process is given.
pub fn free_port() -> Result<u16> {
    free_ports(1)
}

/// The first of `count` consecutive ports that no listener holds now (`jobboard dev --chains
/// 2` puts the second anvil on the port after the first).
pub fn free_ports(count: u16) -> Result<u16> {
    let span = LAST - FIRST;
    // Start at a place that depends on the process so that two test runs at once rarely meet.
    let _ = NEXT.compare_exchange(
        0,
        (std::process::id() % u32::from(span)) as u16 + 1,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..span / count {
        let offset = NEXT.fetch_add(count, Ordering::Relaxed) % span;
        let first = FIRST + offset;
        if first.saturating_add(count) > LAST {
            continue;
        }
        if (first..first + count).all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok()) {
            return Ok(first);
        }
    }
    bail!("no {count} consecutive free ports between {FIRST} and {LAST}")
}
