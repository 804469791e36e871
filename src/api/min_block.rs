//! The `X-Min-Block` header: `N`, or `CHAIN:N` naming the chain the block is on
//! (`X-Min-Block: 8453:123456`). A frontend that talks to boards on several chains says which
//! chain its write landed on; the plain form means the API's first (usually only) board.

/// Why an `X-Min-Block` value was refused; the message is the client's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MinBlockError {
    /// Not `N` or `CHAIN:N` in decimal.
    #[error("X-Min-Block must be a decimal block number, or `chainId:block` (e.g. `8453:123456`)")]
    Malformed,
    /// A chain this API does not serve.
    #[error("X-Min-Block names chain {asked}, but this API serves chains {served}")]
    OtherChain {
        /// The chain named by the header.
        asked: u64,
        /// The chains served here, comma-separated.
        served: String,
    },
}

/// The board (an index into `chains`, the chain ids served, first board first) and block a
/// request must see, from the header's text.
///
/// # Errors
/// [`MinBlockError`] for a value that is not `N` or `CHAIN:N`, or that names a chain not
/// served.
pub fn parse_min_block(text: &str, chains: &[u64]) -> Result<(usize, u64), MinBlockError> {
    let number = |part: &str| part.trim().parse::<u64>().map_err(|_| MinBlockError::Malformed);
    match text.split_once(':') {
        None => Ok((0, number(text)?)),
        Some((chain, block)) => {
            let asked = number(chain)?;
            let block = number(block)?;
            match chains.iter().position(|&c| c == asked) {
                Some(board) => Ok((board, block)),
                None => {
                    let served = chains.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
                    Err(MinBlockError::OtherChain { asked, served })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_plain_and_the_chain_qualified_forms() {
        assert_eq!(parse_min_block("123456", &[8453]), Ok((0, 123_456)));
        assert_eq!(parse_min_block(" 7 ", &[1]), Ok((0, 7)));
        assert_eq!(parse_min_block("8453:123456", &[8453]), Ok((0, 123_456)));
        assert_eq!(parse_min_block("8453: 9", &[8453]), Ok((0, 9)));
        assert_eq!(parse_min_block("56:9", &[8453, 56]), Ok((1, 9)));
        assert_eq!(parse_min_block("9", &[8453, 56]), Ok((0, 9)));
    }

    #[test]
    fn refuses_another_chain_and_malformed_values() {
        let other = parse_min_block("1:5", &[8453, 56]);
        assert_eq!(other, Err(MinBlockError::OtherChain { asked: 1, served: "8453, 56".into() }));
        for bad in ["", "-1", "0x10", "1.5", "8453:", ":5", "a:5", "8453:5:6", "99999999999999999999"] {
            assert_eq!(parse_min_block(bad, &[8453]), Err(MinBlockError::Malformed), "{bad:?}");
        }
    }
}
