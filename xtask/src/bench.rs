//! `cargo xtask bench`: Tandem beside raw axum, plain Leptos and the Next.js
//! anchor, measured in one run on this machine, printed as one table and
//! written to `results/bench.{md,svg,json}`.
//!
//! 1. Installs what it needs (Chromium, wrk, npm packages) and builds the
//!    release site, the raw axum handler and the Next.js app.
//! 2. Servers, one at a time on loopback with fresh data: cold start to the
//!    first 200, RSS idle, `increment_like` under wrk (throughput, p50/p99),
//!    RSS after the load; then raw axum and Tandem again with each server
//!    pinned to core 0 and wrk on core 1 (the one-core row).
//! 3. The browser (`end2end/bench/browser.mjs`, headless Chromium): click to
//!    updated page on `/likes` (median of 20), requests per mutation, and
//!    the first-load transfer of `/likes`.
//! 4. The floors ([`floor`](crate::floor)): the smallest hydrated pages
//!    Leptos makes with the same build, one part added per row.
//!
//! Targets are reported, never enforced.

use crate::build;
use crate::floor::{self, Floor};
use crate::setup::{self, chromium_path, Purpose};
use crate::test::{wait_for_line, Guard, Server};
use crate::util::{cmd, fail, free_port, root, timed, Error, Result};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// wrk's load: one thread (the server has the other core), this many
/// connections, for this long, after a warm-up of the same shape.
const CONNECTIONS: u32 = 32;
const DURATION_S: u32 = 10;
const WARMUP_S: u32 = 2;
/// Turns each system gets; the median run counts.
const ROUNDS: u32 = 3;

/// One system under load.
#[derive(Default, Clone)]
struct Load {
    cold_start_ms: f64,
    rss_idle_kb: u64,
    rss_loaded_kb: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    errors: u64,
    /// The server's CPU time (user and system, its whole process tree) over
    /// the run, per request: steadier than the throughput, which moves
    /// with how the machine schedules server and wrk.
    cpu_us_per_request: f64,
}

pub(crate) fn run() -> Result<()> {
    setup::run(Purpose::Bench)?;
    let root = root();
    build::release_site()?;
    let dir = root.join("target/bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let next = timed(
        "building the Next.js anchor (npm install, next build)",
        || NextApp::prepare(&dir),
    )?;

    let (raw, tandem, nextjs, one_core) = timed(
        "servers: cold start and idle RSS (each alone), then wrk in rounds",
        || {
            let mut systems = vec![
                cold_start(&dir, "raw", start_raw, &raw_request())?,
                cold_start(&dir, "tandem", start_tandem, &tandem_request())?,
                cold_start(&dir, "next", |d| next.start(d), &next.request())?,
            ];
            let loads = load_in_rounds(&mut systems, Cores::Both)?;
            // The same servers again, each pinned to core 0 with wrk on
            // core 1: what one core of the server gives, without wrk's
            // share of the CPU in the way.
            let one_core = load_in_rounds(&mut systems[..2], Cores::ServerOnCore0)?;
            Ok((
                loads[0].clone(),
                loads[1].clone(),
                loads[2].clone(),
                OneCore {
                    raw: one_core[0].clone(),
                    tandem: one_core[1].clone(),
                },
            ))
        },
    )?;

    let browser = timed(
        "browser: click latency, requests, first load (Chromium)",
        || {
            let tandem = start_tandem(&dir.join("browser-tandem"))?;
            let next_server = next.start(&dir.join("browser-next"))?;
            // A post for `/posts/:id` (the first one of a fresh database).
            let (status, body) = send(&tandem.url, &create_post_request())?;
            if status != 200 {
                return fail(format!("create_post for /posts/1 got {status}: {body}"));
            }
            let out = dir.join("browser.json");
            let mut node = cmd("node")
                .arg(root.join("end2end/bench/browser.mjs"))
                .arg("--out")
                .arg(&out)
                .arg(format!("tandem={}/likes,hydrated", tandem.url))
                .arg(format!("leptos={}/bench/leptos-likes,hydrated", tandem.url))
                .arg(format!("next={}/likes", next_server.url));
            for (route, path, in_next) in ROUTES {
                node = node.arg(format!("tandem:{route}={}{path},hydrated,load", tandem.url));
                if *in_next {
                    node = node.arg(format!("next:{route}={}{path},load", next_server.url));
                }
            }
            node.env("CHROMIUM_PATH", chromium_path()).status_ok()?;
            let text = std::fs::read_to_string(&out)?;
            serde_json::from_str::<Value>(&text)
                .map_err(|e| Error(format!("{}: {e}", out.display())))
        },
    )?;

    let floors = timed(
        "floors: the smallest hydrated pages, built as the demo's",
        floor::measure,
    )?;

    let report = Report {
        raw,
        tandem,
        one_core,
        next: nextjs,
        browser,
        floors,
        machine: machine(&next.version),
    };
    let results = root.join("results");
    std::fs::create_dir_all(&results)?;
    let markdown = report.markdown();
    std::fs::write(results.join("bench.md"), &markdown)?;
    std::fs::write(results.join("bench.svg"), report.svg())?;
    std::fs::write(
        results.join("bench.json"),
        serde_json::to_string_pretty(&report.json()).unwrap_or_default(),
    )?;
    update_readme(&root.join("README.md"), &markdown)?;
    println!("\n{markdown}");
    println!(
        "written: {}, bench.svg, bench.json",
        results.join("bench.md").display()
    );
    Ok(())
}

/// Where `cargo xtask bench` puts its latest table in the README.
const README_START: &str = "<!-- bench:start (cargo xtask bench writes this part) -->";
const README_END: &str = "<!-- bench:end -->";

/// Replaces the README's bench part with the latest table and chart.
fn update_readme(readme: &Path, markdown: &str) -> Result<()> {
    let text = std::fs::read_to_string(readme)?;
    let (Some(start), Some(end)) = (text.find(README_START), text.find(README_END)) else {
        println!("    (README.md has no bench markers; not updated)");
        return Ok(());
    };
    if end < start {
        return fail("README.md: the bench end marker comes before the start marker");
    }
    let updated = format!(
        "{}{README_START}\n\n![cargo xtask bench](results/bench.svg)\n\n{markdown}\n{}",
        &text[..start],
        &text[end..]
    );
    std::fs::write(readme, updated)?;
    Ok(())
}

/// A server started for the bench: its URL, its process, and what to probe.
struct Running {
    url: String,
    pid: u32,
    /// The request whose first 200 ends the cold start.
    probe: Request,
    _keep: Box<dyn std::any::Any>,
}

/// An HTTP request, as wrk and the probe send it.
#[derive(Clone)]
struct Request {
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn get(path: &str) -> Request {
    Request {
        method: "GET",
        path: path.into(),
        headers: vec![],
        body: String::new(),
    }
}

/// `increment_like` as Tandem's browser client sends it.
fn tandem_request() -> Request {
    Request {
        method: "POST",
        path: "/api/increment_like".into(),
        headers: vec![
            (
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("x-tandem".into(), "1".into()),
            ("x-tandem-page".into(), "/likes".into()),
        ],
        body: String::new(),
    }
}

/// The routes whose first load is measured besides `/likes`: name, path,
/// and whether the Next.js anchor has it.
const ROUTES: &[(&str, &str, bool)] = &[
    ("/posts", "/posts", true),
    ("/posts/:id", "/posts/1", false),
    ("/signup", "/signup", false),
];

/// `create_post` as Tandem's browser client sends it.
fn create_post_request() -> Request {
    Request {
        path: "/api/create_post".into(),
        body: "prev=null&title=A+post&content=For+the+first-load+figures".into(),
        ..tandem_request()
    }
}

/// The same call to the raw axum handler.
fn raw_request() -> Request {
    Request {
        headers: vec![(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        ..tandem_request()
    }
}

fn start_tandem(dir: &Path) -> Result<Running> {
    std::fs::create_dir_all(dir)?;
    let server = Server::start(dir)?;
    Ok(Running {
        url: server.url.clone(),
        pid: server.pid(),
        probe: get("/likes"),
        _keep: Box::new(server),
    })
}

fn start_raw(dir: &Path) -> Result<Running> {
    std::fs::create_dir_all(dir)?;
    let log = dir.join("server.log");
    let child = cmd(root().join("target/release/raw_axum"))
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("raw.db").display()),
        )
        .into_inner()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error(format!("cannot start raw_axum: {e}")))?;
    let mut child = Guard(child);
    let url = wait_for_line(&mut child.0, &log, "listening on ", Duration::from_secs(60))?;
    Ok(Running {
        url,
        pid: child.0.id(),
        probe: raw_request(),
        _keep: Box::new(child),
    })
}

/// A system started for the load: cold start and idle RSS measured.
struct Loaded {
    name: &'static str,
    server: Running,
    script: PathBuf,
    url: String,
    cold_start_ms: f64,
    rss_idle_kb: u64,
    runs: Vec<Load>,
    rss_loaded_kb: u64,
}

/// Starts a system alone and times it from spawn to its first 200.
fn cold_start(
    dir: &Path,
    name: &'static str,
    start: impl Fn(&Path) -> Result<Running>,
    request: &Request,
) -> Result<Loaded> {
    let t = Instant::now();
    let server = start(&dir.join(format!("load-{name}")))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if matches!(send(&server.url, &server.probe), Ok((200, _))) {
            break;
        }
        if Instant::now() > deadline {
            return fail(format!("{name}: no 200 within 60 s"));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let cold_start_ms = t.elapsed().as_secs_f64() * 1e3;
    // The request must work before it is measured.
    let (status, body) = send(&server.url, request)?;
    if status != 200 {
        return fail(format!("{name}: the load's request got {status}: {body}"));
    }
    std::thread::sleep(Duration::from_secs(1));
    let rss_idle_kb = tree_rss_kb(server.pid);
    let script = dir.join(format!("{name}.lua"));
    std::fs::write(&script, wrk_script(request))?;
    let url = format!("{}{}", server.url, request.path);
    println!("    {name}: cold start {cold_start_ms:.0} ms, RSS idle {rss_idle_kb} KiB");
    Ok(Loaded {
        name,
        server,
        script,
        url,
        cold_start_ms,
        rss_idle_kb,
        runs: Vec::new(),
        rss_loaded_kb: 0,
    })
}

/// Where the load runs.
#[derive(Clone, Copy, PartialEq)]
enum Cores {
    /// Server and wrk share the machine's two cores.
    Both,
    /// Every thread of the server on core 0 (`taskset -a -p -c 0`), wrk on
    /// core 1.
    ServerOnCore0,
}

/// `increment_like` with the server on one core.
#[derive(Default, Clone)]
struct OneCore {
    raw: Load,
    tandem: Load,
}

/// Loads the systems in turns, [`ROUNDS`] times, so that a slow moment of
/// the machine does not land on one system only; each keeps the run with
/// its median throughput.
fn load_in_rounds(systems: &mut [Loaded], cores: Cores) -> Result<Vec<Load>> {
    for system in systems.iter_mut() {
        system.runs.clear();
        if cores == Cores::ServerOnCore0 {
            cmd("taskset")
                .args(["-a", "-p", "-c", "0"])
                .arg(system.server.pid.to_string())
                .stdout_if_ok()
                .ok_or_else(|| Error(format!("{}: taskset could not pin it", system.name)))?;
        }
        wrk(&system.script, &system.url, WARMUP_S, cores)?;
    }
    let tick_us = 1e6 / clock_ticks_per_second()?;
    for round in 1..=ROUNDS {
        for system in systems.iter_mut() {
            let before = tree_cpu_ticks(system.server.pid);
            let mut load = parse_wrk(&wrk(&system.script, &system.url, DURATION_S, cores)?)?;
            let ticks = tree_cpu_ticks(system.server.pid).saturating_sub(before);
            load.cpu_us_per_request = ticks as f64 * tick_us / load.requests.max(1) as f64;
            system.rss_loaded_kb = system.rss_loaded_kb.max(tree_rss_kb(system.server.pid));
            let on = match cores {
                Cores::Both => "",
                Cores::ServerOnCore0 => " (one core)",
            };
            println!(
                "    round {round}, {}{on}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} not 200, \
                 {:.1} µs of server CPU per request",
                system.name,
                load.rps,
                load.p50_ms,
                load.p99_ms,
                load.errors,
                load.cpu_us_per_request
            );
            system.runs.push(load);
        }
    }
    Ok(systems
        .iter()
        .map(|system| {
            let mut runs = system.runs.clone();
            runs.sort_by(|a, b| a.rps.total_cmp(&b.rps));
            let mut load = runs[runs.len() / 2].clone();
            load.errors = runs.iter().map(|r| r.errors).sum();
            load.cold_start_ms = system.cold_start_ms;
            load.rss_idle_kb = system.rss_idle_kb;
            load.rss_loaded_kb = system.rss_loaded_kb;
            load
        })
        .collect())
}

fn wrk(script: &Path, url: &str, seconds: u32, cores: Cores) -> Result<String> {
    let wrk = match cores {
        Cores::Both => cmd("wrk"),
        Cores::ServerOnCore0 => cmd("taskset").args(["-c", "1", "wrk"]),
    };
    let out = wrk
        .args(["-t1", &format!("-c{CONNECTIONS}"), &format!("-d{seconds}s")])
        .args(["--latency", "-s"])
        .arg(script)
        .arg(url)
        .into_inner()
        .output()
        .map_err(|e| Error(format!("cannot run wrk: {e}")))?;
    if !out.status.success() {
        return fail(format!(
            "wrk failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn lua_string(s: &str) -> String {
    format!("{s:?}")
}

fn wrk_script(r: &Request) -> String {
    let mut s = format!(
        "wrk.method = {}\nwrk.body = {}\n",
        lua_string(r.method),
        lua_string(&r.body)
    );
    for (k, v) in &r.headers {
        let _ = writeln!(s, "wrk.headers[{}] = {}", lua_string(k), lua_string(v));
    }
    // Count what is not a 200 (wrk only counts >= 400 and socket errors).
    s.push_str(
        "local bad = 0\nresponse = function(status) if status ~= 200 then bad = bad + 1 end end\n\
         done = function() io.write(string.format(\"not-200: %d\\n\", bad)) end\n",
    );
    s
}

/// Reads wrk's `--latency` report.
fn parse_wrk(out: &str) -> Result<Load> {
    let ms = |v: &str| -> Option<f64> {
        let v = v.trim();
        if let Some(n) = v.strip_suffix("us") {
            n.parse::<f64>().ok().map(|n| n / 1e3)
        } else if let Some(n) = v.strip_suffix("ms") {
            n.parse().ok()
        } else if let Some(n) = v.strip_suffix('s') {
            n.parse::<f64>().ok().map(|n| n * 1e3)
        } else {
            None
        }
    };
    let mut load = Load::default();
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => load.p50_ms = ms(v).unwrap_or_default(),
            ["99%", v] => load.p99_ms = ms(v).unwrap_or_default(),
            ["Requests/sec:", v] => load.rps = v.parse().unwrap_or_default(),
            [n, "requests", "in", ..] => load.requests = n.parse().unwrap_or_default(),
            ["not-200:", n] => load.errors += n.parse::<u64>().unwrap_or_default(),
            ["Socket", "errors:", rest @ ..] => {
                load.errors += rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>()
            }
            _ => {}
        }
    }
    if load.rps == 0.0 {
        return fail(format!("no figures in wrk's output:\n{out}"));
    }
    Ok(load)
}

/// One request over a fresh connection: status and body.
fn send(base: &str, r: &Request) -> Result<(u16, String)> {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        r.method,
        r.path,
        r.body.len()
    );
    for (k, v) in &r.headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(r.body.as_bytes())?;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    Ok((status, body.chars().take(300).collect()))
}

/// `pid` and its descendants (Next starts workers).
fn process_tree(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) {
                if let Some(ppid) = stat_field(&stat, 4) {
                    parents.push((p, ppid as u32));
                }
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree
}

/// Field `n` (numbered from 1, as in `proc(5)`) of a `/proc/PID/stat` line,
/// when it is a number. Fields from 3 on are counted after the command's
/// closing parenthesis (the command may hold spaces and parentheses).
fn stat_field(stat: &str, n: usize) -> Option<u64> {
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(n.checked_sub(3)?)?.parse().ok()
}

/// The resident memory of `pid` and its descendants.
fn tree_rss_kb(pid: u32) -> u64 {
    process_tree(pid)
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .filter_map(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok())
            })
        })
        .sum()
}

/// The CPU time `pid` and its descendants have used, user and system
/// (`utime` + `stime`, fields 14 and 15), in clock ticks.
fn tree_cpu_ticks(pid: u32) -> u64 {
    process_tree(pid)
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .map(|stat| stat_field(&stat, 14).unwrap_or(0) + stat_field(&stat, 15).unwrap_or(0))
        .sum()
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`).
fn clock_ticks_per_second() -> Result<f64> {
    cmd("getconf")
        .arg("CLK_TCK")
        .stdout_if_ok()
        .and_then(|out| out.trim().parse::<f64>().ok())
        .filter(|ticks| *ticks > 0.0)
        .ok_or_else(|| Error("`getconf CLK_TCK` did not give the clock's ticks per second".into()))
}

/// The Next.js anchor, copied under `target/bench` and built there.
struct NextApp {
    dir: PathBuf,
    action_id: String,
    version: String,
}

impl NextApp {
    fn source() -> PathBuf {
        std::env::var_os("TANDEM_NEXT_APP")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("../shared/anchors/nextjs-app"))
    }

    fn prepare(bench: &Path) -> Result<Self> {
        let source = Self::source();
        if !source.join("package.json").is_file() {
            return fail(format!(
                "the Next.js anchor is not at {} (set TANDEM_NEXT_APP to its folder)",
                source.display()
            ));
        }
        let dir = bench.join("nextjs-app");
        copy_app(&source, &dir)?;
        // `npm ci` refuses its lock (it lacks other platforms' optional
        // packages); `npm install` resolves the same versions.
        cmd("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status_ok()?;
        cmd("npm")
            .args(["run", "build"])
            .env("NEXT_TELEMETRY_DISABLED", "1")
            .current_dir(&dir)
            .status_ok()?;
        let manifest = dir.join(".next/server/server-reference-manifest.json");
        let text = std::fs::read_to_string(&manifest)?;
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| Error(format!("{}: {e}", manifest.display())))?;
        let action_id = value["node"]
            .as_object()
            .and_then(|actions| {
                actions
                    .iter()
                    .find(|(_, a)| a["exportedName"] == "incrementLike")
                    .map(|(id, _)| id.clone())
            })
            .ok_or_else(|| Error(format!("no incrementLike in {}", manifest.display())))?;
        let version = std::fs::read_to_string(dir.join("node_modules/next/package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["version"].as_str().map(str::to_string))
            .unwrap_or_default();
        Ok(Self {
            dir,
            action_id,
            version,
        })
    }

    /// `incrementLike` as Next's browser runtime posts it.
    fn request(&self) -> Request {
        Request {
            method: "POST",
            path: "/likes".into(),
            headers: vec![
                ("Next-Action".into(), self.action_id.clone()),
                ("Content-Type".into(), "text/plain;charset=UTF-8".into()),
                ("Accept".into(), "text/x-component".into()),
            ],
            body: "[]".into(),
        }
    }

    fn start(&self, data: &Path) -> Result<Running> {
        std::fs::create_dir_all(data)?;
        let port = free_port()?;
        let log = data.join("next.log");
        let child = cmd("node")
            .arg(self.dir.join("node_modules/next/dist/bin/next"))
            .args(["start", "-H", "127.0.0.1", "-p", &port.to_string()])
            .env("DATA_DIR", data)
            .env("NEXT_TELEMETRY_DISABLED", "1")
            .env("NODE_ENV", "production")
            .current_dir(&self.dir)
            .into_inner()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error(format!("cannot start next: {e}")))?;
        let mut child = Guard(child);
        wait_for_line(&mut child.0, &log, "Ready", Duration::from_secs(60))?;
        Ok(Running {
            url: format!("http://127.0.0.1:{port}"),
            pid: child.0.id(),
            probe: get("/likes"),
            _keep: Box::new(child),
        })
    }
}

/// Copies the app's sources (not its `node_modules`, build or data).
fn copy_app(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("node_modules" | ".next" | "data" | "variants")
        ) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_app(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// What the figures were measured on.
fn machine(next_version: &str) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let version = |p: &str, a: &str| {
        cmd(p)
            .arg(a)
            .stdout_if_ok()
            .and_then(|s| s.lines().next().map(str::to_string))
            .unwrap_or_default()
    };
    let date = cmd("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .stdout_if_ok()
        .unwrap_or_default();
    json!({
        "date": date,
        "cpu": cpu,
        "cores": cores,
        "rustc": version("rustc", "--version"),
        "node": version("node", "--version"),
        "next": next_version,
        "chromium": version(&chromium_path(), "--version"),
        "wrk": format!(
            "wrk -t1 -c{CONNECTIONS} -d{DURATION_S}s after {WARMUP_S}s of warm-up, {ROUNDS} rounds in turns, the median run"
        ),
    })
}

/// A chart: its title, its unit, and a value per system.
type Panel<'a> = (&'a str, &'a str, Vec<(&'a str, f64)>);

struct Report {
    raw: Load,
    tandem: Load,
    one_core: OneCore,
    next: Load,
    browser: Value,
    floors: Vec<Floor>,
    machine: Value,
}

fn kb(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

fn ratio(a: f64, b: f64) -> String {
    if b == 0.0 {
        "–".into()
    } else {
        format!("{:.2}×", a / b)
    }
}

impl Report {
    fn b(&self, system: &str, pointer: &str) -> f64 {
        self.browser[system]
            .pointer(pointer)
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN)
    }

    fn transfer(&self, system: &str, kind: &str, enc: &str) -> f64 {
        self.b(system, &format!("/transfer/{kind}/{enc}"))
    }

    fn json(&self) -> Value {
        let load = |l: &Load| {
            json!({
                "rps": l.rps, "p50_ms": l.p50_ms, "p99_ms": l.p99_ms,
                "requests": l.requests, "errors": l.errors,
                "cpu_us_per_request": l.cpu_us_per_request,
                "cold_start_ms": l.cold_start_ms,
                "rss_idle_kb": l.rss_idle_kb, "rss_loaded_kb": l.rss_loaded_kb,
            })
        };
        json!({
            "machine": self.machine,
            "load": { "raw_axum": load(&self.raw), "tandem": load(&self.tandem), "next": load(&self.next) },
            "load_one_core": { "raw_axum": load(&self.one_core.raw), "tandem": load(&self.one_core.tandem) },
            "browser": self.browser,
            "floors": self.floors.iter().map(|f| json!({
                "feature": f.feature, "what": f.label,
                "raw": f.raw, "gzip": f.gzip, "br": f.brotli,
            })).collect::<Vec<_>>(),
        })
    }

    fn markdown(&self) -> String {
        let (r, t, n) = (&self.raw, &self.tandem, &self.next);
        let m = &self.machine;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Measured {} on {} ({} cores), {}, Node {}, Next.js {}, {}; load: {}.\n",
            m["date"].as_str().unwrap_or(""),
            m["cpu"].as_str().unwrap_or(""),
            m["cores"],
            m["rustc"].as_str().unwrap_or(""),
            m["node"].as_str().unwrap_or(""),
            m["next"].as_str().unwrap_or(""),
            m["chromium"].as_str().unwrap_or(""),
            m["wrk"].as_str().unwrap_or(""),
        );
        s.push_str("| | raw axum | Tandem | plain Leptos | Next.js |\n|---|---|---|---|---|\n");
        let row = |s: &mut String, name: &str, cells: [String; 4]| {
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} | {} |",
                cells[0], cells[1], cells[2], cells[3]
            );
        };
        let dash = || "–".to_string();
        row(
            &mut s,
            "`increment_like` throughput",
            [
                format!("{:.0} req/s", r.rps),
                format!("{:.0} req/s", t.rps),
                dash(),
                format!("{:.0} req/s", n.rps),
            ],
        );
        let (r1, t1) = (&self.one_core.raw, &self.one_core.tandem);
        row(
            &mut s,
            "`increment_like` throughput, server on one core (wrk on the other)",
            [
                format!("{:.0} req/s", r1.rps),
                format!("{:.0} req/s", t1.rps),
                dash(),
                dash(),
            ],
        );
        row(
            &mut s,
            "server CPU per request (user + system), two cores / one core",
            [
                format!(
                    "{:.1} / {:.1} µs",
                    r.cpu_us_per_request, r1.cpu_us_per_request
                ),
                format!(
                    "{:.1} / {:.1} µs",
                    t.cpu_us_per_request, t1.cpu_us_per_request
                ),
                dash(),
                format!("{:.1} µs", n.cpu_us_per_request),
            ],
        );
        row(
            &mut s,
            "latency under load p50 / p99",
            [
                format!("{:.2} / {:.2} ms", r.p50_ms, r.p99_ms),
                format!("{:.2} / {:.2} ms", t.p50_ms, t.p99_ms),
                dash(),
                format!("{:.2} / {:.2} ms", n.p50_ms, n.p99_ms),
            ],
        );
        row(
            &mut s,
            "errors under load (not 200)",
            [
                r.errors.to_string(),
                t.errors.to_string(),
                dash(),
                n.errors.to_string(),
            ],
        );
        let click = |sys: &str| format!("{:.1} ms", self.b(sys, "/click/median_ms"));
        row(
            &mut s,
            "click → updated page, median of 20",
            [dash(), click("tandem"), click("leptos"), click("next")],
        );
        let reqs = |sys: &str| format!("{}", self.b(sys, "/requests_per_mutation/median"));
        row(
            &mut s,
            "requests per mutation",
            [dash(), reqs("tandem"), reqs("leptos"), reqs("next")],
        );
        for kind in ["html", "js", "wasm", "css"] {
            let cell = |sys: &str| {
                let raw = self.transfer(sys, kind, "raw");
                if raw.is_nan() || raw == 0.0 {
                    return "0".to_string();
                }
                format!(
                    "{} / {} / {}",
                    kb(raw),
                    kb(self.transfer(sys, kind, "gzip")),
                    kb(self.transfer(sys, kind, "br"))
                )
            };
            row(
                &mut s,
                &format!("first load `/likes`: {kind} (raw / gzip / brotli)"),
                [dash(), cell("tandem"), cell("leptos"), cell("next")],
            );
        }
        let total = |sys: &str| {
            format!(
                "**{} / {} / {}**",
                kb(self.transfer(sys, "total", "raw")),
                kb(self.transfer(sys, "total", "gzip")),
                kb(self.transfer(sys, "total", "br"))
            )
        };
        row(
            &mut s,
            "first load `/likes`: total",
            [dash(), total("tandem"), total("leptos"), total("next")],
        );
        let wire = |sys: &str| kb(self.transfer(sys, "total", "wire"));
        row(
            &mut s,
            "first load `/likes`: on the wire, as each server sends it",
            [dash(), wire("tandem"), wire("leptos"), wire("next")],
        );
        s.push_str(&self.routes_markdown());
        let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
        row(
            &mut s,
            "server RSS idle → after load",
            [
                format!("{} → {}", mib(r.rss_idle_kb), mib(r.rss_loaded_kb)),
                format!("{} → {}", mib(t.rss_idle_kb), mib(t.rss_loaded_kb)),
                dash(),
                format!("{} → {}", mib(n.rss_idle_kb), mib(n.rss_loaded_kb)),
            ],
        );
        row(
            &mut s,
            "cold start to first 200",
            [
                format!("{:.0} ms", r.cold_start_ms),
                format!("{:.0} ms", t.cold_start_ms),
                dash(),
                format!("{:.0} ms", n.cold_start_ms),
            ],
        );
        s.push_str(
            "\nplain Leptos is `/bench/leptos-likes` in the same server (a `ServerAction` and a \
             `Resource` refetched after it); it has no load row of its own. Raw axum's cold start \
             is to its first `increment_like`; the others' to the first `GET /likes`.\n",
        );

        s.push_str("\n| target | goal | measured | |\n|---|---|---|---|\n");
        let target = |s: &mut String, what: &str, goal: &str, value: String, met: bool| {
            let _ = writeln!(
                s,
                "| {what} | {goal} | {value} | {} |",
                if met { "met" } else { "not met" }
            );
        };
        let reqs_t = self.b("tandem", "/requests_per_mutation/max");
        target(
            &mut s,
            "requests per mutation",
            "1",
            format!("{reqs_t}"),
            reqs_t == 1.0,
        );
        target(
            &mut s,
            "throughput vs Next.js",
            "≥ 10×",
            ratio(t.rps, n.rps),
            t.rps >= 10.0 * n.rps,
        );
        target(
            &mut s,
            "throughput vs raw axum",
            "≥ 0.9×",
            ratio(t.rps, r.rps),
            t.rps >= 0.9 * r.rps,
        );
        target(
            &mut s,
            "throughput vs raw axum, server on one core",
            "≥ 0.9×",
            ratio(t1.rps, r1.rps),
            t1.rps >= 0.9 * r1.rps,
        );
        let (tg, ng) = (
            self.transfer("tandem", "total", "gzip"),
            self.transfer("next", "total", "gzip"),
        );
        target(
            &mut s,
            "first-load gzip vs Next.js",
            "≤ 0.75×",
            ratio(tg, ng),
            tg <= 0.75 * ng,
        );
        target(
            &mut s,
            "first load `/likes`, gzip",
            "≤ 60 KiB",
            kb(tg),
            tg <= 60.0 * 1024.0,
        );
        let routes: Vec<(String, f64)> = std::iter::once(("/likes".to_string(), tg))
            .chain(ROUTES.iter().map(|(route, _, _)| {
                let g = self.transfer(&format!("tandem:{route}"), "total", "gzip");
                (route.to_string(), g)
            }))
            .collect();
        let (largest, largest_gzip) = routes
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .cloned()
            .unwrap_or_default();
        target(
            &mut s,
            "first load of every measured route, gzip",
            "≤ 100 KiB",
            format!("largest {largest}: {}", kb(largest_gzip)),
            routes.iter().all(|(_, g)| *g <= 100.0 * 1024.0),
        );
        let (tc, nc) = (
            self.b("tandem", "/click/median_ms"),
            self.b("next", "/click/median_ms"),
        );
        target(
            &mut s,
            "click latency vs Next.js",
            "≤ 1×",
            format!("{tc:.1} ms vs {nc:.1} ms ({})", ratio(tc, nc)),
            tc <= nc,
        );
        s.push_str(&self.floors_markdown());
        s
    }

    /// The floors: what a page weighs before any app code (wasm and JS,
    /// the HTML and CSS left out), beside Tandem's `/likes`.
    fn floors_markdown(&self) -> String {
        let mut s = String::from(
            "\nFloors: the smallest hydrated pages Leptos 0.8 makes with the demo's build \
             (`xtask/floor`, each row adds one part to the one above it, but the islands row, \
             which is the first row as an island). Wasm and JS only.\n\n\
             | page | raw | gzip | brotli |\n|---|---|---|---|\n",
        );
        for f in &self.floors {
            let _ = writeln!(
                s,
                "| {} (`{}`) | {} | {} | {} |",
                f.label,
                f.feature,
                kb(f.raw as f64),
                kb(f.gzip as f64),
                kb(f.brotli as f64)
            );
        }
        let wasm_js =
            |enc: &str| self.transfer("tandem", "wasm", enc) + self.transfer("tandem", "js", enc);
        let _ = writeln!(
            s,
            "| Tandem's `/likes`, for comparison | {} | {} | {} |",
            kb(wasm_js("raw")),
            kb(wasm_js("gzip")),
            kb(wasm_js("br"))
        );
        s
    }

    /// Rows for the first load of each route in [`ROUTES`]: Tandem, and the
    /// Next.js anchor where it has the route.
    fn routes_markdown(&self) -> String {
        let mut s = String::new();
        let cell = |sys: &str| {
            let gzip = self.transfer(sys, "total", "gzip");
            if gzip.is_nan() {
                return "–".to_string();
            }
            format!(
                "{} / {} / {} / wire {}",
                kb(self.transfer(sys, "total", "raw")),
                kb(gzip),
                kb(self.transfer(sys, "total", "br")),
                kb(self.transfer(sys, "total", "wire"))
            )
        };
        for (route, _, in_next) in ROUTES {
            let next = if *in_next {
                cell(&format!("next:{route}"))
            } else {
                "–".to_string()
            };
            let _ = writeln!(
                s,
                "| first load `{route}`: total (raw / gzip / brotli / on the wire) | – | {} | – | {next} |",
                cell(&format!("tandem:{route}")),
            );
        }
        s
    }

    /// Four bar charts side by side: throughput, click latency, first-load
    /// gzip bytes, RSS after load.
    fn svg(&self) -> String {
        let panels: Vec<Panel> = vec![
            (
                "increment_like throughput ↑",
                "req/s",
                vec![
                    ("raw axum", self.raw.rps),
                    ("Tandem", self.tandem.rps),
                    ("Next.js", self.next.rps),
                ],
            ),
            (
                "click → updated page ↓",
                "ms",
                vec![
                    ("Tandem", self.b("tandem", "/click/median_ms")),
                    ("plain Leptos", self.b("leptos", "/click/median_ms")),
                    ("Next.js", self.b("next", "/click/median_ms")),
                ],
            ),
            (
                "first load /likes, gzip ↓",
                "KiB",
                vec![
                    ("Tandem", self.transfer("tandem", "total", "gzip") / 1024.0),
                    (
                        "plain Leptos",
                        self.transfer("leptos", "total", "gzip") / 1024.0,
                    ),
                    ("Next.js", self.transfer("next", "total", "gzip") / 1024.0),
                ],
            ),
            (
                "server RSS after load ↓",
                "MiB",
                vec![
                    ("raw axum", self.raw.rss_loaded_kb as f64 / 1024.0),
                    ("Tandem", self.tandem.rss_loaded_kb as f64 / 1024.0),
                    ("Next.js", self.next.rss_loaded_kb as f64 / 1024.0),
                ],
            ),
        ];
        let (pw, ph) = (310.0, 170.0);
        let width = pw * panels.len() as f64;
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{ph}\" \
             viewBox=\"0 0 {width} {ph}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        );
        for (i, (title, unit, bars)) in panels.iter().enumerate() {
            let x0 = i as f64 * pw + 10.0;
            let _ = writeln!(
                s,
                "<text x=\"{x0}\" y=\"20\" font-weight=\"bold\">{}</text>",
                escape(title)
            );
            let max = bars
                .iter()
                .map(|(_, v)| if v.is_finite() { *v } else { 0.0 })
                .fold(0.0, f64::max)
                .max(f64::MIN_POSITIVE);
            for (j, (label, value)) in bars.iter().enumerate() {
                let y = 40.0 + j as f64 * 40.0;
                let v = if value.is_finite() { *value } else { 0.0 };
                let w = 120.0 * v / max;
                let color = if label.starts_with("Tandem") {
                    "#2563eb"
                } else {
                    "#9ca3af"
                };
                let _ = writeln!(
                    s,
                    "<text x=\"{x0}\" y=\"{}\">{}</text>\
                     <rect x=\"{}\" y=\"{}\" width=\"{w:.1}\" height=\"16\" fill=\"{color}\"/>\
                     <text x=\"{:.1}\" y=\"{}\">{} {}</text>",
                    y + 12.0,
                    escape(label),
                    x0 + 85.0,
                    y,
                    x0 + 90.0 + w,
                    y + 12.0,
                    if v >= 100.0 {
                        format!("{v:.0}")
                    } else {
                        format!("{v:.1}")
                    },
                    unit
                );
            }
        }
        s.push_str("</svg>\n");
        s
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc_stat_fields_after_the_command() {
        // A command with a space and a parenthesis in it, as `proc(5)`
        // allows: pid 4242, ppid 17, utime 1500, stime 250.
        let stat =
            "4242 (tokio (rt) x) S 17 4242 4242 0 -1 4194560 2650 0 0 0 1500 250 0 0 20 0 6 0";
        assert_eq!(stat_field(stat, 4), Some(17));
        assert_eq!(stat_field(stat, 14), Some(1500));
        assert_eq!(stat_field(stat, 15), Some(250));
        assert_eq!(stat_field(stat, 3), None, "the state is not a number");
        assert_eq!(stat_field(stat, 99), None);
        assert_eq!(stat_field("no parenthesis", 4), None);
    }

    #[test]
    fn reads_wrk_latency_report() {
        let out = "Running 10s test @ http://127.0.0.1:1/api/increment_like\n  1 threads and 32 connections\n\
  Latency Distribution\n     50%    1.20ms\n     75%    2.00ms\n     90%    3.00ms\n     99%  850.00us\n\
  51234 requests in 10.00s, 7.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n\
Requests/sec:   5123.40\nTransfer/sec:    700.00KB\nnot-200: 4\n";
        let load = parse_wrk(out).unwrap();
        assert_eq!(load.p50_ms, 1.2);
        assert_eq!(load.p99_ms, 0.85);
        assert_eq!(load.rps, 5123.4);
        assert_eq!(load.requests, 51234);
        assert_eq!(load.errors, 7);
    }

    #[test]
    fn wrk_script_quotes_headers() {
        let s = wrk_script(&tandem_request());
        assert!(s.contains("wrk.method = \"POST\""));
        assert!(s.contains("wrk.headers[\"x-tandem\"] = \"1\""));
    }
}
