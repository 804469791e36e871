//! The schema's scalars: `Address`, `Bytes32`, `BigInt` and `DateTime`, each with one canonical
//! output form and a strict input parser whose error says what was expected.

use alloy::primitives::{Address as AlloyAddress, B256};
use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime as ChronoDateTime, SecondsFormat, Utc};

/// A 20-byte account address: `0x`-prefixed lowercase hex out; any case (EIP-55 or not) in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Address(pub AlloyAddress);

#[Scalar(name = "Address")]
/// A 20-byte Ethereum address: `0x`-prefixed lowercase hex. Inputs accept any letter case.
impl ScalarType for Address {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::custom("expected a string such as \"0x1234…\" (40 hex digits)"));
        };
        parse_hex::<20>(text).map(|bytes| Address(AlloyAddress::from(bytes))).map_err(|why| {
            InputValueError::custom(format!("{why}: an address is 0x followed by 40 hex digits"))
        })
    }

    fn to_value(&self) -> Value {
        Value::String(format!("{:#x}", self.0))
    }
}

/// A 32-byte hash (transaction, block, application hash): `0x`-prefixed lowercase hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bytes32(pub B256);

#[Scalar(name = "Bytes32")]
/// A 32-byte value (a hash): `0x`-prefixed lowercase hex. Inputs accept any letter case.
impl ScalarType for Bytes32 {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::custom("expected a string of 0x and 64 hex digits"));
        };
        parse_hex::<32>(text)
            .map(|bytes| Bytes32(B256::from(bytes)))
            .map_err(|why| InputValueError::custom(format!("{why}: expected 0x followed by 64 hex digits")))
    }

    fn to_value(&self) -> Value {
        Value::String(format!("{:#x}", self.0))
    }
}

/// An unsigned integer that may exceed 2^31 (salaries, block numbers), as a decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BigInt(pub u64);

#[Scalar(name = "BigInt")]
/// An unsigned integer up to 2^64-1 as a decimal string (`"1500000"`); inputs also accept a
/// JSON number when it is a non-negative integer.
impl ScalarType for BigInt {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => text.parse::<u64>().map(BigInt).map_err(|_| {
                InputValueError::custom(format!("{text:?} is not a decimal integer in 0..2^64"))
            }),
            Value::Number(n) => n
                .as_u64()
                .map(BigInt)
                .ok_or_else(|| InputValueError::custom(format!("{n} is not an integer in 0..2^64"))),
            _ => Err(InputValueError::custom("expected a decimal string such as \"1500000\"")),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

impl BigInt {
    /// A stored `NUMERIC(20,0)` (a `uint64` salary) as PostgreSQL prints it.
    pub fn from_decimal(text: &str) -> Option<Self> {
        text.parse().ok().map(BigInt)
    }
}

/// A point in time: RFC 3339 in UTC, from block timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime(pub ChronoDateTime<Utc>);

#[Scalar(name = "DateTime")]
/// A point in time, RFC 3339 in UTC (`"2026-11-25T10:00:00Z"`); inputs accept any offset.
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::custom(
                "expected an RFC 3339 string such as \"2026-11-25T10:00:00Z\"",
            ));
        };
        ChronoDateTime::parse_from_rfc3339(text)
            .map(|t| DateTime(t.with_timezone(&Utc)))
            .map_err(|e| InputValueError::custom(format!("{text:?} is not an RFC 3339 time ({e})")))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

/// Parses `0x` + exactly `2 * N` hex digits, any case.
fn parse_hex<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .ok_or_else(|| format!("{:?} does not start with 0x", truncate(text)))?;
    if digits.len() != 2 * N {
        return Err(format!("{:?} has {} hex digits, not {}", truncate(text), digits.len(), 2 * N));
    }
    let mut out = [0u8; N];
    alloy::hex::decode_to_slice(digits, &mut out)
        .map_err(|_| format!("{:?} contains a character that is not a hex digit", truncate(text)))?;
    Ok(out)
}

/// Echoes at most 80 characters of bad input back.
fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse_in_any_case_and_print_lowercase() {
        let checksummed = "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B";
        let parsed = Address::parse(Value::String(checksummed.into())).expect("valid address");
        assert_eq!(parsed.to_value(), Value::String(checksummed.to_lowercase()));
    }

    #[test]
    fn malformed_hex_is_refused_with_the_reason() {
        for bad in [
            "ab5801a7d398351b8be11c439e05c5b3259aec9b",
            "0x1234",
            "0xzz5801a7d398351b8be11c439e05c5b3259aec9b",
        ] {
            let error = Address::parse(Value::String(bad.into())).expect_err(bad);
            assert!(error.into_server_error(Default::default()).message.contains("address"), "{bad}");
        }
        assert!(Bytes32::parse(Value::Number(1.into())).is_err());
    }

    #[test]
    fn big_ints_round_trip_as_strings_and_refuse_negatives() {
        assert_eq!(BigInt::parse(Value::String("18446744073709551615".into())).ok(), Some(BigInt(u64::MAX)));
        assert_eq!(BigInt(7).to_value(), Value::String("7".into()));
        assert!(BigInt::parse(Value::String("-1".into())).is_err());
        assert!(BigInt::parse(Value::Number((-1).into())).is_err());
    }

    #[test]
    fn times_print_as_utc_seconds() {
        let t = DateTime::parse(Value::String("2026-11-25T12:00:00+02:00".into())).expect("valid time");
        assert_eq!(t.to_value(), Value::String("2026-11-25T10:00:00Z".into()));
    }
}
