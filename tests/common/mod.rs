//! Helpers for end-to-end tests: run the real `kdesk` binary, start real nodes.
#![allow(dead_code)]

pub mod desks;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub fn kdesk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kdesk"));
    c.env_remove("KDESK_DATA_DIR")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    c
}

/// Runs `kdesk ARGS` to completion.
pub fn run(args: &[&str]) -> Output {
    kdesk().args(args).output().expect("run kdesk")
}

/// Exit code, stdout and stderr as strings.
pub fn outcome(o: &Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `kdesk init` a node in `dir`.
pub fn init(dir: &Path, country: &str, name: &str) {
    let o = run(&[
        "init",
        "--data-dir",
        s(dir),
        "--country",
        country,
        "--node-name",
        name,
    ]);
    assert!(o.status.success(), "init failed: {:?}", outcome(&o));
}

/// Sets `[storage] min_free_mb` in a desk's configuration (the node reads it at start).
pub fn set_reserve(dir: &Path, mb: u64) {
    let cfg = dir.join("kdesk.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("min_free_mb"))
        .expect("kdesk init writes [storage] min_free_mb")
        .to_owned();
    std::fs::write(&cfg, text.replace(&line, &format!("min_free_mb = {mb}"))).unwrap();
}

/// Path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A running `kdesk serve` child process, killed on drop.
pub struct Node {
    pub dir: PathBuf,
    pub child: Child,
}

impl Node {
    /// Starts `kdesk serve` and waits until its admin socket answers.
    pub fn start(dir: &Path) -> Node {
        Self::start_env(dir, &[])
    }

    /// [`Node::start`] with extra environment variables (the node's test faults).
    pub fn start_env(dir: &Path, env: &[(&str, &str)]) -> Node {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.with_extension("log"))
            .expect("log file");
        let mut cmd = kdesk();
        cmd.args(["serve", "--data-dir", s(dir)])
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn kdesk serve");
        let mut node = Node {
            dir: dir.to_owned(),
            child,
        };
        node.wait_ready();
        node
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                let log =
                    std::fs::read_to_string(self.dir.with_extension("log")).unwrap_or_default();
                panic!("kdesk serve exited early ({st}); log:\n{log}");
            }
            if run(&["status", "--data-dir", s(&self.dir)])
                .status
                .success()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("kdesk serve did not answer within 30 s");
    }

    /// Sends a signal and waits for the process to exit.
    pub fn signal_and_wait(&mut self, sig: i32) -> std::process::ExitStatus {
        // SAFETY: signalling our own child by pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, sig) };
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return st;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "node did not exit after signal {sig}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An example alert from `examples/alerts/`, with its validity moved to start today so tests
/// pass on any date; `edit` may change it further.
pub fn example(name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/alerts")
        .join(name);
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("example")).expect("json");
    let today = time::OffsetDateTime::now_utc().date();
    let until = today + time::Duration::days(90);
    let f = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    v["validity"] = serde_json::json!({"valid_from": f(today), "valid_until": f(until)});
    edit(&mut v);
    v.to_string()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// `kdesk alert list --json` parsed, one value per record.
pub fn list(dir: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["alert", "list", "--data-dir", s(dir), "--json"];
    args.extend_from_slice(extra);
    let o = run(&args);
    let (code, out, err) = outcome(&o);
    assert_eq!(code, 0, "list failed: {err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

/// `kdesk alert issue --json` of `json` (written to `tmp/issue.json`); the issued record.
pub fn issue(dir: &Path, tmp: &Path, json: &str) -> Value {
    let f = write(tmp, "issue.json", json);
    let (code, out, err) = outcome(&run(&[
        "alert",
        "issue",
        "--data-dir",
        s(dir),
        "--input",
        s(&f),
        "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).expect("issued record is JSON")
}

/// Re-signs a modified audit bundle with the exporter's own key: the exporter itself cheating.
pub fn resign(b: &kdesk::pb::AuditBundle, key: &ed25519_dalek::SigningKey) -> Vec<u8> {
    kdesk::audit::bundle::encode_signed(b, key)
}
