//! One file as an HTTP answer: the encoding the client accepts, caching that fits the file,
//! `304` for a matching `If-None-Match`, and the page's security headers.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::assets::PageFile;

/// How long a browser may keep a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Caching {
    /// Hashed asset names change with their content: keep for a year, never revalidate.
    Immutable,
    /// The shell and the icon keep their names: revalidate each time (ETag).
    Revalidate,
}

/// The page's Content-Security-Policy: scripts and styles only from this origin (no inline
/// script, no `eval`), requests only to this origin (the API and its WebSocket), no frames,
/// no plugins, images only from here or `data:` (a posting cannot load a tracking pixel).
pub(super) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Content encodings the server has files for, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// The best encoding `accept` (an Accept-Encoding value) allows among those available; a
/// coding with `q=0` is refused.
fn choose(accept: &str, brotli: bool, gzip: bool) -> Encoding {
    let accepts = |name: &str| {
        accept.split(',').any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=").is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            coding.eq_ignore_ascii_case(name) && !refused
        })
    };
    if brotli && accepts("br") {
        Encoding::Brotli
    } else if gzip && accepts("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// The media type of a file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "png" => "image/png",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Builds the answer for `file`.
pub(super) fn respond(file: &PageFile, request: &HeaderMap, caching: Caching) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&file.path)));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(match caching {
            Caching::Immutable => "public, max-age=31536000, immutable",
            Caching::Revalidate => "no-cache",
        }),
    );
    if let Ok(etag) = HeaderValue::from_str(&file.etag) {
        headers.insert(header::ETAG, etag);
    }
    if file.path.ends_with(".html") {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == file.etag || tag.trim() == "*"));
    if not_modified {
        return build(StatusCode::NOT_MODIFIED, headers, Body::empty());
    }
    let accept = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let body: &Cow<'static, [u8]> = match choose(accept, file.brotli.is_some(), file.gzip.is_some()) {
        Encoding::Brotli => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            file.brotli.as_ref().unwrap_or(&file.identity)
        }
        Encoding::Gzip => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            file.gzip.as_ref().unwrap_or(&file.identity)
        }
        Encoding::Identity => &file.identity,
    };
    let body = match body {
        Cow::Borrowed(bytes) => Body::from(*bytes),
        Cow::Owned(bytes) => Body::from(bytes.clone()),
    };
    build(StatusCode::OK, headers, body)
}

fn build(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_is_preferred_then_gzip_and_a_refused_coding_is_never_sent() {
        assert_eq!(choose("gzip, deflate, br, zstd", true, true), Encoding::Brotli);
        assert_eq!(choose("gzip, deflate", true, true), Encoding::Gzip);
        assert_eq!(choose("br;q=0, gzip;q=0.8", true, true), Encoding::Gzip);
        assert_eq!(choose("br;q=0.0", true, false), Encoding::Identity);
        assert_eq!(choose("BR", true, true), Encoding::Brotli);
        assert_eq!(choose("", true, true), Encoding::Identity);
        assert_eq!(choose("br", false, true), Encoding::Identity);
        assert_eq!(choose("brotli, gzipx", true, true), Encoding::Identity);
    }

    fn file(path: &str) -> PageFile {
        PageFile {
            path: path.to_owned(),
            etag: Cow::Borrowed("\"abc\""),
            identity: Cow::Borrowed(b"plain"),
            gzip: Some(Cow::Borrowed(b"gz")),
            brotli: None,
        }
    }

    #[test]
    fn hashed_assets_are_immutable_and_the_shell_revalidates_with_a_policy() {
        let mut request = HeaderMap::new();
        request.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, br"));
        let asset = respond(&file("assets/app-X.js"), &request, Caching::Immutable);
        assert_eq!(asset.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        assert_eq!(asset.headers()[header::CONTENT_ENCODING], "gzip");
        assert!(asset.headers().get(header::CONTENT_SECURITY_POLICY).is_none());
        let shell = respond(&file("index.html"), &HeaderMap::new(), Caching::Revalidate);
        assert_eq!(shell.headers()[header::CACHE_CONTROL], "no-cache");
        assert!(shell.headers().get(header::CONTENT_ENCODING).is_none());
        let policy = shell.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap_or("");
        assert!(policy.contains("script-src 'self';") && !policy.contains("unsafe"), "{policy}");
        request.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"zzz\", \"abc\""));
        assert_eq!(
            respond(&file("index.html"), &request, Caching::Revalidate).status(),
            StatusCode::NOT_MODIFIED
        );
    }
}
