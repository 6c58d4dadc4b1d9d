//! The release site: `cargo leptos build --release --split` (the README's
//! command, so the tests and the bench run what a user builds), then the
//! bundle precompressed for the server to send as is.
//!
//! `--split`: the demo's pages but `/likes` are lazy routes, each its own
//! wasm chunk (see `app/src/lib.rs`).

use crate::util::{cmd, root, timed, Result};
use std::path::{Path, PathBuf};

/// `name` in `[[workspace.metadata.leptos]]`.
pub(crate) const OUTPUT_NAME: &str = "tandem-demo";

/// Where the site's static files go (`site-root`).
pub(crate) fn site_root() -> PathBuf {
    root().join("target/site")
}

/// The release server binary.
pub(crate) fn server_binary() -> PathBuf {
    root().join("target/release/server")
}

/// The release wasm, after wasm-bindgen and wasm-opt.
pub(crate) fn site_wasm() -> PathBuf {
    site_root().join(format!("pkg/{OUTPUT_NAME}.wasm"))
}

/// What cargo-leptos is given for every build of the demo's client: its
/// lazy routes are split into wasm chunks (without it, the page's script
/// imports a module nobody wrote).
pub(crate) const SPLIT: &str = "--split";

/// Builds `target/site/pkg/tandem-demo.{js,wasm,css}`, the lazy routes'
/// chunks and the server with `cargo leptos build --release --split`
/// (wasm-opt's passes are set in `Cargo.toml`, `wasm-opt-features`), then
/// writes `.gz` and `.br` beside each bundle file.
pub(crate) fn release_site() -> Result<()> {
    let root = root();
    let pkg = site_root().join("pkg");
    timed("cargo leptos build --release --split", || {
        cmd("cargo")
            .args(["leptos", "build", "--release", SPLIT])
            .current_dir(&root)
            .status_ok()
    })?;
    timed(
        "precompressing the bundle (.gz and .br beside each file)",
        || {
            cmd("node")
                .arg(root.join("tools/precompress.mjs"))
                .args(bundle_files(&pkg)?)
                .status_ok()
        },
    )?;
    let size = std::fs::metadata(site_wasm())?.len();
    let all: u64 = bundle_files(&pkg)?
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "wasm"))
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "    site: {} ({size} bytes of main wasm, {all} with every route's chunks)",
        site_root().display()
    );
    Ok(())
}

/// The bundle's files (`.wasm`, `.js`, `.css`: the main module, the glue,
/// the stylesheet and the split chunks with their loader).
fn bundle_files(pkg: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(pkg)? {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|e| e == "wasm" || e == "js" || e == "css")
        {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}
