//! Keeping RPC secrets out of logs and error messages.
//!
//! Hosted providers put the API key in the URL: in the userinfo, the query string, or a path
//! segment (`https://eth-mainnet.g.alchemy.com/v2/<key>`, `https://mainnet.infura.io/v3/<key>`).
//! Every URL the indexer prints goes through [`redact`], and every error text that comes from a
//! transport (reqwest writes "error sending request for url (<the whole URL>)") goes through
//! [`redact_text`] before it reaches a log line or an error chain.

use url::Url;

/// What a secret is replaced with.
const HIDDEN: &str = "…";

/// An RPC URL fit for logs: scheme, host, port and the path segments that cannot be keys; no
/// userinfo, no query, no fragment, and `…` for every segment that looks like a key.
pub fn redact(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?"));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    if let Some(segments) = url.path_segments() {
        for segment in segments.filter(|s| !s.is_empty()) {
            shown.push('/');
            shown.push_str(if looks_like_key(segment) { HIDDEN } else { segment });
        }
    }
    if url.query().is_some() {
        shown.push('?');
        shown.push_str(HIDDEN);
    }
    shown
}

/// Whether a path segment may be a credential. Only what cannot be one is kept, so that an
/// operator can still tell endpoints apart: a version tag (`v2`, `v3`) or a short lower-case
/// word (`rpc`, `mainnet`, `ext-bc`). Keys are long, mixed-case or hex: all hidden.
fn looks_like_key(segment: &str) -> bool {
    let version =
        segment.strip_prefix('v').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let word = segment.len() <= 10 && segment.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    !(version || word)
}

/// An error whose text went through [`redact_text`]: what a transport error becomes before it is
/// kept as another error's `source()` (which anyhow prints with the whole chain).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RedactedError(String);

/// `error`'s text and its causes', URLs redacted, as an error of its own.
pub fn redacted(error: &(dyn std::error::Error + 'static)) -> RedactedError {
    RedactedError(error_text(error))
}

/// `error`'s text followed by each cause's not already shown ("error sending request:
/// connection refused"), URLs redacted: the causes say what went wrong, but a cause kept as a
/// `source()` would be printed unredacted.
pub fn error_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    redact_text(&text)
}

/// `text` with every URL in it redacted and reqwest's "for url (…)" clause removed: for error
/// messages of transports, which embed the request URL verbatim.
pub fn redact_text(text: &str) -> String {
    let without_clause = remove_url_clauses(text);
    let mut out = String::with_capacity(without_clause.len());
    let mut rest = without_clause.as_str();
    while let Some(start) = find_url_start(rest) {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let end =
            candidate.find(|c: char| c.is_whitespace() || "()<>\"'`,".contains(c)).unwrap_or(candidate.len());
        let token = &candidate[..end];
        match Url::parse(token) {
            Ok(url) => out.push_str(&redact(&url)),
            Err(_) => out.push_str("<url>"),
        }
        rest = &candidate[end..];
    }
    out.push_str(rest);
    out
}

/// reqwest's Display adds " for url (<url>)"; the URL says nothing the log line does not
/// already say through the endpoint field, so the clause goes entirely.
fn remove_url_clauses(text: &str) -> String {
    const CLAUSE: &str = " for url (";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(CLAUSE) {
        out.push_str(&rest[..start]);
        let after = &rest[start + CLAUSE.len()..];
        match after.find(')') {
            Some(close) => rest = &after[close + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The byte offset of the next `scheme://` that starts a URL (http, https, ws, wss).
fn find_url_start(text: &str) -> Option<usize> {
    ["http://", "https://", "ws://", "wss://"].iter().filter_map(|scheme| text.find(scheme)).min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).expect("valid url")
    }

    #[test]
    fn redacts_keys_in_paths_queries_and_userinfo() {
        assert_eq!(
            redact(&url("https://eth-mainnet.g.alchemy.com/v2/SECRETKEY123")),
            "https://eth-mainnet.g.alchemy.com/v2/…"
        );
        assert_eq!(
            redact(&url("https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef")),
            "https://mainnet.infura.io/v3/…"
        );
        assert_eq!(
            redact(&url("https://user:hunter2@node.example.com/rpc?apikey=SECRET")),
            "https://node.example.com/rpc?…"
        );
        assert_eq!(redact(&url("https://node.example.com/SECRETKEY")), "https://node.example.com/…");
        assert_eq!(redact(&url("http://127.0.0.1:8545")), "http://127.0.0.1:8545");
        assert_eq!(redact(&url("http://127.0.0.1:8545/")), "http://127.0.0.1:8545");
        assert_eq!(redact(&url("wss://x.example/ws/averyveryverylongtoken")), "wss://x.example/ws/…");
    }

    #[test]
    fn strips_reqwest_url_clauses_and_bare_urls_from_error_text() {
        let text =
            "error sending request for url (http://127.0.0.1:9/v2/SECRETKEY?key=SECRET2): connection refused";
        let clean = redact_text(text);
        assert_eq!(clean, "error sending request: connection refused");
        let bare =
            redact_text("HTTP error 401 from https://u:p@host.example/v2/SECRETKEY123?k=SECRET2, giving up");
        assert_eq!(bare, "HTTP error 401 from https://host.example/v2/…?…, giving up");
        assert!(!redact_text("no url here").contains('…'));
        let io = std::io::Error::other("error sending request for url (https://h.example/v2/KEY123456789)");
        assert_eq!(redacted(&io).to_string(), "error sending request");
    }
}
