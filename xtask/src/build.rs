//! The release site, built the way `cargo leptos build --release` builds it
//! (same profile, same files), one cargo build at a time: on 2 cores that is
//! faster than cargo-leptos running both at once, and needs no cargo-leptos.

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

/// Builds `target/site/pkg/tandem-demo.{js,wasm,css}` and the server.
pub(crate) fn release_site() -> Result<()> {
    let root = root();
    let pkg = site_root().join("pkg");
    timed(
        "building the browser bundle (client, wasm32, profile wasm-release)",
        || {
            cmd("cargo")
                .args([
                    "build",
                    "-p",
                    "client",
                    "--lib",
                    "--target",
                    "wasm32-unknown-unknown",
                ])
                .args(["--profile", "wasm-release", "--features", "hydrate"])
                .current_dir(&root)
                .status_ok()
        },
    )?;
    timed("wasm-bindgen --target web", || {
        std::fs::create_dir_all(&pkg)?;
        let input = root.join("target/wasm32-unknown-unknown/wasm-release/client.wasm");
        cmd("wasm-bindgen")
            .args(["--target", "web", "--no-typescript"])
            .arg(format!("--out-name={OUTPUT_NAME}"))
            .arg("--out-dir")
            .arg(&pkg)
            .arg(input)
            .status_ok()?;
        // leptos_axum's hydration script asks for `<name>.wasm`, as
        // cargo-leptos names it.
        std::fs::rename(pkg.join(format!("{OUTPUT_NAME}_bg.wasm")), site_wasm())?;
        Ok(())
    })?;
    // -O1, not -Oz: rustc already optimized for size (opt-level z, fat
    // LTO); wasm-opt's heavier passes shrink the raw file but make it
    // compress worse. Measured on this bundle (bytes raw / gzip -9 /
    // brotli 11): -Oz 1,014,165 / 376,575 / 286,276; -Os 1,048,309 /
    // 376,164 / 284,911; -O2 1,062,519 / 380,547 / 286,827; -O1 1,139,162 /
    // 346,001 / 269,733; no passes (strip only) 1,205,707 / 355,452 /
    // 275,614. What the browser downloads is the compressed size.
    timed("wasm-opt -O1", || {
        let wasm = site_wasm();
        cmd("wasm-opt")
            .args([
                "-O1",
                "--strip-debug",
                "--strip-producers",
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
            ])
            .args([
                "--enable-sign-ext",
                "--enable-mutable-globals",
                "--enable-reference-types",
            ])
            .args(["--enable-multivalue"])
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm)
            .status_ok()
    })?;
    std::fs::copy(
        root.join("style/main.css"),
        pkg.join(format!("{OUTPUT_NAME}.css")),
    )?;
    timed(
        "precompressing the bundle (.gz and .br beside each file)",
        || {
            cmd("node")
                .arg(root.join("tools/precompress.mjs"))
                .args(["wasm", "js", "css"].map(|ext| pkg.join(format!("{OUTPUT_NAME}.{ext}"))))
                .status_ok()
        },
    )?;
    timed("building the server (release)", || {
        cmd("cargo")
            .args(["build", "-p", "server", "--release"])
            .current_dir(&root)
            .status_ok()
    })?;
    let size = std::fs::metadata(site_wasm())?.len();
    println!("    site: {} ({size} bytes of wasm)", site_root().display());
    Ok(())
}
