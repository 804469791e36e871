//! The result cache: whole answers of single GraphQL requests, keyed by the normalised query,
//! the operation name and the variables, and valid only while the index stays where it was
//! when they were read (docs/adr/0017-result-cache.md).
//!
//! Popular pages ask the same few queries thousands of times per block; the answer changes only
//! when the writer commits a batch or a revert, each announced by a change notice. The live hub
//! calls [`ResultCache::invalidate`] on every notice it receives, so an entry never outlives
//! the index state it was read at by more than the notice's delivery. Without a notice
//! connection (a pooler that cannot `LISTEN`, a lost connection) nothing is cached. Answers that
//! depend on time alone (a deadline passing, `_meta.head`) are also bounded by a TTL.
//!
//! An entry remembers the block the hub had seen when its request started, a lower bound of the
//! data it holds; a request with `X-Min-Block` above it is read afresh.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_graphql::Request;
use axum::body::Bytes;
use lru::LruCache;

/// Bytes counted for an entry beyond its key and answer (the map's slot, the entry's fields).
const ENTRY_OVERHEAD: usize = 96;

/// Answers larger than the budget divided by this are not kept, so that no single answer can
/// push out the others.
const LARGEST_SHARE: usize = 16;

/// The cache of the API's answers; shared by every request handler and the live hub of every
/// board served (an answer may read any of them, so a change on any board clears it).
#[derive(Debug)]
pub struct ResultCache {
    budget: usize,
    ttl: Duration,
    state: Mutex<State>,
    hits: AtomicU64,
    misses: AtomicU64,
    bypasses: AtomicU64,
}

#[derive(Debug)]
struct State {
    /// Bumped by every invalidation: an answer read under an older epoch is not kept.
    epoch: u64,
    /// Per live hub, whether its change notices are arriving; unless all are, nothing is
    /// cached.
    listening: Vec<bool>,
    entries: LruCache<String, Entry>,
    bytes: usize,
}

impl State {
    fn all_listening(&self) -> bool {
        self.listening.iter().all(|&l| l)
    }
}

#[derive(Debug)]
struct Entry {
    answer: Bytes,
    /// Per board, the block its live hub had seen when the answer's request started.
    blocks: Vec<Option<u64>>,
    stored: Instant,
}

/// What a request should do, as [`ResultCache::lookup`] decides.
#[derive(Debug)]
pub enum Lookup {
    /// The answer, as sent before.
    Hit(Bytes),
    /// Run the request, then hand its answer to [`ResultCache::store`] with this ticket.
    Miss(Ticket),
    /// Run the request and keep nothing (the cache is off, not listening, or the request is
    /// of a kind never cached).
    Bypass,
}

/// A miss's claim to store the answer it is about to compute.
#[derive(Debug)]
pub struct Ticket {
    key: String,
    epoch: u64,
    blocks: Vec<Option<u64>>,
}

/// Hits, misses and bypasses so far, and the bytes held (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    /// Answers served from the cache.
    pub hits: u64,
    /// Cacheable requests that were run.
    pub misses: u64,
    /// Requests that could not use the cache.
    pub bypasses: u64,
    /// Bytes held now.
    pub bytes: usize,
    /// Answers held now.
    pub entries: usize,
}

impl ResultCache {
    /// A cache of at most `budget` bytes whose answers live at most `ttl`, kept valid by
    /// `hubs` live hubs (one per board served); a budget of 0 turns it off.
    pub fn new(budget: usize, ttl: Duration, hubs: usize) -> ResultCache {
        let listening = vec![false; hubs];
        ResultCache {
            budget,
            ttl,
            state: Mutex::new(State { epoch: 0, listening, entries: LruCache::unbounded(), bytes: 0 }),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            bypasses: AtomicU64::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a plain map and counters: a panic elsewhere cannot leave it half-made.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Looks `request` up. `indexed` holds, per board, the block its live hub has seen now;
    /// `min_block` the board and block the client asked to see (`X-Min-Block`).
    pub fn lookup(
        &self,
        request: &Request,
        indexed: Vec<Option<u64>>,
        min_block: Option<(usize, u64)>,
    ) -> Lookup {
        let Some(key) = self.key_of(request) else {
            self.bypasses.fetch_add(1, Ordering::Relaxed);
            return Lookup::Bypass;
        };
        let mut state = self.state();
        if !state.all_listening() {
            drop(state);
            self.bypasses.fetch_add(1, Ordering::Relaxed);
            return Lookup::Bypass;
        }
        let epoch = state.epoch;
        if let Some(entry) = state.entries.get(&key)
            && entry.stored.elapsed() < self.ttl
            // Read over as many boards as this request's: not by a request that started
            // before a board was added and kept its answer after.
            && entry.blocks.len() == indexed.len()
            && min_block.is_none_or(|(board, wanted)| {
                entry.blocks.get(board).copied().flatten().is_some_and(|held| held >= wanted)
            })
        {
            let answer = entry.answer.clone();
            drop(state);
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Lookup::Hit(answer);
        }
        drop(state);
        self.misses.fetch_add(1, Ordering::Relaxed);
        Lookup::Miss(Ticket { key, epoch, blocks: indexed })
    }

    /// Keeps `answer` for `ticket`'s request, unless the index moved (an invalidation) since
    /// the ticket was taken, or the answer is too large to keep.
    pub fn store(&self, ticket: Ticket, answer: Bytes) {
        let size = ticket.key.len() + answer.len() + ENTRY_OVERHEAD;
        if size > self.budget / LARGEST_SHARE {
            return;
        }
        let mut state = self.state();
        if state.epoch != ticket.epoch || !state.all_listening() {
            return;
        }
        let entry = Entry { answer, blocks: ticket.blocks, stored: Instant::now() };
        let key_len = ticket.key.len();
        if let Some(old) = state.entries.put(ticket.key, entry) {
            state.bytes -= key_len + old.answer.len() + ENTRY_OVERHEAD;
        }
        state.bytes += size;
        while state.bytes > self.budget {
            let Some((key, old)) = state.entries.pop_lru() else { break };
            state.bytes -= key.len() + old.answer.len() + ENTRY_OVERHEAD;
        }
    }

    /// Forgets every answer, and refuses those being computed: the index moved (a change
    /// notice arrived) or may have moved unseen.
    pub fn invalidate(&self) {
        let mut state = self.state();
        state.epoch += 1;
        state.entries.clear();
        state.bytes = 0;
    }

    /// Makes room for one more live hub (a board the API starts serving) and returns its
    /// number. Nothing is cached until it listens, and nothing kept before is served again:
    /// those answers were read over fewer boards.
    pub fn add_hub(&self) -> usize {
        let mut state = self.state();
        state.listening.push(false);
        state.epoch += 1;
        state.entries.clear();
        state.bytes = 0;
        state.listening.len() - 1
    }

    /// Whether the change notices of hub `hub` are arriving. Turning it on or off also
    /// invalidates: changes made while nobody listened were not seen.
    pub fn set_listening(&self, hub: usize, listening: bool) {
        let mut state = self.state();
        let Some(was) = state.listening.get_mut(hub) else { return };
        if *was != listening {
            *was = listening;
            state.epoch += 1;
            state.entries.clear();
            state.bytes = 0;
        }
    }

    /// Counters and size, for `/metrics`.
    pub fn stats(&self) -> CacheStats {
        let state = self.state();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bypasses: self.bypasses.load(Ordering::Relaxed),
            bytes: state.bytes,
            entries: state.entries.len(),
        }
    }

    /// The key of a cacheable request: its query normalised, its operation name and its
    /// variables in a canonical order. `None` when the cache is off or the request carries
    /// extensions (whose meaning the key would not capture).
    fn key_of(&self, request: &Request) -> Option<String> {
        if self.budget == 0 || !request.extensions.is_empty() {
            return None;
        }
        let variables = serde_json::to_value(&request.variables).ok()?;
        let mut key = normalise_query(&request.query);
        key.push('\0');
        key.push_str(request.operation_name.as_deref().unwrap_or(""));
        key.push('\0');
        write_canonical(&variables, &mut key);
        Some(key)
    }
}

/// The query with its insignificant characters (white space, commas, comments, a byte-order
/// mark) folded into single spaces, outside string literals: two spellings of one query share
/// an entry.
pub fn normalise_query(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut chars = query.char_indices().peekable();
    let mut pending_space = false;
    while let Some((at, c)) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' | ',' | '\u{feff}' => pending_space = true,
            '#' => {
                pending_space = true;
                while chars.next_if(|&(_, c)| c != '\n' && c != '\r').is_some() {}
            }
            '"' => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                let end = string_end(query, at);
                out.push_str(&query[at..end]);
                while chars.next_if(|&(i, _)| i < end).is_some() {}
            }
            _ => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
        }
    }
    out
}

/// The byte offset just past the string literal starting at `start` (a `"` in `query`): a
/// block string `"""…"""` (where `\"""` is an escaped delimiter) or a plain one (where `\`
/// escapes the next character). An unterminated literal runs to the end.
fn string_end(query: &str, start: usize) -> usize {
    let rest = &query[start..];
    if let Some(body) = rest.strip_prefix("\"\"\"") {
        let mut i = 0;
        while i < body.len() {
            if body[i..].starts_with("\\\"\"\"") {
                i += 4;
            } else if body[i..].starts_with("\"\"\"") {
                return start + 3 + i + 3;
            } else {
                i += body[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
        return query.len();
    }
    let mut escaped = false;
    for (i, c) in rest.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return start + i + 1,
            _ => {}
        }
    }
    query.len()
}

/// `value` as JSON with every object's keys sorted, so that variables sent in any key order
/// share an entry.
fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut fields: Vec<_> = map.iter().collect();
            fields.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (name, field)) in fields.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(name.clone()).to_string());
                out.push(':');
                write_canonical(field, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, variables: serde_json::Value) -> Request {
        Request::new(query).variables(async_graphql::Variables::from_json(variables))
    }

    fn listening_cache(budget: usize) -> ResultCache {
        let cache = ResultCache::new(budget, Duration::from_secs(60), 1);
        cache.set_listening(0, true);
        cache
    }

    #[test]
    fn folds_insignificant_characters_but_not_strings() {
        assert_eq!(
            normalise_query("  { jobs(first: 2,) {\n nodes { id } } }\n"),
            "{ jobs(first: 2 ) { nodes { id } } }"
        );
        assert_eq!(normalise_query("{a}# a comment, \"with quotes\n{b}"), "{a} {b}");
        assert_eq!(normalise_query("{ f(s: \"a  ,  b\") }"), "{ f(s: \"a  ,  b\") }");
        assert_eq!(normalise_query("{ f(s: \"a \\\" ,  b\") }"), "{ f(s: \"a \\\" ,  b\") }");
        assert_eq!(
            normalise_query("{ f(s: \"\"\"x \\\"\"\" ,  y\"\"\") }"),
            "{ f(s: \"\"\"x \\\"\"\" ,  y\"\"\") }"
        );
        assert_eq!(normalise_query("{ f(s: \"open"), "{ f(s: \"open");
        assert_eq!(normalise_query("\u{feff}{a}"), "{a}");
    }

    #[test]
    fn variables_in_any_key_order_share_a_key() {
        let cache = listening_cache(1 << 20);
        let a = cache.key_of(&request("{a}", serde_json::json!({"x": 1, "y": {"b": 2, "a": [1, "s"]}})));
        let b = cache.key_of(&request("{a}", serde_json::json!({"y": {"a": [1, "s"], "b": 2}, "x": 1})));
        assert!(a.is_some());
        assert_eq!(a, b);
        let c = cache.key_of(&request("{a}", serde_json::json!({"x": 2})));
        assert_ne!(a, c);
    }

    fn answer(text: &str) -> Bytes {
        Bytes::from(text.to_owned())
    }

    fn miss(lookup: Lookup) -> Ticket {
        match lookup {
            Lookup::Miss(ticket) => ticket,
            other => panic!("expected a miss, got {other:?}"),
        }
    }

    #[test]
    fn serves_a_stored_answer_until_invalidated() {
        let cache = listening_cache(1 << 20);
        let q = request("{a}", serde_json::json!({}));
        let ticket = miss(cache.lookup(&q, vec![Some(5)], None));
        cache.store(ticket, answer("one"));
        assert!(matches!(cache.lookup(&q, vec![Some(5)], None), Lookup::Hit(b) if b == "one"));
        cache.invalidate();
        assert!(matches!(cache.lookup(&q, vec![Some(5)], None), Lookup::Miss(_)));
        assert_eq!(cache.stats().entries, 0);
    }

    #[test]
    fn an_answer_read_across_an_invalidation_is_not_kept() {
        let cache = listening_cache(1 << 20);
        let q = request("{a}", serde_json::json!({}));
        let ticket = miss(cache.lookup(&q, vec![Some(5)], None));
        cache.invalidate();
        cache.store(ticket, answer("read while the index moved"));
        assert!(matches!(cache.lookup(&q, vec![Some(6)], None), Lookup::Miss(_)));
    }

    #[test]
    fn a_min_block_above_the_entry_reads_afresh() {
        let cache = listening_cache(1 << 20);
        let q = request("{a}", serde_json::json!({}));
        cache.store(miss(cache.lookup(&q, vec![Some(5)], None)), answer("at 5"));
        assert!(matches!(cache.lookup(&q, vec![Some(5)], Some((0, 5))), Lookup::Hit(_)));
        assert!(matches!(cache.lookup(&q, vec![Some(5)], Some((0, 6))), Lookup::Miss(_)));
        let empty = request("{b}", serde_json::json!({}));
        cache.store(miss(cache.lookup(&empty, vec![None], None)), answer("before any block"));
        assert!(matches!(cache.lookup(&empty, vec![None], Some((0, 0))), Lookup::Miss(_)));
    }

    #[test]
    fn nothing_is_cached_without_notices_or_budget() {
        let deaf = ResultCache::new(1 << 20, Duration::from_secs(60), 1);
        let q = request("{a}", serde_json::json!({}));
        assert!(matches!(deaf.lookup(&q, vec![Some(1)], None), Lookup::Bypass));
        let off = ResultCache::new(0, Duration::from_secs(60), 1);
        off.set_listening(0, true);
        assert!(matches!(off.lookup(&q, vec![Some(1)], None), Lookup::Bypass));
        // A ticket taken while listening is void once notices stop.
        let cache = listening_cache(1 << 20);
        let ticket = miss(cache.lookup(&q, vec![Some(1)], None));
        cache.set_listening(0, false);
        cache.set_listening(0, true);
        cache.store(ticket, answer("x"));
        assert!(matches!(cache.lookup(&q, vec![Some(1)], None), Lookup::Miss(_)));
    }

    #[test]
    fn over_several_boards_it_caches_only_while_every_hub_listens_and_checks_the_named_chain() {
        let cache = ResultCache::new(1 << 20, Duration::from_secs(60), 2);
        let q = request("{a}", serde_json::json!({}));
        cache.set_listening(0, true);
        assert!(matches!(cache.lookup(&q, vec![Some(1), Some(9)], None), Lookup::Bypass));
        cache.set_listening(1, true);
        cache.store(miss(cache.lookup(&q, vec![Some(1), Some(9)], None)), answer("x"));
        assert!(matches!(cache.lookup(&q, vec![Some(1), Some(9)], Some((1, 9))), Lookup::Hit(_)));
        // Block 9 is held for the second board, not the first.
        assert!(matches!(cache.lookup(&q, vec![Some(1), Some(9)], Some((0, 9))), Lookup::Miss(_)));
    }

    #[test]
    fn stays_within_its_budget_dropping_the_least_recently_used() {
        let budget = 16 * (1000 + 2 + ENTRY_OVERHEAD) * 3 / 2;
        let cache = listening_cache(budget);
        let big = "x".repeat(1000);
        for i in 0..40 {
            let q = request(&format!("{{a{i}}}"), serde_json::json!({}));
            cache.store(miss(cache.lookup(&q, vec![Some(1)], None)), answer(&big));
            assert!(cache.stats().bytes <= budget);
        }
        let newest = request("{a39}", serde_json::json!({}));
        assert!(matches!(cache.lookup(&newest, vec![Some(1)], None), Lookup::Hit(_)));
        let oldest = request("{a0}", serde_json::json!({}));
        assert!(matches!(cache.lookup(&oldest, vec![Some(1)], None), Lookup::Miss(_)));
        // Larger than a sixteenth of the budget: never kept.
        let huge = request("{huge}", serde_json::json!({}));
        cache.store(miss(cache.lookup(&huge, vec![Some(1)], None)), answer(&"y".repeat(budget / 8)));
        assert!(matches!(cache.lookup(&huge, vec![Some(1)], None), Lookup::Miss(_)));
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = ResultCache::new(1 << 20, Duration::ZERO, 1);
        cache.set_listening(0, true);
        let q = request("{a}", serde_json::json!({}));
        cache.store(miss(cache.lookup(&q, vec![Some(1)], None)), answer("x"));
        assert!(matches!(cache.lookup(&q, vec![Some(1)], None), Lookup::Miss(_)));
    }
}
