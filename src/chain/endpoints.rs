//! The RPC endpoints behind one [`super::ChainClient`]: which chain each is on, how healthy it
//! is, how high its head is, and which one the next indexer step reads from.
//!
//! Rules, each in this one place:
//! - an endpoint is used only once it has confirmed the chain id the indexer serves, at start
//!   and again every time it comes back after being marked down;
//! - an endpoint that fails [`DOWN_AFTER`] calls in a row is down for a cooldown (growing to
//!   [`MAX_DOWN_FOR`]), then probed before it is used again;
//! - among the usable endpoints the first in `--rpc-url` order whose head is within
//!   [`HEAD_TOLERANCE`] blocks of the highest is chosen: a lagging node is passed over, and a
//!   recovered first endpoint is failed back to at the next probe.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use tracing::{info, warn};
use url::Url;

use super::redact::redact;
use crate::telemetry::Metrics;

/// Consecutive failed calls after which an endpoint is down.
pub(crate) const DOWN_AFTER: u32 = 2;
/// First cooldown of a down endpoint; it doubles each time the endpoint goes down again
/// without a success in between.
const DOWN_FOR: Duration = Duration::from_secs(2);
/// Longest cooldown.
const MAX_DOWN_FOR: Duration = Duration::from_secs(60);
/// Blocks an endpoint's head may trail the highest and still be preferred for its rank: nodes
/// in sync differ by a block or two, and switching for that would only churn.
pub(crate) const HEAD_TOLERANCE: u64 = 2;

/// One `--rpc-url`.
pub(crate) struct Endpoint {
    /// The URL as it may be printed.
    pub shown: String,
    /// Its client.
    pub provider: RootProvider,
    /// The URL itself (it may carry a key: never printed), for the calls made without the
    /// provider (`eth_getLogs`, parsed as it arrives: `super::logs_answer`).
    pub url: Url,
    /// The HTTP client of those calls.
    pub http: alloy::transports::http::reqwest::Client,
    health: Mutex<Health>,
}

/// What the client has learnt about one endpoint.
#[derive(Debug, Default)]
struct Health {
    /// The chain id was confirmed since the endpoint last went down.
    chain_ok: bool,
    /// The chain id the endpoint last reported, when it was another chain.
    wrong_chain: Option<u64>,
    /// Its head as last seen.
    head: Option<u64>,
    /// Failed calls since the last success.
    failures: u32,
    /// Times it went down without a success in between (sets the cooldown).
    downs: u32,
    /// Down until then (then probed before use).
    down_until: Option<Instant>,
}

impl Endpoint {
    fn new(url: &Url) -> Endpoint {
        let provider = ProviderBuilder::new().disable_recommended_fillers().connect_http(url.clone());
        Endpoint {
            shown: redact(url),
            provider: provider.root().clone(),
            url: url.clone(),
            http: alloy::transports::http::reqwest::Client::new(),
            health: Mutex::default(),
        }
    }

    fn health(&self) -> MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The set of endpoints with the chain they must all be on.
pub(crate) struct Endpoints {
    list: Vec<Endpoint>,
    /// The chain id every endpoint must report: `--chain-id`, else the first answer at start.
    chain: Mutex<Option<u64>>,
    last_probe: Mutex<Option<Instant>>,
    /// How often every endpoint's head is probed (what fail-back waits for at most).
    pub probe_every: Duration,
    /// Round-robin position for calls made before any endpoint is known to be usable.
    next_blind: std::sync::atomic::AtomicUsize,
}

/// The outcome of asking one endpoint for its chain id.
pub(crate) enum ChainCheck {
    /// Same chain as expected (or the first answer, which set the expectation).
    Confirmed,
    /// Another chain: the endpoint is not used.
    Wrong {
        /// The chain id it reported.
        found: u64,
        /// The chain id expected.
        expected: u64,
    },
}

impl Endpoints {
    /// Endpoints for `urls`, in preference order.
    pub fn new(urls: &[Url], probe_every: Duration) -> Endpoints {
        Endpoints {
            list: urls.iter().map(Endpoint::new).collect(),
            chain: Mutex::new(None),
            last_probe: Mutex::new(None),
            probe_every,
            next_blind: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// How many endpoints there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Endpoint `index`.
    pub fn get(&self, index: usize) -> &Endpoint {
        &self.list[index % self.list.len()]
    }

    /// The chain id the endpoints must report, once known.
    pub fn chain(&self) -> Option<u64> {
        *self.chain.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fixes the expected chain id (from `--chain-id`) before any endpoint answers.
    pub fn expect_chain(&self, chain_id: u64) {
        *self.chain.lock().unwrap_or_else(PoisonError::into_inner) = Some(chain_id);
    }

    /// Records endpoint `index`'s answer to `eth_chainId`; the first answer sets the
    /// expectation when none was given.
    pub fn check_chain(&self, index: usize, found: u64) -> ChainCheck {
        let expected = *self.chain.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(found);
        let endpoint = self.get(index);
        let mut health = endpoint.health();
        if found == expected {
            if !health.chain_ok {
                info!(endpoint = index, url = %endpoint.shown, chain_id = found, "rpc endpoint confirmed its chain id");
            }
            health.chain_ok = true;
            health.wrong_chain = None;
            ChainCheck::Confirmed
        } else {
            if health.wrong_chain != Some(found) {
                warn!(endpoint = index, url = %endpoint.shown, expected, found, "rpc endpoint is on another chain; not using it");
            }
            health.chain_ok = false;
            health.wrong_chain = Some(found);
            ChainCheck::Wrong { found, expected }
        }
    }

    /// Records a successful call to endpoint `index`.
    pub fn succeeded(&self, index: usize) {
        let mut health = self.get(index).health();
        health.failures = 0;
        health.downs = 0;
        health.down_until = None;
    }

    /// Records endpoint `index`'s head.
    pub fn saw_head(&self, index: usize, head: u64, metrics: &Metrics) {
        let endpoint = self.get(index);
        endpoint.health().head = Some(head);
        metrics.rpc_endpoint_head(index, &endpoint.shown, head);
    }

    /// Records a failed call to endpoint `index`; returns whether it is now down.
    pub fn failed(&self, index: usize) -> bool {
        let endpoint = self.get(index);
        let mut health = endpoint.health();
        health.failures += 1;
        if health.failures < DOWN_AFTER || health.down_until.is_some_and(|until| until > Instant::now()) {
            return health.down_until.is_some();
        }
        health.downs += 1;
        let cooldown =
            DOWN_FOR.saturating_mul(1u32 << health.downs.min(6).saturating_sub(1)).min(MAX_DOWN_FOR);
        health.down_until = Some(Instant::now() + cooldown);
        // Whatever answers after the outage must prove its chain again (a load balancer or a
        // re-provisioned node may now be something else).
        health.chain_ok = false;
        warn!(endpoint = index, url = %endpoint.shown, failures = health.failures, ?cooldown, "rpc endpoint is down");
        true
    }

    /// The endpoint to read from: the first usable one whose head is within
    /// [`HEAD_TOLERANCE`] of the highest usable head. `None` when none is usable.
    pub fn choose(&self) -> Option<usize> {
        let now = Instant::now();
        let usable: Vec<(usize, u64)> = self
            .list
            .iter()
            .enumerate()
            .filter_map(|(index, endpoint)| {
                let health = endpoint.health();
                let up = health.down_until.is_none_or(|until| until <= now) && health.failures < DOWN_AFTER;
                (health.chain_ok && up).then_some((index, health.head.unwrap_or(0)))
            })
            .collect();
        let best = usable.iter().map(|&(_, head)| head).max()?;
        usable
            .into_iter()
            .find(|&(_, head)| head.saturating_add(HEAD_TOLERANCE) >= best)
            .map(|(index, _)| index)
    }

    /// An endpoint for a call that may go anywhere: the chosen one, else the next in turn.
    pub fn any(&self) -> usize {
        self.choose().unwrap_or_else(|| {
            self.next_blind.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.list.len()
        })
    }

    /// Whether the endpoints should be probed before choosing: never probed, a probe is due,
    /// or none is usable.
    pub fn probe_due(&self) -> bool {
        let last = *self.last_probe.lock().unwrap_or_else(PoisonError::into_inner);
        last.is_none_or(|at| at.elapsed() >= self.probe_every) || self.choose().is_none()
    }

    /// Marks a probe round as done now.
    pub fn probed(&self) {
        *self.last_probe.lock().unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
    }

    /// Whether endpoint `index` needs its chain id confirmed before use, and may be probed
    /// now (not inside a cooldown).
    pub fn needs_chain_check(&self, index: usize) -> bool {
        !self.get(index).health().chain_ok
    }

    /// Whether endpoint `index` is inside its cooldown (not to be probed yet).
    pub fn cooling_down(&self, index: usize) -> bool {
        self.get(index).health().down_until.is_some_and(|until| until > Instant::now())
    }

    /// A one-line account of every endpoint, for the error when none is usable.
    pub fn summary(&self) -> String {
        self.list
            .iter()
            .enumerate()
            .map(|(index, endpoint)| {
                let health = endpoint.health();
                let state = match (health.wrong_chain, health.chain_ok, health.down_until) {
                    (Some(chain), _, _) => format!("on chain {chain}"),
                    (None, _, Some(until)) if until > Instant::now() => {
                        format!("down after {} failures", health.failures)
                    }
                    (None, false, _) => "chain id not confirmed".to_owned(),
                    (None, true, _) => format!("head {:?}", health.head),
                };
                format!("#{index} {} ({state})", endpoint.shown)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(n: usize) -> Endpoints {
        let urls: Vec<Url> =
            (0..n).map(|i| Url::parse(&format!("http://127.0.0.1:{}", 10_000 + i)).expect("url")).collect();
        Endpoints::new(&urls, Duration::from_secs(30))
    }

    #[test]
    fn prefers_the_first_endpoint_near_the_highest_head_and_fails_back() {
        let metrics = Metrics::default();
        let e = endpoints(3);
        assert_eq!(e.choose(), None, "nothing confirmed yet");
        for i in 0..3 {
            assert!(matches!(e.check_chain(i, 7), ChainCheck::Confirmed));
        }
        e.saw_head(0, 95, &metrics);
        e.saw_head(1, 100, &metrics);
        e.saw_head(2, 99, &metrics);
        assert_eq!(e.choose(), Some(1), "the first is lagging by more than the tolerance");
        e.saw_head(0, 99, &metrics);
        assert_eq!(e.choose(), Some(0), "back to the first once it caught up");
        assert!(!e.failed(0));
        assert!(e.failed(0), "down after two failures in a row");
        assert_eq!(e.choose(), Some(1));
        assert!(e.needs_chain_check(0), "a down endpoint must confirm its chain again");
    }

    #[test]
    fn an_endpoint_on_another_chain_is_never_chosen() {
        let metrics = Metrics::default();
        let e = endpoints(2);
        e.expect_chain(1);
        assert!(matches!(e.check_chain(0, 5), ChainCheck::Wrong { found: 5, expected: 1 }));
        assert!(matches!(e.check_chain(1, 1), ChainCheck::Confirmed));
        e.saw_head(0, 500, &metrics);
        e.saw_head(1, 10, &metrics);
        assert_eq!(e.choose(), Some(1));
        assert!(e.summary().contains("on chain 5"), "{}", e.summary());
    }
}
