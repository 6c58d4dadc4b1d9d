//! The demo behind two instances: a real `redis-server` (Debian's;
//! `cargo xtask setup test` installs it) and two real server binaries on
//! loopback, sharing one SQLite file, one `TANDEM_SECRET` and one
//! `TANDEM_CACHE_URL`.
//!
//! - an `update_tag` through instance A is seen by instance B's next render
//!   (and the time it takes is printed as `[scale-out]`);
//! - `revalidate_tag` and `revalidate_path` through A reach B too;
//! - an action rendered by A (a sealed, bound argument) is accepted by B;
//! - killing Redis while both take writes loses none, both keep answering
//!   from memory, and both go back to Redis when it returns, replaying the
//!   invalidations they kept (Redis returns with its old data).

mod common;

use common::{start_with, temp_dir, Server};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key both instances seal bound arguments with (32 bytes, base64).
const SECRET: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// A redis-server keeping its data in `dir`, so that a restart on the same
/// port and folder finds what `save` wrote.
struct Redis {
    port: u16,
    dir: PathBuf,
    child: Child,
}

impl Redis {
    fn start_in(port: u16, dir: &Path) -> Redis {
        let child = Command::new(std::env::var("REDIS_SERVER").unwrap_or("redis-server".into()))
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--dbfilename",
                "redis.rdb",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed: `cargo xtask setup test` installs it");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis {
            port,
            dir: dir.to_path_buf(),
            child,
        }
    }

    /// `SAVE`, over RESP.
    fn save(&self) {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("redis");
        stream.write_all(b"*1\r\n$4\r\nSAVE\r\n").expect("write");
        let mut reply = [0u8; 5];
        stream.read_exact(&mut reply).expect("read");
        assert_eq!(&reply, b"+OK\r\n");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Redis and instances A and B on one database, both connected.
fn cluster(name: &str) -> (Redis, Server, Server, PathBuf) {
    let dir = temp_dir(name);
    let redis = Redis::start_in(free_port(), &dir);
    let url = redis.url();
    let env = [
        ("TANDEM_CACHE_URL", url.as_str()),
        ("TANDEM_SECRET", SECRET),
        // The cache's connection lines are info and warn (RUST_LOG filters
        // them, as every line of tandem's).
        ("RUST_LOG", "error,tandem=info"),
    ];
    let a = start_with(&dir, &env);
    let b = start_with(&dir, &env);
    wait_for(&[&a, &b], "connected to the Redis cache");
    (redis, a, b, dir)
}

/// Waits until every server has logged `text`.
fn wait_for(servers: &[&Server], text: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !servers.iter().all(|s| s.logged(text)) {
        assert!(Instant::now() < deadline, "no server logged {text:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The number a page shows in `data-testid=name`.
fn shown(s: &Server, path: &str, testid: &str) -> i64 {
    let r = s.request("GET", path, &[], b"");
    assert_eq!(r.status, 200, "GET {path}: {}", r.body);
    let marker = format!("data-testid=\"{testid}\"");
    let at = r
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} in {}", r.body));
    let after = &r.body[at + marker.len()..];
    let after = &after[after.find('>').expect("tag end") + 1..];
    // Skip hydration comments (`<!>`) before the text.
    let text = after.trim_start_matches(|c: char| !c.is_ascii_digit() && c != '-');
    let digits: String = text
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("a number after {marker}: {after:.80}"))
}

fn price(s: &Server) -> i64 {
    shown(s, "/tags", "cached-value")
}

fn call(s: &Server, function: &str) {
    let r = s.post_form(&format!("/api/{function}"), &[], "");
    assert_eq!(r.status, 200, "{function}: {}", r.body);
}

#[test]
fn many_instances_invalidations_through_one_reach_the_other() {
    let (_redis, a, b, dir) = cluster("scale-tags");

    // Shared entries: what B cached, A serves.
    let v0 = price(&b);
    call(&a, "change_price_silently");
    assert_eq!(price(&b), v0, "B serves the cached price");
    assert_eq!(price(&a), v0, "A serves the entry B cached, from Redis");

    // update_tag through A: B's next render is fresh. Timed, 20 times.
    let (mut on_a, mut on_b, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let mut expected = v0 + 1;
    for _ in 0..20 {
        let t = Instant::now();
        call(&a, "change_price_and_update_tag");
        let answered = t.elapsed();
        expected += 1;
        assert_eq!(price(&b), expected, "B's next render after update_tag on A");
        total.push(t.elapsed());
        on_a.push(answered);
        on_b.push(t.elapsed() - answered);
        assert_eq!(price(&a), expected);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        (
            v[v.len() / 2].as_secs_f64() * 1e3,
            v[v.len() - 1].as_secs_f64() * 1e3,
        )
    };
    let ((a_med, _), (b_med, _), (t_med, t_max)) =
        (median(&mut on_a), median(&mut on_b), median(&mut total));
    println!(
        "[scale-out] update_tag on A to fresh data on B, n=20: median {t_med:.2} ms (max {t_max:.2} ms) \
         = A answers the update_tag in {a_med:.2} ms + B renders /tags fresh in {b_med:.2} ms \
         (B's very next render after A's answer is fresh every time)"
    );

    // revalidate_tag through A: B serves the stale value at most while one
    // refresh runs, then the fresh one.
    call(&a, "change_price_and_revalidate_tag");
    expected += 1;
    let deadline = Instant::now() + Duration::from_secs(10);
    while price(&b) != expected {
        assert!(
            Instant::now() < deadline,
            "B never saw the revalidated price"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(price(&a), expected);

    // revalidate_path (and update_tag) through A's create_post: B's /posts
    // shows the new post at once.
    let before = b.request("GET", "/posts", &[], b"");
    assert!(!before.body.contains("From instance A"));
    let r = a.post_form(
        "/api/create_post",
        &[],
        "prev=null&title=From+instance+A&content=shared",
    );
    assert!(
        r.status == 200 || r.status == 303,
        "{}: {}",
        r.status,
        r.body
    );
    let after = b.request("GET", "/posts", &[], b"");
    assert!(after.body.contains("From instance A"), "{}", after.body);
    drop((a, b));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn many_instances_an_argument_bound_by_one_is_accepted_by_the_other() {
    let (_redis, a, b, dir) = cluster("scale-bound");
    let r = a.post_form(
        "/api/create_post_with_state",
        &[],
        "prev=%22%22&title=Sealed+on+A&content=x",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let posts = a.post_count();
    // The token A hands out with the post list.
    let r = a.post_form("/api/get_posts", &[], "");
    let start = r.body.find("\"delete_token\":\"").expect("a token") + 16;
    let token = r.body[start..].split('"').next().expect("token");
    let r = b.post_form("/api/delete_post", &[], &format!("id={token}"));
    assert_eq!(r.status, 200, "B opens A's seal: {}", r.body);
    assert_eq!(a.post_count(), posts - 1);
    drop((a, b));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn many_instances_losing_redis_loses_no_write_and_both_keep_answering() {
    let (redis, a, b, dir) = cluster("scale-down");
    let likes = a.likes();
    let v0 = price(&a);
    assert_eq!(price(&b), v0);
    // Redis will come back with this entry (price = v0) in it.
    redis.save();

    // 200 writes through both instances, each of them invalidating the
    // cached price (`update_tag`) or adding a like; Redis is killed when
    // half of them are answered.
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let mut redis = redis;
    std::thread::scope(|scope| {
        let workers: Vec<_> = [&a, &b]
            .into_iter()
            .flat_map(|s| {
                let answered = &answered;
                (0..4).map(move |w| {
                    scope.spawn(move || {
                        let function = if w % 2 == 0 {
                            "change_price_and_update_tag"
                        } else {
                            "increment_like"
                        };
                        (0..25)
                            .map(|_| {
                                let status =
                                    s.post_form(&format!("/api/{function}"), &[], "").status;
                                answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                status
                            })
                            .collect::<Vec<_>>()
                    })
                })
            })
            .collect();
        while answered.load(std::sync::atomic::Ordering::SeqCst) < 100 {
            std::thread::sleep(Duration::from_millis(1));
        }
        redis.kill();
        for w in workers {
            for status in w.join().expect("worker") {
                assert_eq!(status, 200);
            }
        }
    });
    assert_eq!(a.likes(), likes + 100, "no like lost");
    let fresh = v0 + 100;

    // Both keep rendering, and each instance's own update_tag made its
    // memory fresh: both show every price change.
    assert_eq!(price(&a), fresh);
    assert_eq!(price(&b), fresh);
    assert!(
        a.logged("lost the Redis cache"),
        "A logged the loss: {:?}",
        a.log.lock()
    );
    assert!(
        b.logged("lost the Redis cache"),
        "B logged the loss: {:?}",
        b.log.lock()
    );

    // Redis returns with its old data, price = v0 cached in it. Only the
    // replay of the update_tags the instances kept removes it.
    let _redis = Redis::start_in(redis.port, &redis.dir);
    wait_for(&[&a, &b], "reconnected to the Redis cache");
    assert_eq!(price(&b), fresh, "B after the return: {:?}", b.log.lock());
    assert_eq!(price(&a), fresh);
    call(&a, "change_price_and_update_tag");
    assert_eq!(price(&b), fresh + 1);
    drop((a, b));
    let _ = std::fs::remove_dir_all(dir);
}
