//! The board's web page, served by the same binary as the API.
//!
//! ```text
//! GET /assets/<name>-<hash>.<ext>  -> the file, immutable for a year, br/gzip precompressed
//! GET /favicon.svg                 -> the icon
//! GET /<anything else>             -> index.html (client-side routes), no-cache + CSP
//! ```
//!
//! The files are built by `node scripts/web.mjs build` into `web/dist` (committed) and embedded
//! by `build.rs`, so a deployment is still one file; `--web-dir` serves a directory instead
//! while working on the page. The page reads only through `/graphql` and writes only through
//! the reader's wallet (docs/adr/0013-web-page.md).

mod assets;
mod respond;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

pub use assets::{EmbeddedFile, PageSource};
use respond::{Caching, respond};

/// Where the page comes from, or that there is none.
#[derive(Debug, Clone, Default)]
pub enum PageConfig {
    /// The copy built into the binary.
    #[default]
    Embedded,
    /// Files read from this directory on each request (a `web/dist` being worked on).
    Directory(PathBuf),
    /// No page: only the API's routes answer.
    Off,
}

/// The page's routes, as a fallback: whatever the API's routes do not answer. Generic over the
/// state of the router it is merged into; it keeps its own.
pub fn routes<S: Clone + Send + Sync + 'static>(config: &PageConfig) -> Router<S> {
    let source = match config {
        PageConfig::Off => return Router::new(),
        PageConfig::Embedded => PageSource::Embedded,
        PageConfig::Directory(dir) => PageSource::Directory(dir.clone()),
    };
    Router::new().fallback(page).with_state(Arc::new(source))
}

/// Answers a GET or HEAD: an asset by its path, else the page's shell for a client route.
async fn page(State(source): State<Arc<PageSource>>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [("allow", "GET, HEAD")], "").into_response();
    }
    let path = request.uri().path().trim_start_matches('/');
    let headers: &HeaderMap = request.headers();
    if let Some(file) = source.file(path).await {
        let caching = if path.starts_with("assets/") { Caching::Immutable } else { Caching::Revalidate };
        return respond(&file, headers, caching);
    }
    // A missing asset, or a path that names a file (has an extension), is a 404: answering
    // the shell there would hand HTML to a <script> or <img>.
    if path.starts_with("assets/") || path.rsplit('/').next().is_some_and(|last| last.contains('.')) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    match source.file("index.html").await {
        Some(shell) => respond(&shell, headers, Caching::Revalidate),
        None => (StatusCode::NOT_FOUND, "this build has no web page").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt as _;

    use super::*;

    async fn get(path: &str, accept_encoding: &str) -> Response {
        let request = Request::get(path)
            .header(header::ACCEPT_ENCODING, accept_encoding)
            .body(Body::empty())
            .expect("a valid request");
        routes::<()>(&PageConfig::Embedded).oneshot(request).await.expect("infallible")
    }

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn client_routes_get_the_shell_with_its_policy_and_files_get_404() {
        for path in ["/", "/jobs/7", "/employers/0xabc", "/me", "/jobs/7/applications?status=SUBMITTED"] {
            let response = get(path, "").await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache", "{path}");
            assert!(response.headers().contains_key(header::CONTENT_SECURITY_POLICY), "{path}");
            assert!(text(response).await.contains("<main id=\"main\""), "{path}");
        }
        for path in ["/assets/app-MISSING.js", "/robots.txt", "/jobs/7/cv.pdf", "/index.html.gz"] {
            assert_eq!(get(path, "").await.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[tokio::test]
    async fn assets_named_by_the_shell_are_served_compressed_and_immutable() {
        let shell = text(get("/", "").await).await;
        let script = shell
            .split("src=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the shell loads a script");
        let plain = get(script, "").await;
        assert_eq!(plain.status(), StatusCode::OK);
        assert_eq!(plain.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(plain.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
        let brotli = get(script, "gzip, br").await;
        assert_eq!(brotli.headers()[header::CONTENT_ENCODING], "br");
        let gzip = get(script, "gzip").await;
        assert_eq!(gzip.headers()[header::CONTENT_ENCODING], "gzip");
        let plain_len = text(plain).await.len();
        let gzip_len = axum::body::to_bytes(gzip.into_body(), usize::MAX).await.expect("body").len();
        assert!(gzip_len < plain_len, "gzip {gzip_len} >= plain {plain_len}");
    }

    #[tokio::test]
    async fn only_get_and_head_are_answered_and_off_serves_nothing() {
        let post = Request::post("/").body(Body::empty()).expect("request");
        let response = routes::<()>(&PageConfig::Embedded).oneshot(post).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        let request = Request::get("/").body(Body::empty()).expect("request");
        let response = routes::<()>(&PageConfig::Off).oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}
