//! The `X-Min-Block` header: `N`, or `CHAIN:N` naming the chain the block is on
//! (`X-Min-Block: 8453:123456`). A frontend that talks to boards on several chains says which
//! chain its write landed on; the plain form means the API's one chain.

/// Why an `X-Min-Block` value was refused; the message is the client's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MinBlockError {
    /// Not `N` or `CHAIN:N` in decimal.
    #[error("X-Min-Block must be a decimal block number, or `chainId:block` (e.g. `8453:123456`)")]
    Malformed,
    /// A chain this API does not index.
    #[error("X-Min-Block names chain {asked}, but this API indexes chain {indexed}")]
    OtherChain {
        /// The chain named by the header.
        asked: u64,
        /// The chain indexed here.
        indexed: u64,
    },
}

/// The block a request must see on `chain_id` (the chain this API indexes), from the header's
/// text.
///
/// # Errors
/// [`MinBlockError`] for a value that is not `N` or `CHAIN:N`, or that names another chain.
pub fn parse_min_block(text: &str, chain_id: u64) -> Result<u64, MinBlockError> {
    let number = |part: &str| part.trim().parse::<u64>().map_err(|_| MinBlockError::Malformed);
    match text.split_once(':') {
        None => number(text),
        Some((chain, block)) => {
            let asked = number(chain)?;
            let block = number(block)?;
            if asked == chain_id {
                Ok(block)
            } else {
                Err(MinBlockError::OtherChain { asked, indexed: chain_id })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_plain_and_the_chain_qualified_forms() {
        assert_eq!(parse_min_block("123456", 8453), Ok(123_456));
        assert_eq!(parse_min_block(" 7 ", 1), Ok(7));
        assert_eq!(parse_min_block("8453:123456", 8453), Ok(123_456));
        assert_eq!(parse_min_block("8453: 9", 8453), Ok(9));
    }

    #[test]
    fn refuses_another_chain_and_malformed_values() {
        assert_eq!(parse_min_block("1:5", 8453), Err(MinBlockError::OtherChain { asked: 1, indexed: 8453 }));
        for bad in ["", "-1", "0x10", "1.5", "8453:", ":5", "a:5", "8453:5:6", "99999999999999999999"] {
            assert_eq!(parse_min_block(bad, 8453), Err(MinBlockError::Malformed), "{bad:?}");
        }
    }
}
