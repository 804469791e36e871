//! What a query costs, worked out from its text before anything runs: the schema's complexity
//! limit compares this against `--max-complexity`.
//!
//! A field costs 1 plus its children; a list field costs 1 plus its children once for every row
//! it may return (its `first` or `last`, else the default page). So aliases add up, nesting
//! multiplies, and the price follows the size of the answer a query can produce rather than
//! the length of its text.

/// Rows a list returns when neither `first` nor `last` is given (the spec's default page). The
/// price assumes it even where `--max-page-size` lowers the real default: an over-estimate.
pub const DEFAULT_PAGE: usize = 20;

/// The largest page `--max-page-size` allows: a larger `first` is priced as this many rows, so
/// that the resolver refuses it with the clearer `BAD_USER_INPUT` naming the page limit.
pub const LARGEST_PAGE: usize = 10_000;

/// The most a single field is priced at. async-graphql adds siblings' costs without checking
/// for overflow, so every cost stays far below `usize::MAX`: a body of 256 KiB holds fewer than
/// 2^18 fields, and 2^18 × 2^40 fits. Any limit is far below it, so the clamp refuses nothing
/// that would have passed.
pub const MAX_COST: usize = 1 << 40;

/// Most entries an application's `history` can have: the contract's transitions allow a
/// submission, a shortlisting and one final status.
pub const HISTORY_ENTRIES: usize = 3;

/// The cost of a list field reading `first` (or `last`) rows, each costing `child_complexity`.
pub fn list(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.or(last).map_or(DEFAULT_PAGE, |n| usize::try_from(n).unwrap_or(0).min(LARGEST_PAGE));
    rows.saturating_mul(child_complexity).saturating_add(1).min(MAX_COST)
}

/// The cost of an application's `history`.
pub fn history(child_complexity: usize) -> usize {
    HISTORY_ENTRIES.saturating_mul(child_complexity).saturating_add(1).min(MAX_COST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_cost_their_page_times_their_rows() {
        assert_eq!(list(Some(1000), None, 2), 2001);
        assert_eq!(list(None, Some(5), 3), 16);
        assert_eq!(list(None, None, 1), 21);
        assert_eq!(list(Some(-4), None, 9), 1);
        assert_eq!(list(Some(i32::MAX), None, 2), 20_001);
        assert_eq!(list(Some(1000), None, usize::MAX), MAX_COST);
        assert_eq!(history(2), 7);
    }
}
