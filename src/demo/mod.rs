//! `kdesk demo`: three desks (KR, TH, NL) federated on loopback, with real processes.
//!
//! Runs this same executable as separate processes (`kdesk certs`, `kdesk init`, `kdesk
//! serve`, `kdesk peer`, `kdesk alert`) in a temporary directory, exactly as administrators
//! would, prints each command and what it answered, checks every outcome, and exits non-zero
//! if anything misbehaved. The forgery step runs a misbehaving partner in-process
//! ([`rogue::Rogue`]) speaking the real protocol over real mTLS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::cli::{exit, CliError, CliResult};
use kdesk::model::Date;
use kdesk::pb;

pub mod rogue;

/// The sample alerts in `examples/alerts/`, compiled in so the demo runs from any directory.
pub const EXAMPLES: [(&str, &str); 8] = [
    (
        "cargo-express-methamphetamine.json",
        include_str!("../../examples/alerts/cargo-express-methamphetamine.json"),
    ),
    (
        "cargo-postal-ketamine.json",
        include_str!("../../examples/alerts/cargo-postal-ketamine.json"),
    ),
    (
        "cargo-air-cargo-precursor.json",
        include_str!("../../examples/alerts/cargo-air-cargo-precursor.json"),
    ),
    (
        "cargo-sea-container-cocaine.json",
        include_str!("../../examples/alerts/cargo-sea-container-cocaine.json"),
    ),
    (
        "cargo-ship-cocaine.json",
        include_str!("../../examples/alerts/cargo-ship-cocaine.json"),
    ),
    (
        "cargo-port-entrant-methamphetamine.json",
        include_str!("../../examples/alerts/cargo-port-entrant-methamphetamine.json"),
    ),
    (
        "traveler-air-ketamine.json",
        include_str!("../../examples/alerts/traveler-air-ketamine.json"),
    ),
    (
        "traveler-air-methamphetamine.json",
        include_str!("../../examples/alerts/traveler-air-methamphetamine.json"),
    ),
];

fn example(name: &str) -> Result<&'static str, CliError> {
    EXAMPLES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, j)| *j)
        .ok_or_else(|| fail(format!("no example {name}")))
}

/// Output of one CLI run.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

struct Desk {
    cc: &'static str,
    node: &'static str,
    dir: PathBuf,
    ca: PathBuf,
    child: Option<Child>,
    addr: String,
}

impl Desk {
    fn d(&self) -> String {
        self.dir.display().to_string()
    }
}

struct Demo {
    exe: PathBuf,
    root: PathBuf,
    failures: Vec<String>,
    passed: usize,
}

fn fail(msg: impl Into<String>) -> CliError {
    CliError::new(exit::FAILED, msg)
}

impl Demo {
    /// Runs `kdesk ARGS`, printing the command line and, if `show`, its output indented.
    async fn kdesk(&self, args: &[&str], show: bool) -> Result<Ran, CliError> {
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                let a = a.replace(&self.root.display().to_string(), "$DEMO");
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    a
                }
            })
            .collect();
        println!("$ kdesk {}", shown.join(" "));
        let out = Command::new(&self.exe)
            .args(args)
            .stdin(Stdio::null())
            .env_remove("KDESK_DATA_DIR")
            .output()
            .await
            .map_err(|e| fail(format!("cannot run {}: {e}", self.exe.display())))?;
        let ran = Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        if show {
            for line in ran.stdout.lines().chain(ran.stderr.lines()) {
                println!(
                    "    {}",
                    line.replace(&self.root.display().to_string(), "$DEMO")
                );
            }
        }
        Ok(ran)
    }

    /// Runs a command that must succeed.
    async fn ok(&mut self, args: &[&str], show: bool) -> Result<Ran, CliError> {
        let r = self.kdesk(args, show).await?;
        if r.code != 0 {
            return Err(fail(format!(
                "`kdesk {}` exited {}: {}",
                args.first().copied().unwrap_or(""),
                r.code,
                r.stderr.trim()
            )));
        }
        Ok(r)
    }

    fn check(&mut self, ok: bool, what: &str) {
        if ok {
            self.passed += 1;
            println!("  ✔ {what}");
        } else {
            println!("  ✘ {what}");
            self.failures.push(what.to_owned());
        }
    }

    async fn json(&self, args: &[&str]) -> Result<Value, CliError> {
        let out = Command::new(&self.exe)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| fail(e.to_string()))?;
        serde_json::from_slice(&out.stdout)
            .map_err(|e| fail(format!("`kdesk {}` gave no JSON: {e}", args.join(" "))))
    }

    /// Runs `kdesk ARGS` and parses its JSON Lines.
    async fn json_lines(&self, args: &[&str]) -> Result<Vec<Value>, CliError> {
        let out = Command::new(&self.exe)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| fail(e.to_string()))?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .map_err(|e| fail(format!("`kdesk {}` gave no JSON: {e}", args.join(" "))))
            })
            .collect()
    }

    /// `alert list --json` of a desk, as id -> record.
    async fn records(&self, desk: &Desk) -> Result<BTreeMap<String, Value>, CliError> {
        let out = Command::new(&self.exe)
            .args(["alert", "list", "--data-dir", &desk.d(), "--json"])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| fail(e.to_string()))?;
        let mut m = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let v: Value = serde_json::from_str(line).map_err(|e| fail(e.to_string()))?;
            if let Some(id) = v["id"].as_str() {
                m.insert(id.to_owned(), v);
            }
        }
        Ok(m)
    }
}

fn section(n: u32, title: &str) {
    println!("\n[{n}] {title}");
}

/// Moves an example's validity window to start today, so the demo works on any date.
fn with_current_validity(json: &str) -> Result<Value, CliError> {
    let mut v: Value = serde_json::from_str(json).map_err(|e| fail(format!("example: {e}")))?;
    let today = Date::today_utc();
    let until = time::OffsetDateTime::now_utc().date() + time::Duration::days(120);
    v["validity"] = serde_json::json!({
        "valid_from": today.to_string(),
        "valid_until": format!("{:04}-{:02}-{:02}", until.year(), u8::from(until.month()), until.day()),
    });
    Ok(v)
}

async fn wait_for_node(exe: &Path, dir: &Path, child: &mut Child) -> Result<Duration, CliError> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(fail(format!("kdesk serve exited early with {status}")));
        }
        let ok = Command::new(exe)
            .args(["status", "--data-dir", &dir.display().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Ok(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(fail("kdesk serve did not come up within 20 s"))
}

/// Polls `cond` every 50 ms for up to 20 s; returns how long it took.
async fn eventually<F, Fut>(mut cond: F) -> Result<Option<Duration>, CliError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, CliError>>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if cond().await? {
            return Ok(Some(start.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(None)
}

/// Standard output moved to standard error while the demo narrates (`--json`), so that
/// standard output carries only the result.
struct Narration {
    saved_stdout: Option<libc::c_int>,
}

impl Narration {
    fn begin(json: bool) -> Self {
        if !json {
            return Self { saved_stdout: None };
        }
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        // SAFETY: duplicating and replacing this process's own standard descriptors.
        let saved = unsafe { libc::dup(1) };
        if saved < 0 || unsafe { libc::dup2(2, 1) } < 0 {
            return Self { saved_stdout: None };
        }
        Self {
            saved_stdout: Some(saved),
        }
    }

    /// Puts standard output back and prints `result` on it.
    fn finish(self, result: &Value) {
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        if let Some(fd) = self.saved_stdout {
            // SAFETY: restoring the descriptor saved in `begin`.
            unsafe {
                libc::dup2(fd, 1);
                libc::close(fd);
            }
            println!("{result}");
        }
    }
}

pub(super) async fn run(keep: bool, json: bool) -> CliResult {
    let narration = Narration::begin(json);
    let started = Instant::now();
    let exe = std::env::current_exe()
        .map_err(|e| CliError::new(exit::SOFTWARE, format!("cannot find own executable: {e}")))?;
    let tmp = tempfile::Builder::new()
        .prefix("kdesk-demo-")
        .tempdir()
        .map_err(|e| CliError::new(exit::IOERR, format!("temporary directory: {e}")))?;
    let root = tmp.path().to_owned();
    let mut demo = Demo {
        exe,
        root: root.clone(),
        failures: vec![],
        passed: 0,
    };
    println!("kdesk demo: the Korean Desk with Thailand and the Netherlands, three real nodes on loopback");
    println!("$DEMO = {}", root.display());

    let mut desks: Vec<Desk> = [("KR", "seoul"), ("TH", "bangkok"), ("NL", "rotterdam")]
        .into_iter()
        .map(|(cc, node)| Desk {
            cc,
            node,
            dir: root.join(cc.to_ascii_lowercase()),
            ca: root.join(format!("{}-ca", cc.to_ascii_lowercase())),
            child: None,
            addr: String::new(),
        })
        .collect();
    let result = run_steps(&mut demo, &mut desks).await;

    section(
        12,
        "Stop the nodes with SIGTERM: each drains, flushes and exits 0",
    );
    for desk in &mut desks {
        if let Some(mut child) = desk.child.take() {
            if let Some(pid) = child.id() {
                // SAFETY: signalling our own child process by pid.
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            }
            let status = tokio::time::timeout(Duration::from_secs(15), child.wait()).await;
            let clean = matches!(status, Ok(Ok(s)) if s.success());
            demo.check(clean, &format!("{} node exited 0 after SIGTERM", desk.cc));
        }
    }
    let kept = keep.then(|| tmp.keep());
    if let Some(k) = &kept {
        println!("\nkept {}", k.display());
    }
    let elapsed = started.elapsed().as_secs_f64();

    let summary = serde_json::json!({
        "ok": result.is_ok() && demo.failures.is_empty(),
        "checks_passed": demo.passed,
        "failed_checks": demo.failures.clone(),
        "aborted": result.as_ref().err().map(|e| e.message.clone()),
        "seconds": (elapsed * 10.0).round() / 10.0,
        "kept_dir": kept.as_ref().map(|k| k.display().to_string()),
    });
    let outcome = match result {
        Err(e) => {
            println!("\ndemo aborted after {elapsed:.1} s: {}", e.message);
            Err(e)
        }
        Ok(()) if demo.failures.is_empty() => {
            println!(
                "\ndemo finished in {elapsed:.1} s: every check passed ({} checks)",
                demo.passed
            );
            Ok(())
        }
        Ok(()) => Err(fail(format!(
            "demo finished in {elapsed:.1} s with {} failed check(s): {}",
            demo.failures.len(),
            demo.failures.join("; ")
        ))),
    };
    narration.finish(&summary);
    outcome
}

/// An alert issued during the demo: the desk (index), its record id, what it is.
type Issued = (usize, String, &'static str);

/// The demonstration, one function per step, in order.
async fn run_steps(demo: &mut Demo, desks: &mut [Desk]) -> CliResult {
    certificates_and_nodes(demo, desks).await?;
    start_nodes(demo, desks).await?;
    register_partners(demo, desks).await?;
    let issued = issue_alerts(demo, desks).await?;
    deliveries(demo, desks, &issued).await?;
    retraction(demo, desks, &issued).await?;
    rogue_partner_and_screening(demo, desks, &issued).await?;
    partners_and_counters(demo, desks).await?;
    audit(demo, desks).await?;
    summary(demo, desks).await
}

/// Each desk makes its national CA, a node certificate and its node.
async fn certificates_and_nodes(demo: &mut Demo, desks: &mut [Desk]) -> CliResult {
    section(
        1,
        "Each desk makes its national CA, a node certificate, and its node (Ed25519 key, 0600)",
    );
    for desk in desks.iter() {
        let (ca, d) = (desk.ca.display().to_string(), desk.d());
        demo.ok(
            &["certs", "ca", "--country", desk.cc, "--out-dir", &ca],
            true,
        )
        .await?;
        demo.ok(
            &[
                "init",
                "--data-dir",
                &d,
                "--country",
                desk.cc,
                "--node-name",
                desk.node,
                "--listen",
                "127.0.0.1:0",
                "--witness-interval",
                "1",
            ],
            false,
        )
        .await?;
        let tls = desk.dir.join("tls").display().to_string();
        demo.ok(
            &[
                "certs",
                "node",
                "--ca",
                &ca,
                "--country",
                desk.cc,
                "--node-name",
                desk.node,
                "--host",
                "127.0.0.1",
                "--host",
                "localhost",
                "--out-dir",
                &tls,
            ],
            true,
        )
        .await?;
    }
    Ok(())
}

/// The three nodes start as separate processes.
async fn start_nodes(demo: &mut Demo, desks: &mut [Desk]) -> CliResult {
    section(2, "Start the three nodes as separate processes");
    for desk in desks.iter_mut() {
        let log = std::fs::File::create(
            demo.root
                .join(format!("{}-serve.log", desk.cc.to_ascii_lowercase())),
        )
        .map_err(|e| fail(format!("log file: {e}")))?;
        println!(
            "$ kdesk serve --data-dir $DEMO/{} &",
            desk.cc.to_ascii_lowercase()
        );
        let mut child = Command::new(&demo.exe)
            .args(["serve", "--data-dir", &desk.d()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| fail(format!("cannot start kdesk serve: {e}")))?;
        let up = wait_for_node(&demo.exe, &desk.dir, &mut child).await?;
        desk.child = Some(child);
        let st = demo
            .json(&["status", "--data-dir", &desk.d(), "--json"])
            .await?;
        desk.addr = st["exchange_address"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        demo.check(
            !desk.addr.is_empty(),
            &format!(
                "{} up in {} ms, exchange (mTLS) on {}",
                desk.cc,
                up.as_millis(),
                desk.addr
            ),
        );
    }
    Ok(())
}

/// Each desk registers the other two.
async fn register_partners(demo: &mut Demo, desks: &mut [Desk]) -> CliResult {
    section(
        3,
        "Each desk registers the other two: endpoint, national CA, public signing key",
    );
    for i in 0..desks.len() {
        for j in 0..desks.len() {
            if i == j {
                continue;
            }
            let (me, them) = (&desks[i], &desks[j]);
            let endpoint = format!("https://{}", them.addr);
            let ca = them.ca.join("ca.pem").display().to_string();
            let key = them.dir.join("keys/signing.pub").display().to_string();
            demo.ok(
                &[
                    "peer",
                    "add",
                    "--data-dir",
                    &me.d(),
                    "--country",
                    them.cc,
                    "--endpoint",
                    &endpoint,
                    "--ca",
                    &ca,
                    "--signing-key",
                    &key,
                ],
                i == 0,
            )
            .await?;
        }
    }
    Ok(())
}

/// Three desks issue alerts, each to its own distribution; a mistyped container number is refused. Returns (desk index, record id, what) of each alert issued.
async fn issue_alerts(demo: &mut Demo, desks: &mut [Desk]) -> Result<Vec<Issued>, CliError> {
    section(4, "Three desks issue alerts, each to its own distribution");
    let plan = [
        (
            1usize,
            "cargo-express-methamphetamine.json",
            "TH → KR only: methamphetamine in express parcels",
        ),
        (
            0,
            "cargo-sea-container-cocaine.json",
            "KR → all partners: cocaine by container ship",
        ),
        (
            2,
            "cargo-postal-ketamine.json",
            "NL → KR only, no onward sharing: ketamine by mail",
        ),
    ];
    let mut issued = vec![];
    for (who, name, what) in plan {
        let v = with_current_validity(example(name)?)?;
        let path = demo
            .root
            .join(format!("{}-{name}", desks[who].cc.to_ascii_lowercase()));
        std::fs::write(&path, v.to_string()).map_err(|e| fail(e.to_string()))?;
        println!("  {what}");
        let r = demo
            .ok(
                &[
                    "alert",
                    "issue",
                    "--data-dir",
                    &desks[who].d(),
                    "--input",
                    &path.display().to_string(),
                    "--json",
                ],
                false,
            )
            .await?;
        let rec: Value = serde_json::from_str(r.stdout.trim()).map_err(|e| fail(e.to_string()))?;
        let id = rec["id"].as_str().unwrap_or_default().to_owned();
        println!(
            "    issued {} seq {} by {}",
            &id[..12.min(id.len())],
            rec["seq"],
            rec["origin"].as_str().unwrap_or("?")
        );
        issued.push((who, id, what));
    }

    println!("  A mistyped container number is refused before anything is signed or sent:");
    let mut bad = with_current_validity(example("cargo-sea-container-cocaine.json")?)?;
    bad["subject"]["cargo"]["container_numbers"][0] = "CSQU 305438 4".into();
    let bad_path = demo.root.join("kr-bad-container.json");
    std::fs::write(&bad_path, bad.to_string()).map_err(|e| fail(e.to_string()))?;
    // KR's own records only: partners' alerts may still be arriving meanwhile.
    let own_of_kr = |recs: BTreeMap<String, Value>| {
        recs.values()
            .filter(|r| r["origin"].as_str().is_some_and(|o| o.starts_with("KR/")))
            .count()
    };
    let before = own_of_kr(demo.records(&desks[0]).await?);
    let r = demo
        .kdesk(
            &[
                "alert",
                "issue",
                "--data-dir",
                &desks[0].d(),
                "--input",
                &bad_path.display().to_string(),
            ],
            true,
        )
        .await?;
    let after = own_of_kr(demo.records(&desks[0]).await?);
    demo.check(
        r.code == i32::from(exit::DATAERR)
            && r.stderr.contains("subject.cargo.container_numbers[0]")
            && before == after,
        "refused with exit 65, naming subject.cargo.container_numbers[0]; nothing stored",
    );
    Ok(issued)
}

/// Each alert arrives, verified, exactly where its distribution says, and nowhere else.
async fn deliveries(demo: &mut Demo, desks: &mut [Desk], issued: &[Issued]) -> CliResult {
    section(
        5,
        "Each alert arrives, verified, exactly where its distribution says",
    );
    // Expected deliveries: (alert index, desk index).
    let expected: [(usize, usize); 4] = [(0, 0), (1, 1), (1, 2), (2, 0)];
    for (a, d) in expected {
        let id = issued[a].1.clone();
        let dm: &Demo = demo;
        let took = eventually(|| {
            let id = id.clone();
            let desk = &desks[d];
            async move { Ok(dm.records(desk).await?.contains_key(&id)) }
        })
        .await?;
        let rec = demo
            .records(&desks[d])
            .await?
            .get(&id)
            .cloned()
            .unwrap_or(Value::Null);
        let check = rec["signature_check"].as_str().unwrap_or("").to_owned();
        demo.check(
            took.is_some() && check.starts_with("verified"),
            &format!(
                "{} alert {} at {} after {} ms, signature {check}",
                desks[issued[a].0].cc,
                &id[..12],
                desks[d].cc,
                took.map_or(0, |t| t.as_millis())
            ),
        );
    }
    // Before claiming something did not arrive, wait until every link has consumed every
    // partner's whole log: then absence is a decision, not a delay.
    let synced = eventually(|| async {
        for me in desks.iter() {
            let st = demo
                .json(&["status", "--data-dir", &me.d(), "--json"])
                .await?;
            for p in st["peers"].as_array().cloned().unwrap_or_default() {
                let them = desks.iter().find(|d| p["country"] == d.cc);
                let Some(them) = them else { continue };
                let their = demo
                    .json(&["status", "--data-dir", &them.d(), "--json"])
                    .await?;
                if p["cursor"].as_u64() < their["log_length"].as_u64() {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    })
    .await?;
    demo.check(
        synced.is_some(),
        "every link has read its partner's entire log",
    );
    let not_expected: [(usize, usize, &str); 2] = [
        (0, 2, "TH's KR-only alert is not at NL"),
        (
            2,
            1,
            "NL's KR-only, no-onward-sharing alert is not at TH (KR did not relay it)",
        ),
    ];
    for (a, d, what) in not_expected {
        let present = demo.records(&desks[d]).await?.contains_key(&issued[a].1);
        demo.check(!present, what);
    }
    demo.ok(&["alert", "list", "--data-dir", &desks[0].d()], true)
        .await?;
    Ok(())
}

/// KR retracts its alert; the retraction reaches every desk that held it.
async fn retraction(demo: &mut Demo, desks: &mut [Desk], issued: &[Issued]) -> CliResult {
    section(
        6,
        "KR retracts its alert; the retraction reaches everyone who received it",
    );
    let kr_alert = issued[1].1.clone();
    demo.ok(
        &[
            "alert",
            "retract",
            "--data-dir",
            &desks[0].d(),
            &kr_alert[..16],
            "--reason",
            "Containers inspected at transshipment in Panama; nothing found",
        ],
        true,
    )
    .await?;
    for d in [1usize, 2] {
        let id = kr_alert.clone();
        let dm: &Demo = demo;
        let took = eventually(|| {
            let id = id.clone();
            let desk = &desks[d];
            async move {
                Ok(dm
                    .records(desk)
                    .await?
                    .get(&id)
                    .and_then(|r| r["status"].as_str().map(|s| s == "retracted"))
                    == Some(true))
            }
        })
        .await?;
        demo.check(
            took.is_some(),
            &format!(
                "{} shows KR's alert retracted after {} ms",
                desks[d].cc,
                took.map_or(0, |t| t.as_millis())
            ),
        );
    }
    Ok(())
}

/// A rogue partner sends forged and misdirected records; then both borders screen a manifest.
async fn rogue_partner_and_screening(
    demo: &mut Demo,
    desks: &mut [Desk],
    issued: &[Issued],
) -> CliResult {
    section(
        7,
        "A rogue partner (VN) sends forged and misdirected records to KR",
    );
    forgery(demo, desks, &issued[0].1).await?;

    screening(demo, desks).await?;
    Ok(())
}

/// Partners and counters at the Korean desk.
async fn partners_and_counters(demo: &mut Demo, desks: &mut [Desk]) -> CliResult {
    section(9, "Partners and counters at the Korean desk");
    demo.ok(&["peer", "list", "--data-dir", &desks[0].d()], true)
        .await?;
    demo.ok(&["status", "--data-dir", &desks[0].d()], true)
        .await?;
    Ok(())
}

/// KR's log exported and verified offline; a tampered copy fails.
async fn audit(demo: &mut Demo, desks: &mut [Desk]) -> CliResult {
    section(
        10,
        "Audit: export KR's log and verify it offline, as an inspector would",
    );
    println!(
        "  Each node fetches its partners' signed tree heads every second, checks each against"
    );
    println!(
        "  the last one it saw (a consistency proof for a larger tree), cosigns it, and collects"
    );
    println!("  the cosignatures of its own heads.");
    let kr_dir = desks[0].d();
    let witnessed = eventually(|| {
        let kr_dir = kr_dir.clone();
        let demo = &*demo;
        async move {
            let st = demo
                .json(&["status", "--data-dir", &kr_dir, "--json"])
                .await?;
            let len = st["log_length"].as_u64().unwrap_or(0);
            let w = st["witness"].as_array().cloned().unwrap_or_default();
            Ok(w.len() == 2
                && w.iter().all(|p| {
                    p["cosigned_size"].as_u64() == Some(len)
                        && p["state"].as_str().is_some_and(|s| s.starts_with("ok"))
                }))
        }
    })
    .await?;
    demo.check(
        witnessed.is_some(),
        &format!(
            "TH and NL cosigned KR's current tree head, and KR theirs{}",
            witnessed
                .map(|d| format!(" ({} ms)", d.as_millis()))
                .unwrap_or_default()
        ),
    );
    demo.ok(&["audit", "witness", "--data-dir", &desks[0].d()], true)
        .await?;
    println!(
        "  Changes to KR's trust configuration are records in its own log too (never shared):"
    );
    demo.ok(
        &[
            "alert",
            "list",
            "--data-dir",
            &desks[0].d(),
            "--kind",
            "admin-event",
        ],
        true,
    )
    .await?;
    let bundle = demo.root.join("kr.bundle");
    let bundle_s = bundle.display().to_string();
    demo.ok(
        &[
            "audit",
            "export",
            "--data-dir",
            &desks[0].d(),
            "--out",
            &bundle_s,
        ],
        true,
    )
    .await?;
    let mut trust = String::from("# desk signing keys, obtained from each desk directly\n");
    for desk in desks.iter() {
        let k = std::fs::read_to_string(desk.dir.join("keys/signing.pub"))
            .map_err(|e| fail(e.to_string()))?;
        trust.push_str(&format!("{} {}\n", desk.cc, k.trim()));
    }
    let trust_path = demo.root.join("desk-keys.txt");
    std::fs::write(&trust_path, trust).map_err(|e| fail(e.to_string()))?;
    let trust_s = trust_path.display().to_string();
    let r = demo
        .kdesk(&["audit", "verify", &bundle_s, "--trust", &trust_s], true)
        .await?;
    demo.check(
        r.code == 0 && r.stdout.contains("VERIFIED"),
        "bundle verifies offline against the desks' keys",
    );
    demo.check(
        r.stdout.contains("witnessed by NL") && r.stdout.contains("witnessed by TH"),
        "the bundle carries TH's and NL's cosignatures of KR's log, checked offline",
    );
    let mut bytes = std::fs::read(&bundle).map_err(|e| fail(e.to_string()))?;
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    let tampered = demo.root.join("kr-tampered.bundle");
    std::fs::write(&tampered, bytes).map_err(|e| fail(e.to_string()))?;
    println!("  one bit flipped at byte {at} of a copy:");
    let r = demo
        .kdesk(
            &[
                "audit",
                "verify",
                &tampered.display().to_string(),
                "--trust",
                &trust_s,
            ],
            true,
        )
        .await?;
    demo.check(
        r.code == 1 && r.stderr.contains("audit FAILED"),
        "tampered copy refused with the failing check",
    );
    Ok(())
}

/// What each desk holds at the end.
async fn summary(demo: &mut Demo, desks: &mut [Desk]) -> CliResult {
    section(11, "Summary");
    for desk in desks.iter() {
        let recs = demo.records(desk).await?;
        let own = recs
            .values()
            .filter(|r| r["origin"].as_str().is_some_and(|o| o.starts_with(desk.cc)))
            .count();
        println!(
            "  {} holds {} records ({} own, {} received)",
            desk.cc,
            recs.len(),
            own,
            recs.len() - own
        );
    }
    Ok(())
}

/// The sample Korea-bound manifest.
const MANIFEST: &str = include_str!("../../examples/manifests/korea-bound-cargo.csv");

/// Hit ids (with their line reference) in `kdesk hits list --json` of a desk.
async fn hit_list(demo: &Demo, desk: &Desk) -> Result<Vec<Value>, CliError> {
    demo.json_lines(&["hits", "list", "--data-dir", &desk.d(), "--json"])
        .await
}

/// Both borders screen the same Korea-bound manifest; hits go, signed, to the desk that
/// raised the alert (and nowhere else); an outcome follows; the report sums it up.
async fn screening(demo: &mut Demo, desks: &[Desk]) -> CliResult {
    section(
        8,
        "Joint screening: KR (arrival) and TH (departure) screen one Korea-bound manifest",
    );
    let manifest = demo.root.join("korea-bound-cargo.csv");
    std::fs::write(&manifest, MANIFEST).map_err(|e| fail(e.to_string()))?;
    let m = manifest.display().to_string();
    let mut shared = vec![];
    for (i, desk) in desks.iter().enumerate().take(2) {
        let r = demo
            .kdesk(
                &[
                    "screen",
                    "--data-dir",
                    &desk.d(),
                    "--input",
                    &m,
                    "--share",
                    "--json",
                ],
                false,
            )
            .await?;
        let events: Vec<Value> = r
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        for e in &events {
            match e["type"].as_str() {
                Some("hit") => println!(
                    "  line {} [{}] score {} on {}'s alert \"{}\": {}",
                    e["line"],
                    e["reference"].as_str().unwrap_or(""),
                    e["score"],
                    e["alert_origin"].as_str().unwrap_or(""),
                    e["alert_title"].as_str().unwrap_or(""),
                    e["matched"]
                        .as_array()
                        .map(|a| a
                            .iter()
                            .take(3)
                            .map(|m| format!(
                                "{} ({})",
                                m["field"].as_str().unwrap_or(""),
                                m["reason"].as_str().unwrap_or("")
                            ))
                            .collect::<Vec<_>>()
                            .join(", "))
                        .unwrap_or_default()
                ),
                Some(kind @ ("bad_line" | "bad_field")) => println!(
                    "  {} at line {}: {}: {}",
                    kind.replace('_', " "),
                    e["line"],
                    e["field"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap_or("")
                ),
                _ => {}
            }
        }
        if i == 0 {
            // KR holds TH's alert: its hit must go back to TH.
            let on_th = events.iter().find(|e| {
                e["type"] == "hit"
                    && e["alert_origin"]
                        .as_str()
                        .is_some_and(|o| o.starts_with("TH"))
            });
            demo.check(
                r.code == 0 && on_th.is_some(),
                "KR finds hits on TH's alert (exact tracking number; name variant) and signs them",
            );
            if let Some(h) = on_th {
                shared.push((0, 1, h["hit_id"].as_str().unwrap_or_default().to_owned()));
            }
        } else {
            demo.check(
                r.code == 0 && events.iter().any(|e| e["type"] == "hit"),
                "TH, at departure, stops the same parcels against its own alert: the double barrier",
            );
        }
    }
    for (from, to, hit) in &shared {
        let (from, to) = (&desks[*from], &desks[*to]);
        let took = eventually(|| async {
            Ok(hit_list(demo, to)
                .await?
                .iter()
                .any(|h| h["id"] == hit.as_str()))
        })
        .await?;
        demo.check(
            took.is_some(),
            &format!(
                "{}'s hit {} arrived at {} (the alert's desk){}",
                from.cc,
                &hit[..12.min(hit.len())],
                to.cc,
                took.map(|t| format!(" in {} ms", t.as_millis()))
                    .unwrap_or_default()
            ),
        );
        let nl = demo.records(&desks[2]).await?;
        demo.check(
            !nl.contains_key(hit.as_str()),
            &format!("NL never received {}'s hit (not its alert)", from.cc),
        );
    }
    if let Some((_, _, hit)) = shared.first() {
        println!("  KR inspects the parcel and records the outcome:");
        demo.ok(
            &[
                "outcome",
                "record",
                hit,
                "--data-dir",
                &desks[0].d(),
                "--result",
                "seized",
                "--substance",
                "methamphetamine",
                "--quantity-kg",
                "2.35",
                "--note",
                "tablets inside toy cars",
            ],
            true,
        )
        .await?;
        let took = eventually(|| async {
            Ok(hit_list(demo, &desks[1]).await?.iter().any(|h| {
                h["id"] == hit.as_str()
                    && h["outcomes"]
                        .as_array()
                        .is_some_and(|o| o.iter().any(|o| o["result"] == "seized"))
            }))
        })
        .await?;
        demo.check(
            took.is_some(),
            "the seizure reached TH, the desk that raised the alert",
        );
        println!("  The same hits, seen from both desks:");
        demo.ok(&["hits", "list", "--data-dir", &desks[0].d()], true)
            .await?;
        demo.ok(&["hits", "list", "--data-dir", &desks[1].d()], true)
            .await?;
    }
    let svg = demo.root.join("kr-report.svg");
    let r = demo
        .ok(
            &[
                "report",
                "--data-dir",
                &desks[0].d(),
                "--svg",
                &svg.display().to_string(),
            ],
            true,
        )
        .await?;
    demo.check(
        r.stdout.contains("methamphetamine") && svg.exists(),
        "KR's report counts the seizure; SVG chart written",
    );
    Ok(())
}

/// Starts a rogue VN partner in-process, registers it at KR, and checks that KR refuses and
/// counts each bad record while storing nothing from it and staying up.
async fn forgery(demo: &mut Demo, desks: &[Desk], th_alert: &str) -> CliResult {
    let kr = &desks[0];
    let vn_ca = demo.root.join("vn-ca");
    let vn_tls = demo.root.join("vn-tls");
    let vn_ca_s = vn_ca.display().to_string();
    demo.ok(
        &["certs", "ca", "--country", "VN", "--out-dir", &vn_ca_s],
        false,
    )
    .await?;
    demo.ok(
        &[
            "certs",
            "node",
            "--ca",
            &vn_ca_s,
            "--country",
            "VN",
            "--node-name",
            "rogue",
            "--host",
            "127.0.0.1",
            "--out-dir",
            &vn_tls.display().to_string(),
        ],
        false,
    )
    .await?;
    let vn_key = kdesk::keys::generate()?;
    let vn_pub = hex::encode(vn_key.verifying_key().as_bytes());

    // 1. A genuine TH alert with one byte of its body changed.
    let mut client = crate::cli::client::connect(&kr.dir).await?;
    let genuine = client
        .get_record(pb::GetRecordRequest {
            id: th_alert.to_owned(),
        })
        .await?
        .into_inner()
        .envelope
        .ok_or_else(|| fail("no envelope"))?;
    let mut altered = genuine.clone();
    let at = altered.body.len() / 2;
    altered.body[at] ^= 0x01;
    // 2. An alert claiming to come from TH, signed with VN's key.
    let base = kdesk::model::Alert::from_json(
        &with_current_validity(example("cargo-air-cargo-precursor.json")?)?.to_string(),
    )
    .map_err(|e| fail(e.to_string()))?;
    let impersonation = kdesk::record::Record {
        origin: kdesk::record::Origin::parse("TH/bangkok").map_err(|e| fail(e.to_string()))?,
        seq: 99,
        created_at_ms: kdesk::node::now_ms(),
        kind: kdesk::record::RecordKind::Alert(base.clone()),
    }
    .sign(&vn_key);
    // 3. VN's own alert, properly signed, addressed only to NL.
    let mut to_nl = base;
    to_nl.distribution = kdesk::model::Distribution::new(
        false,
        vec![kdesk::model::CountryCode::parse("NL").map_err(|e| fail(e.to_string()))?],
    )
    .map_err(|e| fail(e.to_string()))?;
    let misdirected = kdesk::record::Record {
        origin: kdesk::record::Origin::parse("VN/rogue").map_err(|e| fail(e.to_string()))?,
        seq: 1,
        created_at_ms: kdesk::node::now_ms(),
        kind: kdesk::record::RecordKind::Alert(to_nl),
    }
    .sign(&vn_key);

    let identity =
        kdesk::federation::tls::Identity::load(&vn_tls.join("node.pem"), &vn_tls.join("node.key"))
            .map_err(|e| fail(e.to_string()))?;
    let kr_entry = kdesk::federation::registry::PeerEntry {
        country: kdesk::model::CountryCode::parse("KR").map_err(|e| fail(e.to_string()))?,
        endpoint: format!("https://{}", kr.addr),
        ca_pem: std::fs::read_to_string(kr.ca.join("ca.pem")).map_err(|e| fail(e.to_string()))?,
        crl_pems: vec![],
        keys: vec![kdesk::federation::registry::PeerKey {
            public_key: std::fs::read_to_string(kr.dir.join("keys/signing.pub"))
                .map_err(|e| fail(e.to_string()))?
                .trim()
                .to_owned(),
            added_at_ms: 0,
            revoked_at_ms: None,
            compromised: false,
            pending: false,
        }],
        added_at_ms: 0,
    };
    let rogue = rogue::start_rogue(
        identity,
        kr_entry,
        vec![altered, impersonation.envelope, misdirected.envelope],
    )
    .await
    .map_err(fail)?;
    println!(
        "    rogue VN node listening on {} (real TLS, real protocol)",
        rogue.addr
    );
    // Received records only: registering the rogue adds KR's own admin event to its log.
    let received = |recs: &std::collections::BTreeMap<String, Value>| {
        recs.values()
            .filter(|r| r["origin"].as_str().is_some_and(|o| !o.starts_with("KR/")))
            .count()
    };
    let before = received(&demo.records(kr).await?);
    demo.ok(
        &[
            "peer",
            "add",
            "--data-dir",
            &kr.d(),
            "--country",
            "VN",
            "--endpoint",
            &format!("https://{}", rogue.addr),
            "--ca",
            &vn_ca.join("ca.pem").display().to_string(),
            "--signing-key",
            &vn_pub,
        ],
        true,
    )
    .await?;
    let counted = eventually(|| async {
        let st = demo
            .json(&["status", "--data-dir", &kr.d(), "--json"])
            .await?;
        let r = &st["refusals"];
        Ok(r["bad-signature"].as_u64() >= Some(1)
            && r["wrong-origin-key"].as_u64() >= Some(1)
            && r["not-addressed-to-us"].as_u64() >= Some(1))
    })
    .await?;
    let st = demo
        .json(&["status", "--data-dir", &kr.d(), "--json"])
        .await?;
    println!("    KR refusal counters: {}", st["refusals"]);
    demo.check(counted.is_some(), "altered body refused (bad-signature)");
    demo.check(
        counted.is_some(),
        "TH-origin record signed with VN's key refused (wrong-origin-key)",
    );
    demo.check(
        counted.is_some(),
        "record not addressed to KR refused (not-addressed-to-us)",
    );
    let after = received(&demo.records(kr).await?);
    demo.check(
        before == after,
        &format!("nothing stored from the rogue ({before} received records before, {after} after)"),
    );
    demo.check(
        demo.kdesk(&["status", "--data-dir", &kr.d()], false)
            .await?
            .code
            == 0,
        "KR keeps serving",
    );
    demo.ok(
        &["peer", "remove", "--data-dir", &kr.d(), "--country", "VN"],
        true,
    )
    .await?;
    drop(rogue);
    Ok(())
}
