//! `kdesk demo`: one desk end to end, with real processes.
//!
//! Runs this same executable as separate processes (`kdesk init`, `kdesk serve`, `kdesk alert
//! ...`) in a temporary directory, exactly as an administrator would, prints each command and
//! what it answered, checks every outcome, and exits non-zero if anything misbehaved.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::{Child, Command};

use super::{exit, CliError, CliResult};
use crate::model::Date;
use crate::pb;
use crate::record::verify_envelope;

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

/// Output of one CLI run.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

struct Demo {
    exe: PathBuf,
    failures: Vec<String>,
}

fn fail(msg: impl Into<String>) -> CliError {
    CliError::new(exit::FAILED, msg)
}

impl Demo {
    /// Runs `kdesk ARGS`, printing the command line and its output indented.
    async fn kdesk(&self, args: &[&str], show: bool) -> Result<Ran, CliError> {
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    (*a).to_owned()
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
                println!("    {line}");
            }
        }
        Ok(ran)
    }

    fn check(&mut self, ok: bool, what: &str) {
        if ok {
            println!("  ✔ {what}");
        } else {
            println!("  ✘ {what}");
            self.failures.push(what.to_owned());
        }
    }
}

fn section(n: u32, title: &str) {
    println!("\n[{n}] {title}");
}

/// Moves an example's validity window to start today, so the demo works on any date.
fn with_current_validity(json: &str) -> Result<String, CliError> {
    let mut v: Value = serde_json::from_str(json).map_err(|e| fail(format!("example: {e}")))?;
    let today = Date::today_utc();
    let until = time::OffsetDateTime::now_utc().date() + time::Duration::days(120);
    v["validity"] = serde_json::json!({
        "valid_from": today.to_string(),
        "valid_until": format!("{:04}-{:02}-{:02}", until.year(), u8::from(until.month()), until.day()),
    });
    serde_json::to_string_pretty(&v).map_err(|e| fail(e.to_string()))
}

async fn wait_for_node(dir: &Path, child: &mut Child) -> Result<Duration, CliError> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(fail(format!("kdesk serve exited early with {status}")));
        }
        if let Ok(mut c) = crate::client::connect(dir).await {
            if c.status(pb::StatusRequest {}).await.is_ok() {
                return Ok(start.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(fail("kdesk serve did not come up within 20 s"))
}

pub(super) async fn run(keep: bool) -> CliResult {
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
        failures: vec![],
    };
    println!("kdesk demo: one desk (KR/seoul) end to end, with real processes");
    println!("working directory: {}", root.display());

    let node = root.join("kr");
    let node_s = node.display().to_string();
    let result = run_steps(&mut demo, &root, &node, &node_s).await;

    if keep {
        let kept = tmp.keep();
        println!("\nkept {}", kept.display());
    }
    let elapsed = started.elapsed().as_secs_f64();
    match result {
        Err(e) => {
            println!("\ndemo aborted after {elapsed:.1} s: {}", e.message);
            Err(e)
        }
        Ok(()) if demo.failures.is_empty() => {
            println!("\ndemo finished in {elapsed:.1} s: every check passed");
            Ok(())
        }
        Ok(()) => Err(fail(format!(
            "demo finished in {elapsed:.1} s with {} failed check(s): {}",
            demo.failures.len(),
            demo.failures.join("; ")
        ))),
    }
}

async fn run_steps(demo: &mut Demo, root: &Path, node: &Path, node_s: &str) -> CliResult {
    section(
        1,
        "Create the node: configuration and an Ed25519 signing key (mode 0600)",
    );
    let r = demo
        .kdesk(
            &[
                "init",
                "--data-dir",
                node_s,
                "--country",
                "KR",
                "--node-name",
                "seoul",
            ],
            true,
        )
        .await?;
    demo.check(r.code == 0, "kdesk init succeeded");
    let public_hex = std::fs::read_to_string(node.join("keys/signing.pub"))
        .map_err(|e| fail(format!("public key file: {e}")))?;
    let public = crate::keys::parse_public_key(&public_hex)?;

    section(
        2,
        "Start the node as its own process (it owns the sled database)",
    );
    let log = std::fs::File::create(root.join("kr-serve.log"))
        .map_err(|e| fail(format!("log file: {e}")))?;
    println!(
        "$ kdesk serve --data-dir {node_s} &   (log: {}/kr-serve.log)",
        root.display()
    );
    let mut child = Command::new(&demo.exe)
        .args(["serve", "--data-dir", node_s])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(format!("cannot start kdesk serve: {e}")))?;
    let up = wait_for_node(node, &mut child).await?;
    demo.check(
        true,
        &format!(
            "node answering on its admin socket after {} ms",
            up.as_millis()
        ),
    );

    let outcome = node_steps(demo, root, node, node_s, &public).await;

    section(
        9,
        "Stop the node with SIGTERM: it drains requests and flushes before exiting",
    );
    if let Some(pid) = child.id() {
        // SAFETY: sending a signal to our own child process by pid.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    }
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait()).await;
    let clean = matches!(status, Ok(Ok(s)) if s.success());
    demo.check(clean, "kdesk serve exited 0 after SIGTERM");
    demo.check(!node.join("admin.sock").exists(), "admin socket removed");
    outcome
}

async fn node_steps(
    demo: &mut Demo,
    root: &Path,
    node: &Path,
    node_s: &str,
    public: &ed25519_dalek::VerifyingKey,
) -> CliResult {
    section(
        3,
        "Issue the sample alerts: every route, travelers and cargo",
    );
    let ex_dir = root.join("examples");
    std::fs::create_dir_all(&ex_dir).map_err(|e| fail(e.to_string()))?;
    let mut ids = vec![];
    for (name, json) in EXAMPLES {
        let path = ex_dir.join(name);
        std::fs::write(&path, with_current_validity(json)?).map_err(|e| fail(e.to_string()))?;
        let p = path.display().to_string();
        let r = demo
            .kdesk(
                &[
                    "alert",
                    "issue",
                    "--data-dir",
                    node_s,
                    "--file",
                    &p,
                    "--json",
                ],
                false,
            )
            .await?;
        let v: Value = serde_json::from_str(r.stdout.trim()).unwrap_or(Value::Null);
        let id = v["id"].as_str().unwrap_or_default().to_owned();
        println!(
            "    issued {} seq {} [{}] {}",
            &id.get(..12).unwrap_or("?"),
            v["seq"],
            v["route"].as_str().unwrap_or("?"),
            v["title"].as_str().unwrap_or("?")
        );
        demo.check(
            r.code == 0 && id.len() == 64,
            &format!("{name}: signed, stored, flushed"),
        );
        ids.push(id);
    }

    section(4, "List what the node holds");
    let r = demo
        .kdesk(&["alert", "list", "--data-dir", node_s], true)
        .await?;
    demo.check(
        r.code == 0 && r.stdout.contains(&format!("({} records)", EXAMPLES.len())),
        "all sample alerts listed",
    );

    section(
        5,
        "Verify every signature independently, with only the published public key",
    );
    let mut client = crate::client::connect(node).await?;
    let mut stream = client
        .list_records(pb::ListRecordsRequest::default())
        .await?
        .into_inner();
    let (mut verified, mut total, mut seqs) = (0, 0, vec![]);
    while let Some(rec) = stream.message().await? {
        total += 1;
        if let Some(env) = rec.envelope {
            match verify_envelope(&env, |_| Some(*public)) {
                Ok(s) => {
                    verified += 1;
                    seqs.push(s.record.seq);
                }
                Err(e) => println!("    record {total}: {e}"),
            }
        }
    }
    println!("    public key {}", hex::encode(public.as_bytes()));
    println!("    {verified}/{total} records pass verify_strict over \"kdesk/v1/record-signature\\0\" || body");
    demo.check(
        verified == total && total == EXAMPLES.len(),
        "every signature verifies",
    );
    let contiguous = seqs.iter().enumerate().all(|(i, s)| *s == i as u64 + 1);
    demo.check(contiguous, "sequence numbers run 1..n with no gap");

    section(
        6,
        "Bad input is refused with the field and the rule, and nothing is stored",
    );
    let before = count(&mut client).await?;
    let bad = with_current_validity(EXAMPLES[3].1)?.replace("CSQU 305438 3", "CSQU 305438 4");
    let bad_path = ex_dir.join("bad-container-check-digit.json");
    std::fs::write(&bad_path, bad).map_err(|e| fail(e.to_string()))?;
    let p = bad_path.display().to_string();
    let r = demo
        .kdesk(
            &["alert", "issue", "--data-dir", node_s, "--file", &p],
            true,
        )
        .await?;
    demo.check(
        r.code == i32::from(exit::DATAERR)
            && r.stderr.contains("subject.cargo.container_numbers[0]")
            && r.stderr.contains("check digit"),
        "CLI refused it (exit 65) naming subject.cargo.container_numbers[0]",
    );
    // A national system talking to the Admin API directly is checked by the node too.
    let mut raw = crate::model::Alert::from_json(&with_current_validity(EXAMPLES[0].1)?)
        .map_err(|e| fail(e.to_string()))?
        .to_pb();
    if let Some(pb::alert::Subject::Cargo(c)) = &mut raw.subject {
        c.hs_code = "7701".into();
    }
    let refused = client
        .issue_alert(pb::IssueAlertRequest { alert: Some(raw) })
        .await
        .err();
    println!(
        "    Admin API, HS code 7701: {}",
        refused.as_ref().map(|s| s.message()).unwrap_or("accepted!")
    );
    demo.check(
        refused.is_some_and(|s| {
            s.code() == tonic::Code::InvalidArgument && s.message().contains("hs_code")
        }),
        "node refused the same kind of error arriving over its API",
    );
    let after = count(&mut client).await?;
    demo.check(
        before == after,
        &format!("records stored: {before} before, {after} after"),
    );

    section(7, "Amend one alert and retract another");
    let mut amended: Value = serde_json::from_str(&with_current_validity(EXAMPLES[0].1)?)
        .map_err(|e| fail(e.to_string()))?;
    amended["risk"] = "critical".into();
    amended["distribution"] = serde_json::json!({ "all_partners": true });
    let amended = amended.to_string();
    let amend_path = ex_dir.join("amended-express.json");
    std::fs::write(&amend_path, amended).map_err(|e| fail(e.to_string()))?;
    let p = amend_path.display().to_string();
    let first = ids.first().cloned().unwrap_or_default();
    let r = demo
        .kdesk(
            &[
                "alert",
                "amend",
                "--data-dir",
                node_s,
                &first[..first.len().min(16)],
                "--file",
                &p,
                "--reason",
                "Fourth parcel from the same shipper intercepted; risk raised",
            ],
            true,
        )
        .await?;
    demo.check(r.code == 0, "amendment issued");
    let ship = ids.get(4).cloned().unwrap_or_default();
    let r = demo
        .kdesk(
            &[
                "alert",
                "retract",
                "--data-dir",
                node_s,
                &ship[..ship.len().min(16)],
                "--reason",
                "Vessel searched at previous port of call; nothing found",
            ],
            true,
        )
        .await?;
    demo.check(r.code == 0, "retraction issued");
    let r = demo
        .kdesk(
            &["alert", "list", "--data-dir", node_s, "--status", "active"],
            true,
        )
        .await?;
    demo.check(
        r.code == 0
            && r.stdout
                .contains(&format!("({} records)", EXAMPLES.len() - 1)),
        "superseded and retracted alerts no longer listed as active",
    );
    let r = demo
        .kdesk(
            &[
                "alert",
                "amend",
                "--data-dir",
                node_s,
                &ship[..16],
                "--file",
                &p,
                "--reason",
                "x",
            ],
            true,
        )
        .await?;
    demo.check(
        r.code == i32::from(exit::DATAERR),
        "amending a retracted alert is refused",
    );

    section(8, "Node status");
    let r = demo.kdesk(&["status", "--data-dir", node_s], true).await?;
    demo.check(r.code == 0, "status answered");
    Ok(())
}

async fn count(
    client: &mut pb::admin_client::AdminClient<tonic::transport::Channel>,
) -> Result<u64, CliError> {
    Ok(client
        .status(pb::StatusRequest {})
        .await?
        .into_inner()
        .records_total)
}
