//! The release site: `cargo leptos build --release` (the README's command,
//! so the tests and the bench run what a user builds), then the bundle
//! precompressed for the server to send as is.

use crate::util::{cmd, root, timed, Result};
use std::path::PathBuf;

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

/// Builds `target/site/pkg/tandem-demo.{js,wasm,css}` and the server with
/// `cargo leptos build --release` (wasm-opt's passes are set in
/// `Cargo.toml`, `wasm-opt-features`), then writes `.gz` and `.br` beside
/// each bundle file.
pub(crate) fn release_site() -> Result<()> {
    let root = root();
    let pkg = site_root().join("pkg");
    timed("cargo leptos build --release", || {
        cmd("cargo")
            .args(["leptos", "build", "--release"])
            .current_dir(&root)
            .status_ok()
    })?;
    timed(
        "precompressing the bundle (.gz and .br beside each file)",
        || {
            cmd("node")
                .arg(root.join("tools/precompress.mjs"))
                .args(["wasm", "js", "css"].map(|ext| pkg.join(format!("{OUTPUT_NAME}.{ext}"))))
                .status_ok()
        },
    )?;
    let size = std::fs::metadata(site_wasm())?.len();
    println!("    site: {} ({size} bytes of wasm)", site_root().display());
    Ok(())
}
