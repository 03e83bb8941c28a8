//! Durability and stopping, through the real binary: bulk import, idempotent issuing when
//! the node dies between storing and answering, a stalled store seen by `status`, and the
//! bounded drain on SIGTERM.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{example, init, list, outcome, run, s, write, Node};
use serde_json::Value;

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for: {what}");
}

fn status(dir: &Path) -> Value {
    let (code, out, err) = outcome(&run(&["status", "--data-dir", s(dir), "--json"]));
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// Appends settings to a section of the node's kdesk.toml (replacing the default line).
fn set(dir: &Path, key: &str, value: &str) {
    let p = dir.join("kdesk.toml");
    let text = std::fs::read_to_string(&p).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with(&format!("{key} =")) {
            out.push_str(&format!("{key} = {value}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(
        out.contains(&format!("{key} = {value}")),
        "{key} not in config"
    );
    std::fs::write(p, out).unwrap();
}

fn alert_line(title: &str) -> String {
    example("cargo-express-methamphetamine.json", |v| {
        v["title"] = title.into();
    })
}

fn spawn_cli(args: &[&str]) -> Child {
    common::kdesk()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn import_checks_every_line_refuses_or_skips_bad_ones_and_never_stores_twice() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    let _node = Node::start(&dir);
    let good: Vec<String> = (0..25).map(|i| alert_line(&format!("Bulk {i}"))).collect();
    let mut lines = good.clone();
    lines.insert(3, r#"{"title": 5}"#.into());
    lines.insert(10, String::new()); // blank lines are skipped, not errors
    lines.insert(11, "not json".into());
    let file = write(t.path(), "bulk.jsonl", &(lines.join("\r\n") + "\r\n"));

    // One bad line refuses the file: every bad line named by number and field, nothing stored.
    let (code, _, err) = outcome(&run(&[
        "alert",
        "import",
        "--data-dir",
        s(&dir),
        "--file",
        s(&file),
    ]));
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("line 4: title"), "{err}");
    assert!(err.contains("line 12:"), "{err}");
    assert!(
        err.contains("2 bad line(s) of 27; nothing was imported"),
        "{err}"
    );
    assert!(list(&dir, &["--kind", "alert"]).is_empty());

    // --skip-bad imports the others, lists each skipped line; batches of 10.
    let args = [
        "alert",
        "import",
        "--data-dir",
        s(&dir),
        "--file",
        s(&file),
        "--skip-bad",
        "--batch",
        "10",
        "--request-id",
        "bulk-1",
        "--json",
    ];
    let (code, out, err) = outcome(&run(&args));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["imported"], 25);
    assert_eq!(v["batches"], 3);
    assert_eq!(v["skipped"], 2);
    assert_eq!(v["skipped_lines"][0]["line"], 4);
    assert!(err.contains("skipped:") && err.contains("line 12"), "{err}");
    let stored = list(&dir, &["--kind", "alert"]);
    assert_eq!(stored.len(), 25);
    let titles: Vec<&str> = stored
        .iter()
        .map(|r| r["content"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles[0], "Bulk 0");
    assert_eq!(titles[24], "Bulk 24");

    // The same import again with the same request id stores nothing new.
    let (code, out, err) = outcome(&run(&args));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["already_stored"], 25);
    assert_eq!(list(&dir, &["--kind", "alert"]).len(), 25);

    // Standard input works; `kdesk gen` output imports as it is.
    let g = t.path().join("gen");
    let (code, _, err) = outcome(&run(&[
        "gen",
        "--out",
        s(&g),
        "--alerts",
        "40",
        "--lines",
        "1",
    ]));
    assert_eq!(code, 0, "{err}");
    let o = common::kdesk()
        .args([
            "alert",
            "import",
            "--data-dir",
            s(&dir),
            "--file",
            "-",
            "--json",
        ])
        .stdin(std::fs::File::open(g.join("alerts.jsonl")).unwrap())
        .output()
        .unwrap();
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["imported"], 40);
    assert_eq!(v["first_seq"], 26);
    assert_eq!(v["last_seq"], 65);
}

#[test]
fn a_request_answered_by_a_dying_node_is_retried_and_never_signed_twice() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    let first = write(
        t.path(),
        "a.json",
        &alert_line("Stored before the node died"),
    );
    // The node stores and flushes the first issuing request, then kills itself with SIGKILL
    // before answering.
    let mut node = Node::start_env(&dir, &[("KDESK_FAULT_KILL_AFTER_ISSUE", "1")]);
    let cli = spawn_cli(&[
        "alert",
        "issue",
        "--data-dir",
        s(&dir),
        "--file",
        s(&first),
        "--json",
    ]);
    wait_until("the node killed itself", Duration::from_secs(20), || {
        node.child.try_wait().unwrap().is_some()
    });
    // The CLI is retrying with its request id; the node comes back.
    let _node = Node::start(&dir);
    let o = cli.wait_with_output().unwrap();
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("retrying"), "the CLI said it retried: {err}");
    let rec: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(rec["seq"], 1);
    let alerts = list(&dir, &["--kind", "alert"]);
    assert_eq!(alerts.len(), 1, "one alert, not two: {alerts:?}");
    assert_eq!(alerts[0]["id"], rec["id"]);

    // An explicit request id: repeating it returns the first record; reusing it for other
    // content is refused.
    let args = |f: &Path| {
        run(&[
            "alert",
            "issue",
            "--data-dir",
            s(&dir),
            "--file",
            s(f),
            "--request-id",
            "nat-sys:2026-11-30:0001",
            "--json",
        ])
    };
    let second = write(t.path(), "b.json", &alert_line("National system alert"));
    let (code, out1, err) = outcome(&args(&second));
    assert_eq!(code, 0, "{err}");
    let (code, out2, err) = outcome(&args(&second));
    assert_eq!(code, 0, "{err}");
    let (a, b): (Value, Value) = (
        serde_json::from_str(&out1).unwrap(),
        serde_json::from_str(&out2).unwrap(),
    );
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["seq"], 2);
    let third = write(t.path(), "c.json", &alert_line("Something else"));
    let (code, _, err) = outcome(&args(&third));
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("already used for a different request"),
        "{err}"
    );
    let (code, _, err) = outcome(&run(&[
        "alert",
        "issue",
        "--data-dir",
        s(&dir),
        "--file",
        s(&third),
        "--request-id",
        "bad id!",
    ]));
    assert_eq!(code, 2, "{err}");
    assert_eq!(list(&dir, &["--kind", "alert"]).len(), 2);
}

#[test]
fn a_stalled_store_shows_in_status_and_clears_and_sigterm_drains_within_the_deadline() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    set(&dir, "stall_seconds", "1");
    set(&dir, "drain_seconds", "5");
    // Every flush takes 2.5 s: longer than the stall limit.
    let mut node = Node::start_env(&dir, &[("KDESK_FAULT_FLUSH_DELAY_MS", "2500")]);
    let f = write(
        t.path(),
        "a.json",
        &alert_line("Issued while the disk stalls"),
    );
    let issuing = spawn_cli(&["alert", "issue", "--data-dir", s(&dir), "--file", s(&f)]);
    // status answers from memory while the flush is stuck, naming it.
    let mut seen = Value::Null;
    wait_until("status shows the stall", Duration::from_secs(20), || {
        let started = Instant::now();
        seen = status(&dir);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "status waited on the store"
        );
        seen["stalled"] == true
    });
    assert_eq!(seen["stall_what"], "flush");
    let (_, text, _) = outcome(&run(&["status", "--data-dir", s(&dir)]));
    assert!(text.contains("STALLED"), "{text}");
    let log = std::fs::read_to_string(dir.with_extension("log")).unwrap();
    assert!(
        log.contains("store stalled") && log.contains("waiting=flush"),
        "{log}"
    );

    // SIGTERM while the alert is in flight: it completes, a new request is refused with
    // "retry later" (75), and the node exits 0 within the drain deadline.
    // SAFETY: signalling our own child.
    unsafe { libc::kill(node.child.id() as libc::pid_t, libc::SIGTERM) };
    let stopped_at = Instant::now();
    wait_until(
        "the node says it is stopping",
        Duration::from_secs(5),
        || {
            let (code, out, _) = outcome(&run(&["status", "--data-dir", s(&dir), "--json"]));
            code == 0 && out.contains("\"stopping\":true")
        },
    );
    let (code, _, err) = outcome(&run(&[
        "alert",
        "issue",
        "--data-dir",
        s(&dir),
        "--file",
        s(&f),
    ]));
    assert_eq!(code, 75, "{err}");
    assert!(err.contains("stopping"), "{err}");
    let o = issuing.wait_with_output().unwrap();
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 0, "the request in flight finished: {err}");
    assert!(out.contains("stored and flushed"), "{out}");
    let st = loop {
        if let Some(st) = node.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            stopped_at.elapsed() < Duration::from_secs(9),
            "node still running past the drain deadline"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(st.code(), Some(0), "exit status {st}");
    let log = std::fs::read_to_string(dir.with_extension("log")).unwrap();
    assert!(log.contains("stopped cleanly"), "{log}");

    // Without the fault the stall clears and the alert is there.
    let _node = Node::start(&dir);
    assert_eq!(status(&dir)["stalled"], false);
    assert_eq!(list(&dir, &["--kind", "alert"]).len(), 1);
}

#[test]
fn a_final_flush_that_misses_the_deadline_exits_non_zero_with_one_clear_line() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    set(&dir, "drain_seconds", "1");
    let mut node = Node::start_env(&dir, &[("KDESK_FAULT_FLUSH_DELAY_MS", "4000")]);
    let st = node.signal_and_wait(libc::SIGTERM);
    assert_eq!(st.code(), Some(74), "exit status {st}");
    let log = std::fs::read_to_string(dir.with_extension("log")).unwrap();
    assert!(
        log.contains("did not finish within the drain deadline")
            || log.contains("still running after the drain deadline"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_store_turns_exchange_health_not_serving() {
    use common::desks::{addr, desk, health_status, peer_add};
    use tonic_health::pb::health_check_response::ServingStatus;
    let t = tempfile::tempdir().unwrap();
    let kr = desk(t.path(), "KR", "seoul", false);
    let th = desk(t.path(), "TH", "bangkok", false);
    set(&kr.dir, "stall_seconds", "1");
    let kr_node = Node::start(&kr.dir);
    peer_add(&kr, &th, "https://127.0.0.1:1", &[]);
    let ca = kr.ca.join("ca.pem");
    let (cert, key) = (th.dir.join("tls/node.pem"), th.dir.join("tls/node.key"));
    let kr_addr = addr(&kr.dir);
    let health = || health_status(&kr_addr, &ca, Some((&cert, &key)));
    assert_eq!(health().await, Ok(ServingStatus::Serving));
    // Restarted with every flush taking 3 s: the watchdog sees a flush older than 1 s.
    drop(kr_node);
    let _kr_node = Node::start_env(&kr.dir, &[("KDESK_FAULT_FLUSH_DELAY_MS", "3000")]);
    let kr_addr = addr(&kr.dir);
    let health = || health_status(&kr_addr, &ca, Some((&cert, &key)));
    let start = Instant::now();
    let mut seen = None;
    while start.elapsed() < Duration::from_secs(20) {
        seen = Some(health().await);
        if seen == Some(Ok(ServingStatus::NotServing)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen,
        Some(Ok(ServingStatus::NotServing)),
        "health during a stall"
    );
    assert_eq!(status(&kr.dir)["stalled"], true);
}
