//! `cargo xtask`: the project's own commands, so a fresh machine needs
//! nothing but Rust, Node.js and (for tests) Debian's apt.
//!
//! - `cargo xtask setup [dev|test|all]`: install what is missing.
//! - `cargo xtask dev`: setup, then `cargo leptos watch`.
//! - `cargo xtask build`: the release site (what `cargo leptos build --release` makes).
//! - `cargo xtask test`: setup, Rust tests, release build, the Playwright suite
//!   against the running server, the Trunk (client-only) build and its test,
//!   and the dev loop (`cargo leptos watch`, an edit, live reload).
//! - `cargo xtask devloop`: only the dev-loop test.
//! - `cargo xtask bench`: Tandem beside raw axum, plain Leptos and Next.js;
//!   one table, written to `results/bench.{md,svg,json}`.
//! - `cargo xtask size [n] [crate]`: what the release wasm is made of: the n
//!   largest crates, or one crate's n largest functions (`SIZE_WASM=path`:
//!   another linked wasm, a bench floor's say).
//! - `cargo xtask fuzz [seconds]`: the decoders under libFuzzer (nightly).

mod bench;
mod build;
mod composition;
mod devloop;
mod floor;
mod fuzz;
mod layout;
mod setup;
mod test;
mod util;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup [dev|test|bench|all]
                        install the tools the command needs (default: all)
  dev                   install what is missing, then `cargo leptos watch --hot-reload --split`
  build                 build the release site into target/site and target/release/server
  test                  install what is missing, run every test (Rust, browser, Trunk build,
                        the dev loop)
  devloop               only the dev-loop test: `cargo leptos watch` in a scratch copy, a view
                        edited, the page served and reloaded (prints the edit-to-page time)
  bench                 measure Tandem, raw axum, plain Leptos and Next.js side by side
                        (table printed, and written to results/bench.md, .svg, .json)
  size [n] [crate]      what the release wasm is made of: its n (default 15) largest crates,
                        data segments and the rest, or the n largest functions of one crate
                        (after `cargo xtask build`; SIZE_WASM=<path> measures another linked wasm)
  layout                check tandem/src's import rule (the server side never imports the UI
                        side, the wire neither) and that no crate has an import circle
  fuzz [seconds]        fuzz the envelope, form and multipart decoders, each for [seconds] (default 60; nightly)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => {
            let purpose = match args.get(1).map(String::as_str) {
                None | Some("all") => setup::Purpose::All,
                Some("dev") => setup::Purpose::Dev,
                Some("test") => setup::Purpose::Test,
                Some("bench") => setup::Purpose::Bench,
                Some(other) => {
                    eprintln!("unknown setup target {other:?}\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            };
            setup::run(purpose)
        }
        Some("dev") => dev(),
        Some("build") => setup::run(setup::Purpose::Build).and_then(|_| build::release_site()),
        Some("test") => test::run(),
        Some("devloop") => devloop::run(),
        Some("layout") => layout::run(),
        Some("bench") => bench::run(),
        Some("size") => match args.get(1).map(|s| s.parse::<usize>()) {
            None => composition::run(15, None),
            Some(Ok(n)) => composition::run(n, args.get(2).map(String::as_str)),
            Some(Err(_)) => {
                eprintln!("size takes a number of crates to list\n\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        Some("fuzz") => match args.get(1).map(|s| s.parse::<u64>()) {
            None => fuzz::run(60),
            Some(Ok(seconds)) => fuzz::run(seconds),
            Some(Err(_)) => {
                eprintln!("fuzz takes a number of seconds\n\n{USAGE}");
                return ExitCode::from(2);
            }
        },
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            if let Some(cmd) = other {
                eprintln!("unknown command {cmd:?}\n");
            }
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What `cargo xtask dev` runs (and the dev-loop test runs the same):
/// `--hot-reload` patches an edited view into the open page at once,
/// while the server is rebuilt; the page then reloads by itself.
/// `--split`: the lazy routes' wasm chunks (see `build::SPLIT`).
pub(crate) const DEV_COMMAND: [&str; 4] = ["leptos", "watch", "--hot-reload", build::SPLIT];

fn dev() -> util::Result<()> {
    setup::run(setup::Purpose::Dev)?;
    util::step(
        "cargo leptos watch --hot-reload --split (Ctrl-C to stop; the app is on http://127.0.0.1:3000)",
    );
    util::cmd("cargo")
        .args(DEV_COMMAND)
        .current_dir(util::root())
        .env("PATH", util::tool_path())
        .status_ok()
}
