//! `cargo xtask fuzz [seconds]`: the decoders under libFuzzer, each target
//! for a bounded time (default 60 s). Needs the nightly toolchain; installs
//! cargo-fuzz when missing. Not part of `cargo xtask test`.

use crate::util::{cmd, root, timed, Result};

/// The fuzz targets in `fuzz/fuzz_targets`.
const TARGETS: &[&str] = &["envelope", "form", "multipart"];

pub(crate) fn run(seconds: u64) -> Result<()> {
    let have = cmd("cargo").args(["fuzz", "--version"]).stdout_if_ok();
    if have.is_none() {
        timed("installing cargo-fuzz (~3 min)", || {
            cmd("cargo")
                .args(["install", "cargo-fuzz", "--locked"])
                .status_ok()
        })?;
    }
    for target in TARGETS {
        timed(
            &format!("fuzzing {target} for {seconds}s (cargo +nightly fuzz)"),
            || {
                cmd("cargo")
                    .args(["+nightly", "fuzz", "run", target, "--"])
                    .arg(format!("-max_total_time={seconds}"))
                    .arg("-print_final_stats=1")
                    .current_dir(root())
                    .status_ok()
            },
        )?;
    }
    Ok(())
}
