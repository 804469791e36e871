//! The page's files: the embedded table `build.rs` generates from `web/dist`, or a directory.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

/// One file of the page, with its precompressed variants.
#[derive(Debug)]
pub struct EmbeddedFile {
    /// Its path under `web/dist`, e.g. `assets/app-4KX2.js`.
    pub path: &'static str,
    /// A strong ETag of its content.
    pub etag: &'static str,
    /// The bytes as they are.
    pub identity: &'static [u8],
    /// gzip-compressed, when the build made it.
    pub gzip: Option<&'static [u8]>,
    /// brotli-compressed, when the build made it.
    pub brotli: Option<&'static [u8]>,
}

/// Every embedded file, sorted by path.
static EMBEDDED: &[EmbeddedFile] = include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// A file ready to answer with: borrowed from the binary or read from disk.
#[derive(Debug)]
pub(super) struct PageFile {
    pub path: String,
    pub etag: Cow<'static, str>,
    pub identity: Cow<'static, [u8]>,
    pub gzip: Option<Cow<'static, [u8]>>,
    pub brotli: Option<Cow<'static, [u8]>>,
}

/// Where files are looked up.
#[derive(Debug)]
pub enum PageSource {
    /// The table built into the binary.
    Embedded,
    /// A directory read on every request.
    Directory(PathBuf),
}

impl PageSource {
    /// The file at `path` (relative, `/`-separated), if there is one. Paths that climb out of
    /// the directory (`..`), and the compressed siblings themselves, are never found.
    pub(super) async fn file(&self, path: &str) -> Option<PageFile> {
        if path.is_empty() || path.ends_with(".gz") || path.ends_with(".br") {
            return None;
        }
        match self {
            PageSource::Embedded => {
                let index = EMBEDDED.binary_search_by(|file| file.path.cmp(path)).ok()?;
                let file = EMBEDDED.get(index)?;
                Some(PageFile {
                    path: path.to_owned(),
                    etag: Cow::Borrowed(file.etag),
                    identity: Cow::Borrowed(file.identity),
                    gzip: file.gzip.map(Cow::Borrowed),
                    brotli: file.brotli.map(Cow::Borrowed),
                })
            }
            PageSource::Directory(dir) => {
                let relative = Path::new(path);
                if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
                    return None;
                }
                let full = dir.join(relative);
                let identity = tokio::fs::read(&full).await.ok()?;
                let sibling = |suffix: &str| {
                    let mut name = full.clone().into_os_string();
                    name.push(suffix);
                    PathBuf::from(name)
                };
                let gzip = tokio::fs::read(sibling(".gz")).await.ok().map(Cow::Owned);
                let brotli = tokio::fs::read(sibling(".br")).await.ok().map(Cow::Owned);
                Some(PageFile {
                    path: path.to_owned(),
                    etag: Cow::Owned(format!("\"{:016x}\"", fnv1a(&identity))),
                    identity: Cow::Owned(identity),
                    gzip,
                    brotli,
                })
            }
        }
    }
}

/// The same fingerprint `build.rs` computes for embedded files.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_is_sorted_and_holds_the_shell_and_its_assets() {
        assert!(EMBEDDED.windows(2).all(|pair| pair[0].path < pair[1].path), "binary search needs order");
        let shell = EMBEDDED.iter().find(|f| f.path == "index.html").expect("index.html is embedded");
        let html = std::str::from_utf8(shell.identity).expect("utf-8");
        for file in EMBEDDED.iter().filter(|f| f.path.starts_with("assets/") && !f.path.ends_with(".txt")) {
            assert!(file.gzip.is_some() && file.brotli.is_some(), "{} has no compressed copies", file.path);
            assert_eq!(file.etag, format!("\"{:016x}\"", fnv1a(file.identity)));
            let entry = file.path.starts_with("assets/app-") || file.path.starts_with("assets/style-");
            if entry && (file.path.ends_with(".js") || file.path.ends_with(".css")) {
                assert!(html.contains(&format!("/{}", file.path)), "index.html does not load {}", file.path);
            }
        }
    }

    #[tokio::test]
    async fn a_directory_never_serves_outside_itself_or_the_compressed_siblings() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("index.html"), "<p>hi</p>").expect("write");
        std::fs::write(dir.path().join("index.html.gz"), "gz").expect("write");
        let source = PageSource::Directory(dir.path().join("."));
        let file = source.file("index.html").await.expect("found");
        assert_eq!(&*file.identity, b"<p>hi</p>");
        assert_eq!(file.gzip.as_deref(), Some(&b"gz"[..]));
        assert!(file.brotli.is_none());
        assert!(source.file("index.html.gz").await.is_none());
        assert!(source.file("../etc/passwd").await.is_none());
        assert!(source.file("/etc/passwd").await.is_none());
        assert!(source.file("").await.is_none());
    }
}
