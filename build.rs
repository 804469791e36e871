//! Build steps Cargo cannot infer:
//! - `sqlx::migrate!` embeds `migrations/` at compile time, and Cargo does not otherwise watch it.
//! - The web page (`web/dist`, built by `node scripts/web.mjs build` and committed) is embedded
//!   in the binary: this writes `$OUT_DIR/web_assets.rs`, a table of every file with its
//!   precompressed `.gz`/`.br` siblings and an ETag, for `src/web/assets.rs` to include.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=web/dist");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dist = root.join("web/dist");
    let mut files = Vec::new();
    list(&dist, &dist, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for relative in files.iter().filter(|f| !f.ends_with(".gz") && !f.ends_with(".br")) {
        let path = dist.join(relative);
        println!("cargo:rerun-if-changed={}", path.display());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let sibling = |suffix: &str| {
            let candidate = dist.join(format!("{relative}{suffix}"));
            if candidate.is_file() {
                format!("Some(include_bytes!({:?}))", candidate.display().to_string())
            } else {
                "None".to_owned()
            }
        };
        let _ = writeln!(
            table,
            "    EmbeddedFile {{ path: {relative:?}, etag: \"\\\"{:016x}\\\"\", identity: include_bytes!({:?}), gzip: {}, brotli: {} }},",
            fnv1a(&bytes),
            path.display().to_string(),
            sibling(".gz"),
            sibling(".br"),
        );
    }
    table.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("web_assets.rs");
    std::fs::write(&out, table).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}

/// Every file under `dir`, as a path relative to `root` with `/` separators.
fn list(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            list(root, &path, files);
        } else if let Ok(relative) = path.strip_prefix(root) {
            files.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// 64-bit FNV-1a: a content fingerprint for ETags (not a security hash).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}
