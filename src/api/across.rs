//! Lists across boards: one page merged from the pages each board's own list gives, and the
//! cursors that continue it (docs/adr/0020-one-api-over-several-boards.md).
//!
//! Each board's list is read with its own keyset statement, unchanged; the pages are merged by
//! a key every chain shares (the sort value where the ordering has one that means the same on
//! every chain, the block time where it is a chain's own count: ids, block numbers), then by
//! chain id. Since that key never goes against a board's own order, the merged list is a
//! k-way merge of the boards' lists, and a position in it is, for every board, the last row of
//! that board the list has passed. A cursor carries exactly that, so the next page starts each
//! board right after its own last row: no row is skipped or repeated, whatever the ties.

use std::cmp::Ordering;

use crate::store::{Page, PageRequest, SortKey};

/// A position in a list read across boards: the chain of the row it stands on, and for every
/// board (by chain id) the key of the last row of that board at or before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcrossCursor {
    /// The chain of the row this cursor stands on.
    pub at: u64,
    /// Per chain, in the order of the boards served: the last row passed, if any.
    pub passed: Vec<(u64, Option<SortKey>)>,
}

impl AcrossCursor {
    fn passed(&self, chain_id: u64) -> Option<&SortKey> {
        self.passed.iter().find(|(c, _)| *c == chain_id).and_then(|(_, key)| key.as_ref())
    }
}

/// Encodes the position `cursor` in the list `list`.
pub fn encode(list: &str, cursor: &AcrossCursor) -> String {
    let mut text = format!("{list}|{}|", cursor.at);
    for (i, (chain, key)) in cursor.passed.iter().enumerate() {
        if i > 0 {
            text.push(';');
        }
        match key {
            Some(key) => text.push_str(&format!("{chain}={}:{}", key.id, key.value)),
            None => text.push_str(&format!("{chain}=-")),
        }
    }
    alloy::hex::encode(text)
}

/// Decodes a cursor given out for the same `list` over the boards of `chains`, each key checked
/// with `accepts` (a cursor comes from the client: a forged key is refused here).
///
/// # Errors
/// A message for the client if the cursor is malformed, belongs to another list, or was given
/// out over another set of boards.
pub fn decode(
    list: &str,
    chains: &[u64],
    cursor: &str,
    accepts: impl Fn(&SortKey) -> bool,
) -> Result<AcrossCursor, String> {
    let malformed =
        || format!("cursor {:?} is not one this API gave out", cursor.chars().take(80).collect::<String>());
    let bytes = alloy::hex::decode(cursor).map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let mut parts = text.splitn(3, '|');
    let (Some(owner), Some(at), Some(positions)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    if owner != list {
        return Err(format!(
            "cursor belongs to {owner}, not {list}: pass cursors back with the same ordering"
        ));
    }
    let at: u64 = at.parse().map_err(|_| malformed())?;
    let mut passed = Vec::with_capacity(chains.len());
    for position in positions.split(';') {
        let (chain, key) = position.split_once('=').ok_or_else(malformed)?;
        let chain: u64 = chain.parse().map_err(|_| malformed())?;
        let key = match key {
            "-" => None,
            key => {
                let (id, value) = key.split_once(':').ok_or_else(malformed)?;
                let key = SortKey { value: value.to_owned(), id: id.parse().map_err(|_| malformed())? };
                if !accepts(&key) {
                    return Err(malformed());
                }
                Some(key)
            }
        };
        passed.push((chain, key));
    }
    let same_boards =
        passed.len() == chains.len() && passed.iter().zip(chains).all(|((c, _), want)| c == want);
    if !same_boards || !chains.contains(&at) {
        return Err("cursor was given out over another set of boards; start the list again".into());
    }
    Ok(AcrossCursor { at, passed })
}

/// A slice of a list across boards, as the client asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcrossRequest {
    /// Only rows after this position.
    pub after: Option<AcrossCursor>,
    /// Only rows before this position.
    pub before: Option<AcrossCursor>,
    /// How many rows.
    pub limit: usize,
    /// The last `limit` rows of the slice instead of the first.
    pub from_end: bool,
}

impl AcrossRequest {
    /// The slice to read from the board on `chain_id`, whose list runs high to low when
    /// `descending`; `None` when that board has no row in the slice.
    pub fn for_board(&self, chain_id: u64, descending: bool) -> Option<PageRequest> {
        let after = self.after.as_ref().and_then(|c| c.passed(chain_id)).cloned();
        let before = match &self.before {
            None => None,
            Some(cursor) => match cursor.passed(chain_id) {
                // Nothing of this board comes before the position.
                None => return None,
                // The row the cursor stands on: rows before it.
                Some(key) if cursor.at == chain_id => Some(key.clone()),
                // Its last row at or before the position: rows before the next possible key.
                Some(key) => Some(next_key(key, descending)),
            },
        };
        Some(PageRequest { after, before, limit: self.limit, from_end: self.from_end })
    }
}

/// The smallest key after `key` in a list ordered by (value, id): ids are whole numbers, so
/// "before this key" means "at or before `key`".
fn next_key(key: &SortKey, descending: bool) -> SortKey {
    let id = if descending { key.id.saturating_sub(1) } else { key.id.saturating_add(1) };
    SortKey { value: key.value.clone(), id }
}

/// What rows of different boards are merged by: a value that means the same on every chain.
#[derive(Debug, Clone, PartialEq)]
pub enum MergeKey {
    /// A time (block time).
    Time(chrono::DateTime<chrono::Utc>),
    /// A number as PostgreSQL printed it (integers of any size, or a float).
    Number(String),
}

impl MergeKey {
    fn compare(&self, other: &MergeKey) -> Ordering {
        match (self, other) {
            (MergeKey::Time(a), MergeKey::Time(b)) => a.cmp(b),
            (MergeKey::Number(a), MergeKey::Number(b)) => compare_numbers(a, b),
            // One list has one kind of key; never reached.
            (MergeKey::Time(_), MergeKey::Number(_)) => Ordering::Less,
            (MergeKey::Number(_), MergeKey::Time(_)) => Ordering::Greater,
        }
    }
}

/// Compares two numbers printed by PostgreSQL: integers exactly (a uint256 salary has 78
/// digits), anything with a fraction or exponent as `f64` (a relevance rank).
fn compare_numbers(a: &str, b: &str) -> Ordering {
    let integer = |t: &str| t.strip_prefix('-').unwrap_or(t).bytes().all(|c| c.is_ascii_digit());
    if integer(a) && integer(b) {
        let (a_negative, b_negative) = (a.starts_with('-'), b.starts_with('-'));
        let digits = |t: &str| {
            let t = t.trim_start_matches('-').trim_start_matches('0');
            (t.len(), t.to_owned())
        };
        let magnitude = digits(a).cmp(&digits(b));
        return match (a_negative, b_negative) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (true, false) if digits(a).0 == 0 && digits(b).0 == 0 => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) if digits(a).0 == 0 && digits(b).0 == 0 => Ordering::Equal,
            (false, true) => Ordering::Greater,
        };
    }
    let float = |t: &str| t.parse::<f64>().unwrap_or(f64::NAN);
    float(a).total_cmp(&float(b))
}

/// One row of a merged page: its position (the cursor to give out), its board's index among
/// the pages merged, and the row.
#[derive(Debug, Clone)]
pub struct MergedRow<T> {
    /// Where the list stands once this row is passed.
    pub cursor: AcrossCursor,
    /// Which of the merged pages it came from.
    pub board: usize,
    /// The row.
    pub row: T,
}

/// A page of a list across boards.
#[derive(Debug, Clone)]
pub struct Merged<T> {
    /// The rows in list order.
    pub rows: Vec<MergedRow<T>>,
    /// More rows lie beyond the page (after it, or before it when read from the end).
    pub has_more: bool,
}

/// Merges the boards' pages (each read with [`AcrossRequest::for_board`], in list order; a
/// board with nothing in the slice has an empty page) into one page of `request`'s slice.
/// `chains` are the boards' chain ids in the order the cursors list them, `merge_key` gives a
/// row's cross-chain key, and the list runs high to low when `descending`.
pub fn merge<T>(
    chains: &[u64],
    pages: Vec<Page<T>>,
    request: &AcrossRequest,
    descending: bool,
    merge_key: impl Fn(&SortKey, &T) -> MergeKey,
) -> Merged<T> {
    let any_more = pages.iter().any(|p| p.has_more);
    // Every row read, in list order: by the shared key in the list's direction, then chain id.
    let mut heads: Vec<std::iter::Peekable<std::vec::IntoIter<(SortKey, T)>>> =
        pages.into_iter().map(|p| p.rows.into_iter().peekable()).collect();
    let mut all: Vec<(usize, SortKey, T)> = Vec::new();
    loop {
        let mut best: Option<(usize, MergeKey)> = None;
        for (board, head) in heads.iter_mut().enumerate() {
            let Some((key, row)) = head.peek() else { continue };
            let candidate = merge_key(key, row);
            let better = match &best {
                None => true,
                Some((held, held_key)) => {
                    let by_key = candidate.compare(held_key);
                    let by_key = if descending { by_key.reverse() } else { by_key };
                    by_key.then(chains[board].cmp(&chains[*held])) == Ordering::Less
                }
            };
            if better {
                best = Some((board, candidate));
            }
        }
        let Some((board, _)) = best else { break };
        if let Some((key, row)) = heads[board].next() {
            all.push((board, key, row));
        }
    }
    let total = all.len();
    let (skip, has_more) = if request.from_end {
        (total.saturating_sub(request.limit), any_more || total > request.limit)
    } else {
        (0, any_more || total > request.limit)
    };
    let start: Vec<(u64, Option<SortKey>)> =
        chains.iter().map(|&c| (c, request.after.as_ref().and_then(|a| a.passed(c)).cloned())).collect();
    let mut passed = start;
    let mut rows = Vec::with_capacity(request.limit.min(total));
    for (index, (board, key, row)) in all.into_iter().enumerate() {
        passed[board].1 = Some(key);
        if index < skip || rows.len() == request.limit {
            continue;
        }
        rows.push(MergedRow {
            cursor: AcrossCursor { at: chains[board], passed: passed.clone() },
            board,
            row,
        });
    }
    Merged { rows, has_more }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: i64) -> SortKey {
        SortKey { value: String::new(), id }
    }

    /// Rows of several boards, as (chain index, id, time): each board's list newest first.
    fn boards() -> (Vec<u64>, Vec<Vec<(i64, i64)>>) {
        // chain 10: ids 1..=7 at times 1,2,2,5,6,6,9; chain 56: ids 1..=5 at times 2,2,3,6,8.
        let chains = vec![10, 56];
        let rows = vec![
            vec![(1, 1), (2, 2), (3, 2), (4, 5), (5, 6), (6, 6), (7, 9)],
            vec![(1, 2), (2, 2), (3, 3), (4, 6), (5, 8)],
        ];
        (chains, rows)
    }

    /// What one board's keyset read returns for `request` (newest first: by id descending).
    fn read(rows: &[(i64, i64)], request: &PageRequest) -> Page<i64> {
        let mut slice: Vec<(i64, i64)> = rows
            .iter()
            .rev()
            .copied()
            .filter(|(id, _)| request.after.as_ref().is_none_or(|k| *id < k.id))
            .filter(|(id, _)| request.before.as_ref().is_none_or(|k| *id > k.id))
            .collect();
        let has_more = slice.len() > request.limit;
        if request.from_end {
            slice = slice.split_off(slice.len().saturating_sub(request.limit));
        } else {
            slice.truncate(request.limit);
        }
        Page { rows: slice.into_iter().map(|(id, time)| (key(id), time)).collect(), has_more }
    }

    fn page(request: &AcrossRequest) -> Merged<i64> {
        let (chains, rows) = boards();
        let pages = chains
            .iter()
            .zip(&rows)
            .map(|(&c, r)| request.for_board(c, true).map(|req| read(r, &req)).unwrap_or_default())
            .collect();
        let time = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
        merge(&chains, pages, request, true, |_, t| MergeKey::Time(time(*t)))
    }

    fn labels(merged: &Merged<i64>) -> Vec<String> {
        let (chains, _) = boards();
        merged
            .rows
            .iter()
            .map(|r| {
                format!("{}#{}", chains[r.board], r.cursor.passed[r.board].1.as_ref().map_or(0, |k| k.id))
            })
            .collect()
    }

    #[test]
    fn paging_forward_and_backward_visits_every_row_once_in_time_then_chain_order() {
        let whole = page(&AcrossRequest { after: None, before: None, limit: 100, from_end: false });
        let expected =
            ["10#7", "56#5", "10#6", "10#5", "56#4", "10#4", "56#3", "10#3", "10#2", "56#2", "56#1", "10#1"];
        assert_eq!(labels(&whole), expected);
        assert!(!whole.has_more);
        for limit in 1..=5 {
            // Forward, page by page.
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let merged =
                    page(&AcrossRequest { after: after.clone(), before: None, limit, from_end: false });
                seen.extend(labels(&merged));
                after = merged.rows.last().map(|r| r.cursor.clone());
                if !merged.has_more {
                    break;
                }
            }
            assert_eq!(seen, expected, "forward, {limit} a page");
            // Backward from the end, page by page.
            let mut seen = Vec::new();
            let mut before = None;
            loop {
                let merged =
                    page(&AcrossRequest { after: None, before: before.clone(), limit, from_end: true });
                let mut labelled = labels(&merged);
                labelled.extend(seen);
                seen = labelled;
                before = merged.rows.first().map(|r| r.cursor.clone());
                if !merged.has_more {
                    break;
                }
            }
            assert_eq!(seen, expected, "backward, {limit} a page");
        }
    }

    #[test]
    fn cursors_round_trip_and_refuse_other_lists_boards_and_forged_keys() {
        let cursor = AcrossCursor { at: 56, passed: vec![(10, Some(key(4))), (56, None)] };
        let text = encode("jobs:Newest", &cursor);
        assert_eq!(decode("jobs:Newest", &[10, 56], &text, |_| true), Ok(cursor));
        assert!(decode("jobs:Oldest", &[10, 56], &text, |_| true).expect_err("list").contains("belongs to"));
        assert!(decode("jobs:Newest", &[10, 8453], &text, |_| true).expect_err("boards").contains("boards"));
        assert!(decode("jobs:Newest", &[10, 56], &text, |_| false).is_err());
        assert!(decode("jobs:Newest", &[10, 56], "zz", |_| true).is_err());
        assert!(
            decode("jobs:Newest", &[10, 56], &alloy::hex::encode("jobs:Newest|10|10"), |_| true).is_err()
        );
    }

    #[test]
    fn numbers_compare_by_value_whatever_their_length_or_sign() {
        assert_eq!(compare_numbers("9", "10"), Ordering::Less);
        assert_eq!(compare_numbers("-1", "0"), Ordering::Less);
        assert_eq!(compare_numbers("-10", "-9"), Ordering::Less);
        assert_eq!(compare_numbers("18446744073709551616", "18446744073709551615"), Ordering::Greater);
        let big = "1".repeat(78);
        assert_eq!(compare_numbers(&big, "5"), Ordering::Greater);
        assert_eq!(compare_numbers("0.06", "1e-05"), Ordering::Greater);
        assert_eq!(compare_numbers("7", "7"), Ordering::Equal);
    }
}
