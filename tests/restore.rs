//! Backup while serving, data directory lost, restore: no equivocation anywhere, every record a
//! partner held is back, the partner's witness accepts the declared restore, and the audit
//! explains the gap. Real processes, real certificates.

mod common;

use std::time::Duration;

use common::desks::{linked, status, wait_for};
use common::{example, list, outcome, run, s, Node};
use serde_json::Value;

fn issue(dir: &std::path::Path, tmp: &std::path::Path, title: &str) -> String {
    let json = example("cargo-express-methamphetamine.json", |v| {
        v["title"] = title.into();
        v["distribution"] = serde_json::json!({"all_partners": true});
    });
    common::issue(dir, tmp, &json)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An alert for a country that is not a partner: no partner holds it.
fn issue_unshared(dir: &std::path::Path, tmp: &std::path::Path, title: &str) -> String {
    let json = example("cargo-express-methamphetamine.json", |v| {
        v["title"] = title.into();
        v["distribution"] = serde_json::json!({"countries": ["US"]});
    });
    common::issue(dir, tmp, &json)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn ids(dir: &std::path::Path) -> Vec<String> {
    list(dir, &[])
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_restored_node_recovers_from_partners_and_never_equivocates() {
    let t = tempfile::tempdir().unwrap();
    let (kr, th, kr_node, _th_node) = linked(t.path(), ("KR", "seoul"), ("TH", "bangkok"));
    let first: Vec<String> = (0..2)
        .map(|i| issue(&kr.dir, t.path(), &format!("Before the backup {i}")))
        .collect();
    wait_for("TH holds the first alerts", Duration::from_secs(30), || {
        let held = ids(&th.dir);
        first.iter().all(|a| held.contains(a))
    });

    // A backup while KR serves: 0600, checked, signed by KR's key.
    let backup = t.path().join("kr.kbk");
    let (code, out, err) = outcome(&run(&[
        "backup",
        "--data-dir",
        s(&kr.dir),
        "--out",
        s(&backup),
        "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let b: Value = serde_json::from_str(out.trim()).unwrap();
    let key_id = b["header"]["key_id"].as_str().unwrap().to_owned();
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&backup).unwrap().permissions());
    assert_eq!(mode & 0o077, 0);

    // Twenty more records after the backup, all at TH, witnessed by TH; TH's alerts to KR
    // in between (so the log KR rebuilds cannot be the one it lost).
    let mut later = Vec::new();
    let mut from_th = Vec::new();
    for i in 0..20 {
        later.push(issue(&kr.dir, t.path(), &format!("After the backup {i}")));
        if i == 10 {
            // Two records no partner holds: their numbers are lost with the data directory.
            issue_unshared(&kr.dir, t.path(), "For the US desk only A");
            issue_unshared(&kr.dir, t.path(), "For the US desk only B");
        }
        if i % 7 == 3 {
            from_th.push(issue(&th.dir, t.path(), &format!("From TH {i}")));
            wait_for("KR receives TH's alert", Duration::from_secs(30), || {
                ids(&kr.dir).contains(from_th.last().unwrap())
            });
        }
    }
    wait_for("TH holds the later alerts", Duration::from_secs(30), || {
        let held = ids(&th.dir);
        later.iter().all(|a| held.contains(a))
    });
    let kr_log = status(&kr.dir)["log_length"].as_u64().unwrap();
    wait_for(
        "TH witnessed KR's newest head",
        Duration::from_secs(30),
        || {
            status(&th.dir)["witness"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["country"] == "KR" && w["seen_size"].as_u64() >= Some(kr_log))
        },
    );

    // The data directory is lost.
    drop(kr_node);
    std::fs::remove_dir_all(&kr.dir).unwrap();

    // A tampered backup is refused; so is one checked against another key.
    let tampered = t.path().join("tampered.kbk");
    let mut bytes = std::fs::read(&backup).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    std::fs::write(&tampered, &bytes).unwrap();
    let restore = |input: &std::path::Path, key: &str| {
        outcome(&run(&[
            "restore",
            "--input",
            s(input),
            "--data-dir",
            s(&kr.dir),
            "--expect-key",
            key,
        ]))
    };
    let (code, _, err) = restore(&tampered, &key_id[..16]);
    assert_eq!(code, 65, "{err}");
    let (code, _, err) = restore(&backup, "0123456789abcdef");
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("not the expected"), "{err}");
    let (code, _, err) = restore(&backup, &key_id[..8]);
    assert_eq!(code, 65, "too few digits: {err}");
    assert!(err.contains("at least 16 hex digits"), "{err}");

    let (code, _, err) = restore(&backup, &key_id[..16]);
    assert_eq!(code, 0, "{err}");
    let _kr_node = Node::start(&kr.dir);

    // Every record TH held is back at KR, and TH's alerts too.
    wait_for("KR recovered its records", Duration::from_secs(60), || {
        let held = ids(&kr.dir);
        first
            .iter()
            .chain(&later)
            .chain(&from_th)
            .all(|a| held.contains(a))
    });
    wait_for("KR declared the restore", Duration::from_secs(60), || {
        status(&kr.dir)["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| !w.as_str().unwrap().contains("restored from a backup"))
    });
    // The declaration lists what was lost, for the admin too.
    let decl = list(&kr.dir, &["--kind", "restore-declaration"]);
    assert_eq!(decl.len(), 1, "{decl:?}");
    let detail = decl[0]["content"]["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("2 number(s) used after the backup by records no partner holds"),
        "{}",
        decl[0]
    );
    // A new record after the restore takes a fresh number and reaches TH; no equivocation.
    let next = issue(&kr.dir, t.path(), "After the restore");
    wait_for("TH receives the new alert", Duration::from_secs(60), || {
        ids(&th.dir).contains(&next)
    });
    assert_eq!(status(&th.dir)["equivocations"], 0);
    assert_eq!(status(&kr.dir)["equivocations"], 0);
    // Never reused: the two lost numbers stay unused, the new alert comes after them all.
    let last_seq = status(&kr.dir)["last_seq"].as_u64().unwrap();
    assert!(last_seq >= 27, "{last_seq}");

    // TH's witness accepted the declared restore, without an alarm.
    wait_for(
        "TH's witness accepts the restore",
        Duration::from_secs(60),
        || {
            status(&th.dir)["witness"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| {
                    w["country"] == "KR"
                        && w["state"]
                            .as_str()
                            .unwrap_or("")
                            .contains("restored from a backup")
                })
        },
    );
    assert_eq!(status(&th.dir)["witness_evidence"], 0);

    // The auditor's verification explains the restore.
    let bundle = t.path().join("kr.bundle");
    let (code, _, err) = outcome(&run(&[
        "audit",
        "export",
        "--data-dir",
        s(&kr.dir),
        "--out",
        s(&bundle),
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = outcome(&run(&["audit", "verify", s(&bundle)]));
    assert_eq!(code, 0, "{out} {err}");
    assert!(
        out.contains("seq 15-16 are absent") && out.contains("declared a restore"),
        "{out}"
    );
}
