//! Stored values to domain types: the one place the store's SQL shapes (`BIGINT`, `BYTEA`,
//! `SMALLINT`) become `u64`, `Address`, `B256` and `ApplicationStatus` on the way out.
//!
//! The schema's CHECKs make a bad value impossible short of a hand edit or a bug, so a value
//! that does not convert fails the read with [`BadValue`], naming the column and the value,
//! rather than showing as 0 or the zero address.

use std::fmt;

use alloy::primitives::{Address, B256};
use chrono::{DateTime, Utc};

use super::board_status::BoardState;
use crate::contract::{ApplicationStatus, EventKind};

/// A stored value that is not a valid value of its domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column} holds {value}, which is not {expected}")]
pub struct BadValue {
    /// The column read.
    pub column: &'static str,
    /// The value found, printed (bytes as hex).
    pub value: String,
    /// What the column should hold.
    pub expected: &'static str,
}

impl BadValue {
    fn new(column: &'static str, value: impl fmt::Display, expected: &'static str) -> Self {
        Self { column, value: value.to_string(), expected }
    }
}

/// Decoding a row fails with the bad value inside sqlx's decode error; `StoreError`'s
/// conversion from `sqlx::Error` takes it back out as [`super::StoreError::BadValue`].
impl From<BadValue> for sqlx::Error {
    fn from(bad: BadValue) -> Self {
        sqlx::Error::Decode(Box::new(bad))
    }
}

/// A `BIGINT` block number, id or count as the `u64` it stands for.
///
/// # Errors
/// [`BadValue`] for a negative value.
pub(crate) fn u64_from(value: i64, column: &'static str) -> Result<u64, BadValue> {
    u64::try_from(value).map_err(|_| BadValue::new(column, value, "a non-negative integer"))
}

/// A `BYTEA` address.
///
/// # Errors
/// [`BadValue`] unless it is 20 bytes long.
pub(crate) fn address_from(bytes: &[u8], column: &'static str) -> Result<Address, BadValue> {
    Address::try_from(bytes).map_err(|_| BadValue::new(column, hex(bytes), "a 20-byte address"))
}

/// A `BYTEA` hash.
///
/// # Errors
/// [`BadValue`] unless it is 32 bytes long.
pub(crate) fn b256_from(bytes: &[u8], column: &'static str) -> Result<B256, BadValue> {
    B256::try_from(bytes).map_err(|_| BadValue::new(column, hex(bytes), "a 32-byte hash"))
}

/// A `SMALLINT` status byte.
///
/// # Errors
/// [`BadValue`] outside the contract's 0..=4.
pub(crate) fn status_from(byte: i16, column: &'static str) -> Result<ApplicationStatus, BadValue> {
    u8::try_from(byte)
        .ok()
        .and_then(|b| ApplicationStatus::try_from(b).ok())
        .ok_or_else(|| BadValue::new(column, byte, "an application status (0..=4)"))
}

/// A `TEXT` event kind (the Solidity event name).
///
/// # Errors
/// [`BadValue`] for a name that is not one of the board's five events.
pub(crate) fn event_kind_from(name: &str, column: &'static str) -> Result<EventKind, BadValue> {
    EventKind::from_name(name).ok_or_else(|| BadValue::new(column, name, "one of the board's event names"))
}

/// A `TIMESTAMPTZ` block time as Unix seconds.
///
/// # Errors
/// [`BadValue`] for a time before 1970.
pub(crate) fn unix_seconds_from(time: DateTime<Utc>, column: &'static str) -> Result<u64, BadValue> {
    u64::try_from(time.timestamp()).map_err(|_| BadValue::new(column, time, "a time after 1970"))
}

/// A `TEXT` board state (`board_status.status`).
///
/// # Errors
/// [`BadValue`] for a name that is not one of the four states.
pub(crate) fn board_state_from(name: &str, column: &'static str) -> Result<BoardState, BadValue> {
    BoardState::from_name(name).ok_or_else(|| BadValue::new(column, name, "SYNCING, LIVE, STALLED or ERROR"))
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{} ({} bytes)", alloy::hex::encode(bytes), bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_values_convert_and_bad_ones_name_their_column_and_value() {
        assert_eq!(u64_from(7, "jobs.job_id"), Ok(7));
        let negative = u64_from(-1, "jobs.job_id").expect_err("-1 is negative");
        assert_eq!(negative.to_string(), "column jobs.job_id holds -1, which is not a non-negative integer");
        assert_eq!(address_from(&[0x11; 20], "jobs.employer"), Ok(Address::repeat_byte(0x11)));
        let short = address_from(&[0xab, 0xcd], "jobs.employer").expect_err("2 bytes are not an address");
        assert_eq!(short.value, "0xabcd (2 bytes)");
        assert!(b256_from(&[0; 31], "jobs.posted_tx").is_err());
        assert_eq!(status_from(4, "applications.status"), Ok(ApplicationStatus::Withdrawn));
        assert!(status_from(5, "applications.status").is_err());
        assert!(status_from(-1, "applications.status").is_err());
    }

    #[test]
    fn a_bad_value_survives_the_trip_through_sqlx_error() {
        let bad = u64_from(-3, "applications.job_id").expect_err("-3 is negative");
        let store = super::super::StoreError::from(sqlx::Error::from(bad.clone()));
        assert!(matches!(&store, super::super::StoreError::BadValue(b) if *b == bad), "{store:?}");
        assert!(store.is_deterministic());
    }
}
