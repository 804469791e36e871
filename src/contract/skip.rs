//! Logs an operator has decided to skip: the only way a log from the board's address is ever
//! left out of the index.
//!
//! The board's own events always decode (every value the contract can emit has a column), so a
//! log that does not is foreign (a wrong `--contract`) or a node's corruption. The indexer stops
//! on it and names its position; the operator may then name that position with `--skip-log`.
//! A named log that does decode is indexed anyway: skipping a real event would corrupt every
//! derived value after it.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A log's position on the chain: block number and log index within the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogAt {
    /// The block's number.
    pub block_number: u64,
    /// The log's index in the block.
    pub log_index: u64,
}

impl FromStr for LogAt {
    type Err = String;

    /// Parses `BLOCK:LOGINDEX`, both decimal (as the indexer's error message prints them).
    fn from_str(text: &str) -> Result<LogAt, String> {
        let expected = || format!("'{text}' is not BLOCK:LOGINDEX (e.g. 1234567:3)");
        let (block, index) = text.trim().split_once(':').ok_or_else(expected)?;
        Ok(LogAt {
            block_number: block.parse().map_err(|_| expected())?,
            log_index: index.parse().map_err(|_| expected())?,
        })
    }
}

impl fmt::Display for LogAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.block_number, self.log_index)
    }
}

/// The positions of undecodable logs the operator chose to skip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkippedLogs(BTreeSet<LogAt>);

impl SkippedLogs {
    /// Whether the log at `block_number`, `log_index` was named.
    pub fn contains(&self, block_number: u64, log_index: u64) -> bool {
        self.0.contains(&LogAt { block_number, log_index })
    }

    /// Whether no log was named.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<LogAt> for SkippedLogs {
    fn from_iter<I: IntoIterator<Item = LogAt>>(iter: I) -> Self {
        SkippedLogs(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_block_and_log_index_and_refuses_anything_else() {
        assert_eq!("12:3".parse(), Ok(LogAt { block_number: 12, log_index: 3 }));
        assert_eq!(" 18446744073709551615:0 ".parse::<LogAt>().map(|l| l.block_number), Ok(u64::MAX));
        for bad in ["12", "12:", ":3", "a:3", "12:-1", "12:3:4", "0x10:1"] {
            assert!(bad.parse::<LogAt>().is_err(), "{bad} must be refused");
        }
        let skips: SkippedLogs =
            ["5:1".parse::<LogAt>()].into_iter().collect::<Result<_, _>>().expect("parses");
        assert!(skips.contains(5, 1) && !skips.contains(5, 2) && !skips.contains(1, 5));
        assert_eq!(LogAt { block_number: 5, log_index: 1 }.to_string(), "5:1");
    }
}
