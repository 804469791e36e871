//! Flags and flag parsers shared by the long-running commands' command line (`cli`) and the
//! people's commands (`actions`), so neither has to import the other: `cli` builds on
//! `actions`' argument types, and both build on this module.

use std::time::Duration;

use clap::Args;
use url::Url;

/// The environment variable that holds the private key of the account that signs transactions.
///
/// Keys are taken only from the environment, never from a flag, so they stay out of shell
/// history and process listings.
pub const PRIVATE_KEY_ENV: &str = "JOBBOARD_PRIVATE_KEY";

/// Where to reach the Ethereum node.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// JSON-RPC URL of the Ethereum node (http or https).
    #[arg(long = "rpc-url", env = "JOBBOARD_RPC_URL", default_value = "http://127.0.0.1:8545")]
    pub rpc_url: Url,
}

/// Parses a duration like `250ms`, `2s`, `1m` or a bare number of seconds.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 =
        number.parse().map_err(|_| format!("'{text}' is not a duration like 500ms, 2s or 1m"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("unknown unit '{unit}' in '{text}': use ms, s, m or h")),
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("'{text}' is not a valid duration"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_common_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }
}
