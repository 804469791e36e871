//! Opaque keyset cursors: the list and ordering they belong to, the row's sort value and id,
//! hex-encoded. A cursor from another list or ordering is refused rather than misread.

use crate::store::SortKey;

/// Encodes the position of a row in the list `list` (e.g. `jobs:NEWEST`).
pub fn encode(list: &str, key: &SortKey) -> String {
    alloy::hex::encode(format!("{list}|{}|{}", key.id, key.value))
}

/// Decodes a cursor given out for the same `list`.
///
/// # Errors
/// A message for the client if the cursor is malformed or belongs to another list or ordering.
pub fn decode(list: &str, cursor: &str) -> Result<SortKey, String> {
    let malformed =
        || format!("cursor {:?} is not one this API gave out", cursor.chars().take(80).collect::<String>());
    let bytes = alloy::hex::decode(cursor).map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let mut parts = text.splitn(3, '|');
    let (Some(owner), Some(id), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    if owner != list {
        return Err(format!(
            "cursor belongs to {owner}, not {list}: pass cursors back with the same ordering"
        ));
    }
    let id = id.parse().map_err(|_| malformed())?;
    Ok(SortKey { value: value.to_owned(), id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_list() {
        let key = SortKey { value: "2026-11-25 10:00:00+00".into(), id: 42 };
        let cursor = encode("jobs:DEADLINE_SOONEST", &key);
        assert_eq!(decode("jobs:DEADLINE_SOONEST", &cursor), Ok(key));
        assert!(decode("jobs:NEWEST", &cursor).expect_err("other list").contains("belongs to"));
        assert!(decode("jobs:NEWEST", "zz").is_err());
        assert!(decode("jobs:NEWEST", &alloy::hex::encode("jobs:NEWEST|x|")).is_err());
    }
}
