//! "Range too large" answers to `eth_getLogs`: recognising them among a provider's error
//! messages, and reading the range the provider would accept instead.

/// An error answer from `eth_getLogs` that says the range was too large, with the node's
/// suggested range if it gave one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRefusal {
    /// The node named a range it would accept, starting at the requested `fromBlock`.
    Hint {
        /// The suggested last block.
        to_block: u64,
    },
    /// The node named its maximum range length in blocks.
    MaxRange(u64),
    /// The node refused without saying what it would accept.
    NoHint,
}

/// Recognises the error messages providers use for "range too large" and extracts the hint.
///
/// Seen in the wild: "query returned more than 10000 results. Try with this block range
/// [0x1, 0x2]." (Infura, Alchemy and others), "exceed maximum block range: 2000", "block range
/// too large", "Log response size exceeded", "range is too large, max is 1k blocks", "limit
/// exceeded".
pub fn parse_refusal(message: &str) -> Option<RangeRefusal> {
    let lower = message.to_ascii_lowercase();
    let is_refusal = [
        "more than",
        "block range",
        "range too large",
        "range is too large",
        "too many",
        "response size",
        "limit exceeded",
        "exceed maximum",
        "max range",
    ]
    .iter()
    .any(|needle| lower.contains(needle));
    if !is_refusal {
        return None;
    }
    if let Some(start) = message.find('[') {
        let inner = &message[start + 1..];
        if let Some((_, second)) = inner.split_once(',') {
            let second = second.trim_start();
            let end = second.find(']').unwrap_or(second.len());
            if let Some(to_block) = parse_quantity(second[..end].trim()) {
                return Some(RangeRefusal::Hint { to_block });
            }
        }
    }
    // "exceed maximum block range: 2000" / "max is 1k blocks"
    let digits: String = lower
        .rsplit(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or_default()
        .to_owned();
    if lower.contains("range") {
        let n = if let Some(k) = digits.strip_suffix('k') {
            k.parse::<u64>().ok().map(|k| k * 1000)
        } else {
            digits.parse().ok()
        };
        if let Some(n) = n.filter(|&n| n > 0) {
            return Some(RangeRefusal::MaxRange(n));
        }
    }
    Some(RangeRefusal::NoHint)
}

fn parse_quantity(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_provider_refusals() {
        assert_eq!(
            parse_refusal(
                "query returned more than 10000 results. Try with this block range [0x1E8480, 0x1E84FF]."
            ),
            Some(RangeRefusal::Hint { to_block: 0x1E84FF })
        );
        assert_eq!(parse_refusal("exceed maximum block range: 2000"), Some(RangeRefusal::MaxRange(2000)));
        assert_eq!(parse_refusal("range is too large, max is 1k blocks"), Some(RangeRefusal::MaxRange(1000)));
        assert_eq!(parse_refusal("query returned more than 500 results"), Some(RangeRefusal::NoHint));
        assert_eq!(parse_refusal("Log response size exceeded."), Some(RangeRefusal::NoHint));
        assert_eq!(parse_refusal("execution reverted"), None);
        assert_eq!(parse_refusal("invalid params"), None);
    }
}
