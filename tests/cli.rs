//! The admin CLI through the real binary, against a real `kdesk serve` process.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{example, init, list, outcome, run, s, write, Node};

#[test]
fn init_writes_private_key_and_refuses_to_overwrite() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    let o = run(&[
        "init",
        "--data-dir",
        s(&dir),
        "--country",
        "kr",
        "--node-name",
        "seoul",
        "--json",
    ]);
    let (code, out, _) = outcome(&o);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["origin"], "KR/seoul");
    assert_eq!(v["public_key"].as_str().unwrap().len(), 64);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join("keys/signing.key")), 0o600);
    assert_eq!(mode(&dir), 0o700);
    let pem = std::fs::read_to_string(dir.join("keys/signing.key")).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));

    let o = run(&[
        "init",
        "--data-dir",
        s(&dir),
        "--country",
        "KR",
        "--node-name",
        "seoul",
    ]);
    let (code, _, err) = outcome(&o);
    assert_eq!(code, 73, "{err}");
    assert!(err.contains("already holds a kdesk node"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("keys/signing.key")).unwrap(),
        pem,
        "key untouched"
    );
}

#[test]
fn init_refuses_bad_country_and_node_name() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("x");
    let (code, _, err) = outcome(&run(&[
        "init",
        "--data-dir",
        s(&dir),
        "--country",
        "KO",
        "--node-name",
        "a",
    ]));
    assert_eq!(code, 2);
    assert!(
        err.contains("--country") && err.contains("ISO 3166-1"),
        "{err}"
    );
    let (code, _, err) = outcome(&run(&[
        "init",
        "--data-dir",
        s(&dir),
        "--country",
        "KR",
        "--node-name",
        "Seoul HQ",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("--node-name") && err.contains("a-z"), "{err}");
    assert!(!dir.exists(), "nothing created");
}

#[test]
fn serve_refuses_a_key_readable_by_others() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("th");
    init(&dir, "TH", "bkk");
    let key = dir.join("keys/signing.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, err) = outcome(&run(&["serve", "--data-dir", s(&dir)]));
    assert_eq!(code, 77, "{err}");
    assert!(
        err.contains("readable by others") && err.contains("chmod 600"),
        "{err}"
    );
}

#[test]
fn commands_say_plainly_when_no_node_runs() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    let (code, _, err) = outcome(&run(&["alert", "list", "--data-dir", s(&dir)]));
    assert_eq!(code, 69, "{err}");
    assert!(
        err.contains("no kdesk node is running") && err.contains("kdesk serve --data-dir"),
        "{err}"
    );
    let (code, _, err) = outcome(&run(&[
        "status",
        "--data-dir",
        s(&t.path().join("nothing")),
    ]));
    assert_eq!(code, 78, "{err}");
    assert!(err.contains("kdesk init"), "{err}");
}

#[test]
fn alert_lifecycle_through_the_cli() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    let mut node = Node::start(&dir);

    // A second node on the same directory is refused: one process owns the database.
    let (code, _, err) = outcome(&run(&["serve", "--data-dir", s(&dir)]));
    assert_eq!(code, 69, "{err}");
    assert!(err.contains("already running"), "{err}");

    // Issue from a file and from standard input.
    let json = example("cargo-sea-container-cocaine.json", |_| {});
    let f = write(t.path(), "a.json", &json);
    let issued = common::issue(&dir, t.path(), &json);
    let id = issued["id"].as_str().unwrap().to_owned();
    assert_eq!(issued["seq"], 1);
    assert!(issued["signature_check"]
        .as_str()
        .unwrap()
        .starts_with("verified"));
    assert_eq!(
        issued["content"]["subject"]["cargo"]["container_numbers"][0], "CSQU3054383",
        "identifiers stored normalised"
    );

    let mut child = common::kdesk()
        .args(["alert", "issue", "--data-dir", s(&dir), "--file", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(example("traveler-air-ketamine.json", |_| {}).as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("issued alert"));

    // Read commands: table, JSON lines with the promised fields, filters.
    let all = list(&dir, &[]);
    assert_eq!(all.len(), 2);
    for r in &all {
        for k in ["id", "origin", "seq", "kind", "status"] {
            assert!(!r[k].is_null(), "{k} missing in {r}");
        }
        assert_eq!(r["origin"], "KR/seoul");
    }
    assert_eq!(list(&dir, &["--route", "traveler"]).len(), 1);
    assert_eq!(list(&dir, &["--route", "sea-container"]).len(), 1);
    assert_eq!(list(&dir, &["--origin", "TH"]).len(), 0);
    let (code, _, err) = outcome(&run(&[
        "alert",
        "list",
        "--data-dir",
        s(&dir),
        "--route",
        "camel",
    ]));
    assert_eq!(code, 65);
    assert!(err.contains("route"), "{err}");
    let (code, out, _) = outcome(&run(&["alert", "list", "--data-dir", s(&dir)]));
    assert_eq!(code, 0);
    assert!(
        out.contains("sea-container") && out.contains("(2 records)"),
        "{out}"
    );
    let (code, out, _) = outcome(&run(&[
        "alert",
        "show",
        "--data-dir",
        s(&dir),
        &id[..10],
        "--json",
    ]));
    assert_eq!(code, 0);
    let shown: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["id"], id.as_str());
    let (code, _, err) = outcome(&run(&[
        "alert",
        "show",
        "--data-dir",
        s(&dir),
        "deadbeefdead",
    ]));
    assert_eq!(code, 66, "{err}");

    // Amend: narrowing the distribution is refused; raising the risk is accepted.
    let narrower = write(
        t.path(),
        "narrow.json",
        &example("cargo-sea-container-cocaine.json", |v| {
            v["distribution"] = serde_json::json!({"countries": ["TH"]});
        }),
    );
    let (code, _, err) = outcome(&run(&[
        "alert",
        "amend",
        "--data-dir",
        s(&dir),
        &id,
        "--file",
        s(&narrower),
        "--reason",
        "narrow",
    ]));
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("drops recipients"), "{err}");
    let (code, out, err) = outcome(&run(&[
        "alert",
        "amend",
        "--data-dir",
        s(&dir),
        &id,
        "--file",
        s(&f),
        "--reason",
        "new container",
        "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let amendment: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(amendment["kind"], "amendment");
    assert_eq!(amendment["content"]["supersedes"], id.as_str());
    let old = list(&dir, &["--status", "superseded"]);
    assert_eq!(old.len(), 1);
    assert_eq!(old[0]["superseded_by"], amendment["id"]);

    // Retract the current version; the whole chain is withdrawn.
    let amended_id = amendment["id"].as_str().unwrap();
    let (code, _, err) = outcome(&run(&[
        "alert",
        "retract",
        "--data-dir",
        s(&dir),
        amended_id,
        "--reason",
        "",
    ]));
    assert_eq!(code, 65, "empty reason refused: {err}");
    assert!(err.contains("reason"), "{err}");
    let (code, _, err) = outcome(&run(&[
        "alert",
        "retract",
        "--data-dir",
        s(&dir),
        amended_id,
        "--reason",
        "Cleared after inspection",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(list(&dir, &["--status", "retracted"]).len(), 2);
    assert_eq!(list(&dir, &["--status", "active"]).len(), 1);

    // Status, human and JSON.
    let (code, out, _) = outcome(&run(&["status", "--data-dir", s(&dir), "--json"]));
    assert_eq!(code, 0);
    let st: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["records_total"], 4);
    assert_eq!(st["last_seq"], 4);
    assert_eq!(st["equivocations"], 0);

    // Clean shutdown on SIGTERM: exit 0, socket removed; data survives a restart.
    let st = node.signal_and_wait(libc::SIGTERM);
    assert!(st.success(), "{st}");
    assert!(!dir.join("admin.sock").exists());
    let _node = Node::start(&dir);
    assert_eq!(list(&dir, &[]).len(), 4);
}

#[test]
fn invalid_fields_are_named_and_nothing_is_stored() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    let _node = Node::start(&dir);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "container check digit",
            example("cargo-sea-container-cocaine.json", |v| {
                v["subject"]["cargo"]["container_numbers"][1] = "MSKU9070324".into();
            }),
            "subject.cargo.container_numbers[1]: \"MSKU9070324\" is not an ISO 6346 container number: check digit is 4, computed 3",
        ),
        (
            "air waybill mod 7",
            example("cargo-air-cargo-precursor.json", |v| {
                v["subject"]["cargo"]["transport_document"]["number"] = "180-83410225".into();
            }),
            "subject.cargo.transport_document.number",
        ),
        (
            "S10 check digit",
            example("cargo-postal-ketamine.json", |v| {
                v["subject"]["cargo"]["postal_item_id"] = "RR123456786NL".into();
            }),
            "subject.cargo.postal_item_id",
        ),
        (
            "IMO check digit",
            example("cargo-ship-cocaine.json", |v| {
                v["subject"]["cargo"]["vessel_imo"] = "9353671".into();
            }),
            "subject.cargo.vessel_imo",
        ),
        (
            "MRZ document check digit",
            example("traveler-air-methamphetamine.json", |v| {
                v["subject"]["traveler"]["document"]["number"] = "AA12345679".into();
            }),
            "subject.traveler.document.number",
        ),
        (
            "unknown country",
            example("traveler-air-ketamine.json", |v| {
                v["subject"]["traveler"]["nationality"] = "XX".into();
            }),
            "subject.traveler.nationality",
        ),
        (
            "impossible date",
            example("traveler-air-ketamine.json", |v| {
                v["subject"]["traveler"]["date_of_birth"] = "1994-02-30".into();
            }),
            "subject.traveler.date_of_birth",
        ),
        (
            "unknown field",
            example("cargo-express-methamphetamine.json", |v| {
                v["subject"]["cargo"]["colour"] = "red".into();
            }),
            "unknown field `colour`",
        ),
        (
            "expired on issue",
            example("cargo-express-methamphetamine.json", |v| {
                v["validity"] = serde_json::json!({"valid_from": "2020-01-01", "valid_until": "2020-02-01"});
            }),
            "alert.validity.valid_until",
        ),
        ("not JSON", "{ this is not json".to_owned(), "invalid alert"),
    ];
    for (what, json, expect) in cases {
        let f = write(t.path(), "bad.json", &json);
        let (code, _, err) = outcome(&run(&[
            "alert",
            "issue",
            "--data-dir",
            s(&dir),
            "--file",
            s(&f),
        ]));
        assert_eq!(code, 65, "{what}: {err}");
        assert!(err.contains(expect), "{what}: expected {expect:?} in {err}");
    }
    let (code, _, err) = outcome(&run(&[
        "alert",
        "issue",
        "--data-dir",
        s(&dir),
        "--file",
        "/no/such/file.json",
    ]));
    assert_eq!(code, 66, "{err}");
    assert!(list(&dir, &[]).is_empty(), "nothing stored");
}

// ---------------------------------------------------------------------------------------------
// Input hygiene: hidden characters, one alert per file, UTF-8, private exports.

/// `kdesk ARGS` with `input` on standard input.
fn run_with_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = common::kdesk()
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn hidden_characters_in_text_are_refused_and_nothing_is_stored() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    let _node = Node::start(&dir);
    let cases: Vec<(String, &str, &str)> = vec![
        (
            example("cargo-sea-container-cocaine.json", |v| {
                v["title"] = "Cocaine in reefers \u{202e}nasuB ot\u{202c} Guayaquil".into();
            }),
            "title: \"Cocaine in reefers \\u{202e}nasuB ot\\u{202c} Guayaquil\" is not acceptable text",
            "U+202E RIGHT-TO-LEFT OVERRIDE at character 20",
        ),
        (
            example("traveler-air-ketamine.json", |v| {
                v["subject"]["traveler"]["family_name"] = "Ngu\u{200b}yen".into();
            }),
            "subject.traveler.family_name: \"Ngu\\u{200b}yen\"",
            "U+200B ZERO WIDTH SPACE",
        ),
        (
            example("cargo-sea-container-cocaine.json", |v| {
                v["subject"]["cargo"]["consignee"]["name"] = "Hanbit\u{2066} Fresh".into();
            }),
            "subject.cargo.consignee.name: \"Hanbit\\u{2066} Fresh\"",
            "U+2066 LEFT-TO-RIGHT ISOLATE",
        ),
        (
            example("profile-express-kratom.json", |v| {
                v["indicators"][0] = "declared as tea\u{feff}".into();
            }),
            "indicators[0]: \"declared as tea\\u{feff}\"",
            "format characters",
        ),
    ];
    for (json, field_and_value, rule) in &cases {
        let f = write(t.path(), "hidden.json", json);
        let (code, _, err) = outcome(&run(&[
            "alert",
            "issue",
            "--data-dir",
            s(&dir),
            "--file",
            s(&f),
        ]));
        assert_eq!(code, 65, "{err}");
        assert!(err.contains(field_and_value), "{field_and_value}: {err}");
        assert!(err.contains(rule), "{rule}: {err}");
        assert!(err.contains("nothing was stored"), "{err}");
        // The terminal never receives the raw character.
        assert!(
            !err.contains(['\u{202e}', '\u{200b}', '\u{2066}', '\u{feff}']),
            "{err:?}"
        );
    }
    assert!(list(&dir, &[]).is_empty(), "nothing stored");

    // The node itself checks too (national systems call the Admin API directly): an
    // amendment reason with a bidi override is refused by the node, not only by the CLI.
    let id = common::issue(&dir, t.path(), &example("cargo-ship-cocaine.json", |_| {}))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let f = write(
        t.path(),
        "amend.json",
        &example("cargo-ship-cocaine.json", |v| {
            v["risk"] = "critical".into();
        }),
    );
    let (code, _, err) = outcome(&run(&[
        "alert",
        "amend",
        "--data-dir",
        s(&dir),
        &id,
        "--file",
        s(&f),
        "--reason",
        "raised \u{202e}ksir",
    ]));
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("reason") && err.contains("U+202E"), "{err}");
    assert_eq!(list(&dir, &[]).len(), 1, "only the first alert is stored");
}

#[test]
fn one_alert_per_file_and_invalid_utf8_is_refused_with_its_offset() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    let _node = Node::start(&dir);
    let one = example("cargo-express-methamphetamine.json", |_| {});
    let three = format!(
        "{one}\n{}\n{}\n",
        example("cargo-postal-ketamine.json", |_| {}),
        example("traveler-air-ketamine.json", |_| {})
    );
    // Three alerts piped to `alert issue --file -`: refused, not the first one issued.
    let (code, _, err) = outcome(&run_with_stdin(
        &["alert", "issue", "--data-dir", s(&dir), "--file", "-"],
        three.as_bytes(),
    ));
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("standard input: invalid alert"), "{err}");
    assert!(err.contains("trailing characters at line 2"), "{err}");
    assert!(err.contains("kdesk alert import"), "{err}");
    assert!(err.contains("nothing was stored"), "{err}");
    // The same from a file, and with the second alert on the same line.
    for (name, text) in [
        ("three.json", three.clone()),
        ("two.json", format!("{one}{one}")),
    ] {
        let f = write(t.path(), name, &text);
        let (code, _, err) = outcome(&run(&[
            "alert",
            "issue",
            "--data-dir",
            s(&dir),
            "--file",
            s(&f),
        ]));
        assert_eq!(code, 65, "{name}: {err}");
        assert!(err.contains("trailing characters"), "{name}: {err}");
    }
    assert!(list(&dir, &[]).is_empty(), "nothing stored");

    // Invalid UTF-8: exit 65 (not an I/O error) with the offset of the first bad byte.
    let mut bytes = one.clone().into_bytes();
    let at = one.find("Methamphetamine").expect("title word");
    bytes[at] = 0xff;
    let f = t.path().join("latin1.json");
    std::fs::write(&f, &bytes).unwrap();
    let (code, _, err) = outcome(&run(&[
        "alert",
        "issue",
        "--data-dir",
        s(&dir),
        "--file",
        s(&f),
    ]));
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains(&format!("not UTF-8: invalid byte 0xff at byte offset {at}")),
        "{err}"
    );
    let (code, _, err) = outcome(&run_with_stdin(
        &["alert", "issue", "--data-dir", s(&dir), "--file", "-"],
        &bytes,
    ));
    assert_eq!(code, 65, "{err}");
    assert!(err.contains(&format!("byte offset {at}")), "{err}");
    assert!(list(&dir, &[]).is_empty(), "nothing stored");

    // `alert amend --file` reads through the same function.
    let id = common::issue(&dir, t.path(), &one)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let f = write(t.path(), "amend-two.json", &format!("{one}\n{one}\n"));
    let (code, _, err) = outcome(&run(&[
        "alert",
        "amend",
        "--data-dir",
        s(&dir),
        &id,
        "--file",
        s(&f),
        "--reason",
        "more parcels",
    ]));
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("trailing characters"), "{err}");
    let f = t.path().join("amend-bad-utf8.json");
    std::fs::write(&f, &bytes).unwrap();
    let (code, _, err) = outcome(&run(&[
        "alert",
        "amend",
        "--data-dir",
        s(&dir),
        &id,
        "--file",
        s(&f),
        "--reason",
        "more parcels",
    ]));
    assert_eq!(code, 65, "{err}");
    assert!(err.contains(&format!("byte offset {at}")), "{err}");
    assert_eq!(list(&dir, &[]).len(), 1, "no amendment stored");
}

/// Exports are created readable by their owner only, whatever the umask: the node (audit
/// bundles) and the CLI (report charts, generated data) run here with umask 022, under which
/// a file created without an explicit mode would be 0644.
#[test]
fn exports_are_written_0600_and_write_failures_exit_74() {
    use std::os::unix::process::CommandExt;
    let umask_022 = |c: &mut std::process::Command| {
        // SAFETY: umask is async-signal-safe; runs in the child between fork and exec.
        unsafe {
            c.pre_exec(|| {
                libc::umask(0o022);
                Ok(())
            });
        }
    };
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    let log = std::fs::File::create(dir.with_extension("log")).unwrap();
    let mut serve = common::kdesk();
    serve
        .args(["serve", "--data-dir", s(&dir)])
        .stdout(std::process::Stdio::null())
        .stderr(log);
    umask_022(&mut serve);
    let _node = Node {
        dir: dir.clone(),
        child: serve.spawn().unwrap(),
    };
    let start = std::time::Instant::now();
    while !run(&["status", "--data-dir", s(&dir)]).status.success() {
        assert!(start.elapsed().as_secs() < 30, "node did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    common::issue(
        &dir,
        t.path(),
        &example("cargo-sea-container-cocaine.json", |v| {
            v["handling"]["tlp"] = "red".into();
        }),
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let cli = |args: &[&str]| {
        let mut c = common::kdesk();
        c.args(args);
        umask_022(&mut c);
        outcome(&c.output().unwrap())
    };

    // Audit bundle (written by the node).
    let bundle = t.path().join("kr.bundle");
    let (code, _, err) = cli(&[
        "audit",
        "export",
        "--data-dir",
        s(&dir),
        "--out",
        s(&bundle),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&bundle), 0o600, "audit bundle");
    let (code, _, err) = cli(&["audit", "verify", s(&bundle)]);
    assert_eq!(code, 0, "{err}");
    // Never overwritten.
    let (code, _, err) = cli(&[
        "audit",
        "export",
        "--data-dir",
        s(&dir),
        "--out",
        s(&bundle),
    ]);
    assert_eq!(code, 73, "{err}");
    // A bundle that cannot be written: exit 74 naming the path; no file left behind.
    let nowhere = t.path().join("no-such-dir").join("kr.bundle");
    let (code, _, err) = cli(&[
        "audit",
        "export",
        "--data-dir",
        s(&dir),
        "--out",
        s(&nowhere),
    ]);
    assert_eq!(code, 74, "{err}");
    assert!(err.contains(s(&nowhere)), "{err}");
    assert!(!nowhere.exists());

    // Report chart (written by the CLI), new and replacing a world-readable file.
    let svg = t.path().join("briefing.svg");
    let (code, _, err) = cli(&["report", "--data-dir", s(&dir), "--svg", s(&svg)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&svg), 0o600, "report --svg");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    std::fs::set_permissions(&svg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, err) = cli(&["report", "--data-dir", s(&dir), "--svg", s(&svg)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(mode(&svg), 0o600, "report --svg over an existing file");
    let bad_svg = t.path().join("no-such-dir").join("b.svg");
    let (code, _, err) = cli(&["report", "--data-dir", s(&dir), "--svg", s(&bad_svg)]);
    assert_eq!(code, 74, "{err}");
    assert!(err.contains(s(&bad_svg)), "{err}");

    // Generated data.
    let out = t.path().join("gen");
    let (code, _, err) = cli(&[
        "gen",
        "--out",
        s(&out),
        "--alerts",
        "20",
        "--lines",
        "50",
        "--true-identifiers",
        "2",
        "--true-names",
        "2",
        "--true-profiles",
        "1",
    ]);
    assert_eq!(code, 0, "{err}");
    for f in ["alerts.jsonl", "manifest.csv", "truth.csv"] {
        assert_eq!(mode(&out.join(f)), 0o600, "gen {f}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".kdesk-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn serve_without_its_certificate_or_on_a_busy_port_says_what_to_do_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    let (code, out, err) = outcome(&run(&[
        "init",
        "--data-dir",
        s(&dir),
        "--country",
        "KR",
        "--node-name",
        "seoul",
        "--listen",
        "127.0.0.1:0",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("kdesk certs node"),
        "init says the next step: {out}"
    );
    let (code, _, err) = outcome(&run(&["serve", "--data-dir", s(&dir)]));
    assert_eq!(code, 78, "{err}");
    assert!(err.contains("kdesk certs node"), "{err}");
    assert!(!dir.join("admin.sock").exists());
    // With certificates, but another process on the port.
    let ca = t.path().join("ca");
    for args in [
        vec!["certs", "ca", "--country", "KR", "--out", s(&ca)],
        vec![
            "certs",
            "node",
            "--ca",
            s(&ca),
            "--country",
            "KR",
            "--node-name",
            "seoul",
            "--host",
            "127.0.0.1",
            "--out",
            s(&dir.join("tls")),
        ],
    ] {
        let (code, _, err) = outcome(&run(&args));
        assert_eq!(code, 0, "{err}");
    }
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let cfg = dir.join("kdesk.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(&cfg, text).unwrap();
    let (code, _, err) = outcome(&run(&["serve", "--data-dir", s(&dir)]));
    assert_eq!(code, 78, "{err}");
    assert!(
        err.contains("exchange.listen") && err.contains("in use"),
        "{err}"
    );
    assert!(!dir.join("admin.sock").exists(), "no socket left behind");
}

#[test]
fn certs_and_gen_print_json_on_request() {
    let t = tempfile::tempdir().unwrap();
    let ca = t.path().join("ca");
    let json = |args: &[&str]| -> serde_json::Value {
        let (code, out, err) = outcome(&run(args));
        assert_eq!(code, 0, "{err}");
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
    };
    let v = json(&["certs", "ca", "--country", "TH", "--out", s(&ca), "--json"]);
    assert_eq!(v["country"], "TH");
    assert_eq!(v["ca_sha256"].as_str().map(str::len), Some(64));
    let node = t.path().join("tls");
    let v = json(&[
        "certs",
        "node",
        "--ca",
        s(&ca),
        "--country",
        "TH",
        "--node-name",
        "bangkok",
        "--host",
        "127.0.0.1",
        "--out",
        s(&node),
        "--json",
    ]);
    assert_eq!(v["identity"], "kdesk://TH/bangkok");
    assert!(std::path::Path::new(v["cert"].as_str().unwrap()).exists());
    let crl = t.path().join("th.crl");
    let v = json(&[
        "certs",
        "crl",
        "--ca",
        s(&ca),
        "--revoke",
        s(&node.join("node.pem")),
        "--out",
        s(&crl),
        "--json",
    ]);
    assert_eq!(v["revoked"], 1);
    assert_eq!(v["next_update_days"], 30);
    let v = json(&[
        "gen",
        "--out",
        s(&t.path().join("gen")),
        "--alerts",
        "5",
        "--lines",
        "10",
        "--json",
    ]);
    assert_eq!(v["alerts"], 5);
    assert!(std::path::Path::new(v["alerts_file"].as_str().unwrap()).exists());
}

#[test]
fn lists_page_in_the_order_records_were_stored() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    let _node = Node::start(&dir);
    let mut ids = Vec::new();
    for i in 0..5 {
        let json = example("cargo-express-methamphetamine.json", |v| {
            v["title"] = format!("Page test {i}").into();
        });
        ids.push(
            common::issue(&dir, t.path(), &json)["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let all = list(&dir, &["--kind", "alert"]);
    let got: Vec<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        got,
        ids.iter().map(String::as_str).collect::<Vec<_>>(),
        "stored order"
    );
    // Pages of two, resumed after the last position of the previous page.
    let mut paged = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let mut extra = vec![
            "--kind".to_owned(),
            "alert".into(),
            "--limit".into(),
            "2".into(),
        ];
        if let Some(a) = after {
            extra.extend(["--after".to_owned(), a.to_string()]);
        }
        let refs: Vec<&str> = extra.iter().map(String::as_str).collect();
        let page = list(&dir, &refs);
        assert!(page.len() <= 2);
        if page.is_empty() {
            break;
        }
        after = page.last().unwrap()["position"].as_u64();
        paged.extend(page.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
    }
    assert_eq!(paged, ids);
    // The text form names the next page; --since in the future lists nothing.
    let (code, out, err) = outcome(&run(&[
        "alert",
        "list",
        "--data-dir",
        s(&dir),
        "--kind",
        "alert",
        "--limit",
        "3",
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(3 records; next page: --after "), "{out}");
    assert!(list(&dir, &["--since", "2099-01-01"]).is_empty());
    // --since finds its start by halving the log; from long ago it lists everything.
    assert_eq!(
        list(&dir, &["--kind", "alert", "--since", "2000-01-01"]).len(),
        ids.len()
    );
    let (code, _, err) = outcome(&run(&[
        "alert",
        "list",
        "--data-dir",
        s(&dir),
        "--limit",
        "0",
    ]));
    assert_eq!(code, 2, "{err}");
}
