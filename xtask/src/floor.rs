//! The bench's floors: what the smallest hydrated pages cost before any app
//! code, built from `xtask/floor` (a crate of its own) with the demo's
//! settings: the `wasm-release` profile, wasm-bindgen, and wasm-opt with
//! the passes the root `Cargo.toml` gives cargo-leptos. Each row adds one
//! part, so the table says what each part weighs on the wire.

use crate::util::{cmd, fail, root, timed, Result};
use std::path::{Path, PathBuf};

/// The floor crate's features, in the table's order, and what each row is.
pub(crate) const FLOORS: &[(&str, &str)] = &[
    (
        "hydrate",
        "Leptos: one button calling a server function, hydrated",
    ),
    ("islands", "the same button as the page's only island"),
    ("router", "hydrated, inside a router with two routes"),
    ("tandem", "+ Tandem's `Runtime` and `use_action`"),
    (
        "resource",
        "+ the total read by a Leptos `Resource` under `Suspense`",
    ),
    (
        "query",
        "+ the total read by `tandem::use_query` under `Suspense` instead",
    ),
];

/// One floor's first load: its wasm and its JS glue, in bytes.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Floor {
    pub(crate) feature: &'static str,
    pub(crate) label: &'static str,
    pub(crate) raw: u64,
    pub(crate) gzip: u64,
    pub(crate) brotli: u64,
}

/// Builds every floor and measures it.
pub(crate) fn measure() -> Result<Vec<Floor>> {
    let root = root();
    let target = root.join("target/floor");
    let flags = wasm_opt_flags(&std::fs::read_to_string(root.join("Cargo.toml"))?)?;
    let mut floors = Vec::new();
    for (feature, label) in FLOORS {
        let files = timed(&format!("the `{feature}` floor"), || {
            build(&root, &target, feature, &flags)
        })?;
        let size = |suffix: &str| -> Result<u64> {
            let mut total = 0;
            for file in &files {
                let mut name = file.clone().into_os_string();
                name.push(suffix);
                total += std::fs::metadata(&name)?.len();
            }
            Ok(total)
        };
        floors.push(Floor {
            feature,
            label,
            raw: size("")?,
            gzip: size(".gz")?,
            brotli: size(".br")?,
        });
    }
    Ok(floors)
}

/// One floor: the crate built with `feature`, bound, optimized and
/// compressed (`.gz`, `.br` beside each file). Its wasm and JS.
fn build(root: &Path, target: &Path, feature: &str, flags: &[String]) -> Result<Vec<PathBuf>> {
    cmd("cargo")
        .args([
            "build",
            "--manifest-path",
            "xtask/floor/Cargo.toml",
            "--lib",
        ])
        .args([
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
        ])
        .args(["--features", feature])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(root)
        .status_ok()?;
    let out = target.join("out").join(feature);
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    cmd("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-name", "floor"])
        .arg("--out-dir")
        .arg(&out)
        .arg(target.join("wasm32-unknown-unknown/wasm-release/floor.wasm"))
        .status_ok()?;
    let wasm = out.join("floor_bg.wasm");
    cmd(root.join("tools/node_modules/.bin/wasm-opt"))
        .args(flags)
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm)
        .status_ok()?;
    let files = vec![wasm, out.join("floor.js")];
    cmd("node")
        .arg(root.join("tools/precompress.mjs"))
        .args(&files)
        .status_ok()?;
    Ok(files)
}

/// The `wasm-opt-features` list of the workspace's Leptos metadata in
/// `manifest` (the root `Cargo.toml`): the passes the demo's wasm gets.
pub(crate) fn wasm_opt_flags(manifest: &str) -> Result<Vec<String>> {
    const KEY: &str = "\nwasm-opt-features = [";
    let Some(start) = manifest.find(KEY) else {
        return fail("the root Cargo.toml has no `wasm-opt-features = [` list");
    };
    let list = &manifest[start + KEY.len()..];
    let Some(end) = list.find(']') else {
        return fail("`wasm-opt-features` is not closed with `]`");
    };
    let flags: Vec<String> = list[..end]
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|item| !item.is_empty())
        .map(|item| item.trim_end_matches(',').trim_matches('"').to_string())
        .collect();
    if flags.is_empty() {
        return fail("`wasm-opt-features` is empty");
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_passes_are_read_from_the_leptos_metadata() {
        let manifest = "[package]\nname = \"x\"\n\n# passes\nwasm-opt-features = [\n    \"-O1\",\n    \"--strip-debug\", # names\n\n    \"--enable-bulk-memory\",\n]\nother = [\"no\"]\n";
        assert_eq!(
            wasm_opt_flags(manifest).expect("flags"),
            ["-O1", "--strip-debug", "--enable-bulk-memory"]
        );
        assert!(wasm_opt_flags("[package]\nname = \"x\"\n").is_err());
    }

    #[test]
    fn the_root_manifest_gives_the_demos_passes() {
        let manifest = std::fs::read_to_string(root().join("Cargo.toml")).expect("Cargo.toml");
        let flags = wasm_opt_flags(&manifest).expect("flags");
        assert_eq!(flags.first().map(String::as_str), Some("-O1"));
        assert!(flags.iter().all(|f| f.starts_with('-')), "{flags:?}");
    }
}
