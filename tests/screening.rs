//! Screening end to end through a real `kdesk serve` process: each matcher kind, retracted
//! and expired alerts never matching, bad lines with line numbers (skip and fail), hits shared
//! as signed records once, outcomes, the hit list and the report with its SVG.
//! (Delivery of hits and outcomes to the alert's origin, and only there, is exercised between
//! three real nodes by the demo, tests/demo.rs.)

mod common;

use common::*;
use serde_json::Value;

fn screen(
    dir: &std::path::Path,
    input: &std::path::Path,
    extra: &[&str],
) -> (i32, Vec<Value>, String) {
    let mut args = vec![
        "screen",
        "--data-dir",
        s(dir),
        "--input",
        s(input),
        "--json",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = outcome(&run(&args));
    let events = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    (code, events, err)
}

fn hits_of<'a>(events: &'a [Value], reference: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["type"] == "hit" && e["reference"] == reference)
        .collect()
}

fn fields(hit: &Value) -> Vec<String> {
    hit["matched"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["field"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn screening_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kr");
    init(&dir, "KR", "seoul");
    let _node = Node::start(&dir);

    let express = issue(
        &dir,
        tmp.path(),
        &example("cargo-express-methamphetamine.json", |_| {}),
    );
    let express_id = express["id"].as_str().unwrap().to_owned();
    issue(
        &dir,
        tmp.path(),
        &example("traveler-air-methamphetamine.json", |_| {}),
    );
    issue(
        &dir,
        tmp.path(),
        &example("profile-express-kratom.json", |_| {}),
    );
    // Retracted: the postal alert must never match.
    let postal = issue(
        &dir,
        tmp.path(),
        &example("cargo-postal-ketamine.json", |_| {}),
    );
    let (code, _, err) = outcome(&run(&[
        "alert",
        "retract",
        "--data-dir",
        s(&dir),
        postal["id"].as_str().unwrap(),
        "--reason",
        "parcel intercepted in NL",
    ]));
    assert_eq!(code, 0, "{err}");
    // Not valid today (its window starts tomorrow; an expired window takes the same check,
    // see the engine's unit test): the container alert must not match.
    let d = |n: i64| {
        let t = time::OffsetDateTime::now_utc().date() + time::Duration::days(n);
        format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
    };
    issue(
        &dir,
        tmp.path(),
        &example("cargo-sea-container-cocaine.json", |v| {
            v["validity"] = serde_json::json!({"valid_from": d(1), "valid_until": d(60)});
        }),
    );

    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/manifests/korea-bound-cargo.csv");
    let (code, ev, err) = screen(&dir, &manifest, &[]);
    assert_eq!(code, 0, "{err}");
    // Exact identifier (tracking number typed with spaces) plus corroborated names.
    let h = hits_of(&ev, "EXP-2026-550017");
    assert_eq!(h.len(), 1, "{ev:?}");
    assert_eq!(h[0]["alert_id"], express_id.as_str());
    assert_eq!(h[0]["score"], 1000);
    assert!(fields(h[0]).contains(&"express_tracking_number".to_owned()));
    // Name only, other order and hyphenation, corroborated by the address.
    let h = hits_of(&ev, "EXP-2026-550018");
    assert_eq!(h.len(), 1, "{ev:?}");
    assert_eq!(fields(h[0])[0], "consignee.name");
    assert!(fields(h[0]).contains(&"consignee.address".to_owned()));
    // Profile: route, origin, keyword, weight.
    let h = hits_of(&ev, "EXP-2026-550019");
    assert_eq!(h.len(), 1, "{ev:?}");
    assert!(fields(h[0]).contains(&"profile.keywords".to_owned()));
    // Retracted and expired alerts never match.
    assert!(
        hits_of(&ev, "POST-2026-0091").is_empty(),
        "retracted alert matched"
    );
    assert!(
        hits_of(&ev, "IMP-2026-118202").is_empty(),
        "alert not valid today matched"
    );
    // The bad field is reported with its line number, left out, and the rest of its line
    // (and every other line) was screened.
    let bad: Vec<_> = ev.iter().filter(|e| e["type"] == "bad_field").collect();
    assert_eq!(bad.len(), 1, "{ev:?}");
    assert_eq!(bad[0]["line"], 8);
    assert_eq!(bad[0]["field"], "container_numbers");
    let summary = ev.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["format"], "csv");
    assert_eq!(summary["lines"], 7);
    assert_eq!(summary["bad_fields"], 1);
    assert_eq!(summary["bad_lines"], 0);
    assert_eq!(summary["hits"], 3);

    // --date: a manifest arriving tomorrow is screened against the alerts valid tomorrow, so
    // the container alert matches; the retracted one still does not.
    let (code, ev, err) = screen(&dir, &manifest, &["--date", &d(1)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(hits_of(&ev, "IMP-2026-118202").len(), 1, "{ev:?}");
    assert!(hits_of(&ev, "POST-2026-0091").is_empty());
    let summary = ev.last().unwrap();
    assert_eq!(summary["date"], d(1).as_str());
    assert_eq!(summary["hits"], 4);
    // ... and a date no alert can reach, or no date at all, is refused naming the option.
    let (code, _, err) = screen(&dir, &manifest, &["--date", &d(800)]);
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("options.date") && err.contains("within 731 days"),
        "{err}"
    );
    let (code, _, err) = screen(&dir, &manifest, &["--date", "2026-02-30"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--date") && err.contains("real date"), "{err}");

    // --on-bad-line fail: stops at line 8, exit 65.
    let (code, ev, _) = screen(&dir, &manifest, &["--on-bad-line", "fail"]);
    assert_eq!(code, 65);
    assert!(ev
        .iter()
        .any(|e| e["type"] == "bad_field" && e["line"] == 8));

    // Passengers: document, name variant with date of birth; an impossible date reported.
    let pax = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/manifests/passengers-TG658.jsonl");
    let (code, ev, err) = screen(&dir, &pax, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(fields(hits_of(&ev, "TG658-12A")[0]).contains(&"document".to_owned()));
    let variant = hits_of(&ev, "TG658-12B");
    assert_eq!(
        variant.len(),
        1,
        "Srisook ~ Srisuk with the same date of birth"
    );
    assert!(fields(variant[0]).contains(&"date_of_birth".to_owned()));
    assert!(hits_of(&ev, "TG658-14C").is_empty());
    assert!(ev
        .iter()
        .any(|e| e["type"] == "bad_field" && e["line"] == 4 && e["field"] == "date_of_birth"));
    assert_eq!(
        ev.last().unwrap()["lines"],
        4,
        "Tanaka is screened without the date"
    );

    // An unknown column is named once, as a warning, with the missing identifier column.
    let bad_header = write(
        tmp.path(),
        "bad.csv",
        "reference,container_number\nX,CSQU3054383\nY,MSKU9070323\n",
    );
    let (code, ev, err) = screen(&dir, &bad_header, &[]);
    assert_eq!(code, 0, "{err}");
    let warnings: Vec<_> = ev.iter().filter(|e| e["type"] == "warning").collect();
    assert_eq!(warnings.len(), 2, "{ev:?}");
    assert_eq!(warnings[0]["field"], "container_number");
    assert!(warnings[0]["message"]
        .as_str()
        .unwrap()
        .contains("unknown column"));
    assert!(warnings[1]["message"]
        .as_str()
        .unwrap()
        .contains("no identifier column"));
    assert_eq!(ev.last().unwrap()["warnings"], 2);
    let (code, out, _) = outcome(&run(&[
        "screen",
        "--data-dir",
        s(&dir),
        "--input",
        s(&bad_header),
    ]));
    assert_eq!(code, 0);
    assert!(out.contains("2 warnings"), "{out}");

    // --share: each hit signed once; a second run finds the same hits already shared.
    let (code, ev, err) = screen(&dir, &manifest, &["--share"]);
    assert_eq!(code, 0, "{err}");
    let shared: Vec<String> = ev
        .iter()
        .filter(|e| e["type"] == "hit")
        .map(|e| e["hit_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shared.len(), 3);
    assert!(shared.iter().all(|h| h.len() == 64));
    let (_, ev2, _) = screen(&dir, &manifest, &["--share"]);
    assert!(ev2
        .iter()
        .filter(|e| e["type"] == "hit")
        .all(|e| e["already_shared"] == true
            && shared.contains(&e["hit_id"].as_str().unwrap().to_owned())));
    // Outcome: a seizure needs substance and quantity; then it is recorded and listed.
    let hit = &ev
        .iter()
        .find(|e| e["reference"] == "EXP-2026-550017")
        .unwrap()["hit_id"];
    let hit = hit.as_str().unwrap();
    let (code, _, err) = outcome(&run(&[
        "outcome",
        "record",
        "--data-dir",
        s(&dir),
        "--hit",
        hit,
        "--result",
        "seized",
    ]));
    assert_eq!(code, 65, "seizure without substance: {err}");
    let (code, _, err) = outcome(&run(&[
        "outcome",
        "record",
        "--data-dir",
        s(&dir),
        "--hit",
        hit,
        "--result",
        "seized",
        "--substance",
        "methamphetamine",
        "--quantity-kg",
        "2.35",
        "--note",
        "tablets in toy cars",
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = outcome(&run(&["hits", "list", "--data-dir", s(&dir), "--json"]));
    assert_eq!(code, 0, "{err}");
    // JSON Lines, one hit per line; quantities in kilograms as in the text.
    let list: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(list.len(), 3);
    // Paged, newest first: pages of one give the same hits in the same order.
    let mut after: Option<String> = None;
    let mut paged = vec![];
    loop {
        let mut args = vec![
            "hits",
            "list",
            "--data-dir",
            s(&dir),
            "--json",
            "--limit",
            "1",
        ];
        if let Some(a) = &after {
            args.extend(["--after", a.as_str()]);
        }
        let (code, out, err) = outcome(&run(&args));
        assert_eq!(code, 0, "{err}");
        let page: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|h: &Value| h.get("id").is_some())
            .collect();
        assert!(page.len() <= 1, "{out}");
        let Some(h) = page.first() else { break };
        after = Some(h["id"].as_str().unwrap().to_owned());
        paged.push(h["id"].clone());
    }
    let ids: Vec<Value> = list.iter().map(|h| h["id"].clone()).collect();
    assert_eq!(paged, ids);
    let (code, out, _) = outcome(&run(&[
        "hits",
        "list",
        "--data-dir",
        s(&dir),
        "--json",
        "--since",
        "2099-01-01",
    ]));
    assert_eq!(code, 0);
    assert!(out.trim().is_empty(), "{out}");
    let (code, _, err) = outcome(&run(&[
        "hits",
        "list",
        "--data-dir",
        s(&dir),
        "--after",
        "not-a-hit",
    ]));
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("after") && err.contains("hex"), "{err}");
    let seized = list.iter().find(|h| h["id"] == hit).unwrap();
    assert_eq!(seized["outcomes"][0]["result"], "seized");
    assert_eq!(seized["outcomes"][0]["quantity_kg"], 2.35);

    // Report: counts by partner/route/substance, precision, and an SVG.
    let svg = tmp.path().join("report.svg");
    let (code, out, err) = outcome(&run(&[
        "report",
        "--data-dir",
        s(&dir),
        "--json",
        "--svg",
        s(&svg),
    ]));
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_str(&out).unwrap();
    let kr = r["by_partner"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "KR")
        .unwrap();
    assert_eq!(kr["alerts"], 5);
    assert_eq!(kr["hits"], 3);
    assert_eq!(kr["seizures"], 1);
    assert_eq!(kr["seized_grams"], 2350);
    let meth = r["by_substance"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "methamphetamine")
        .unwrap();
    assert_eq!(meth["seizures"], 1);
    assert_eq!(r["sources"][0]["with_outcome"], 1);
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("KR") && svg.trim_end().ends_with("</svg>"));
    // The same numbers in kilograms, the weekly series, totals, precision with its n.
    assert_eq!(kr["seized_kg"], 2.35);
    assert_eq!(r["desk"], "KR/seoul");
    assert_eq!(r["totals"]["alerts"], 5);
    assert_eq!(r["totals"]["seized_kg"], 2.35);
    let weeks = r["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 1, "{weeks:?}");
    assert!(weeks[0]["week"].as_str().unwrap().contains("-W"));
    assert_eq!(weeks[0]["hits"], 3);
    assert_eq!(weeks[0]["seized_kg"], 2.35);
    assert_eq!(r["sources"][0]["precision"], 1.0);
    // The strictest TLP of the alerts counted (traveler and postal: AMBER+STRICT).
    assert_eq!(r["tlp"], "TLP:AMBER+STRICT");
    report_charts(&dir, tmp.path(), &r);

    // The same subject twice in one manifest: one hit record, found again for the second line.
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let line = lines
        .find(|l| l.contains("EXP-2026-550017"))
        .unwrap()
        .replace("EXP-2026-550017", "EXP-2026-550017-B");
    let twice = write(
        tmp.path(),
        "twice.csv",
        &format!("{header}\n{line}\n{line}\n"),
    );
    let (code, ev3, err) = screen(&dir, &twice, &["--share"]);
    assert_eq!(code, 0, "{err}");
    let again = hits_of(&ev3, "EXP-2026-550017-B");
    assert_eq!(again.len(), 2, "{ev3:?}");
    assert_eq!(again[0]["hit_id"], again[1]["hit_id"]);
    assert_eq!(
        (&again[0]["already_shared"], &again[1]["already_shared"]),
        (&Value::Bool(false), &Value::Bool(true))
    );
    assert!(!shared.contains(&again[0]["hit_id"].as_str().unwrap().to_owned()));
    // Hits shared a chunk at a time still leave no gap in this node's sequence numbers.
    let (code, out, err) = outcome(&run(&["status", "--data-dir", s(&dir), "--json"]));
    assert_eq!(code, 0, "{err}");
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["last_seq"], st["records_own"], "{st}");
}

/// `kdesk report --chart` in each format, --since/--until, and the refusals.
fn report_charts(dir: &std::path::Path, tmp: &std::path::Path, r: &Value) {
    let today = r["period_start"].as_str().unwrap().to_owned();
    assert_eq!(r["period_end"], today.as_str());
    let mut files = Vec::new();
    for ext in ["svg", "png", "pdf", "PNG"] {
        let f = tmp.join(format!("briefing.{ext}"));
        let (code, out, err) = outcome(&run(&[
            "report",
            "--data-dir",
            s(dir),
            "--since",
            &today,
            "--until",
            &today,
            "--chart",
            s(&f),
        ]));
        assert_eq!(code, 0, "{ext}: {err}");
        assert!(out.contains("chart written to"), "{out}");
        files.push(std::fs::read(&f).unwrap());
    }
    // SVG: parses with the embedded font and names the desk, the period and the TLP label.
    let svg = String::from_utf8(files[0].clone()).unwrap();
    let tree = kdesk::screen::chart::parse(&svg).expect("the SVG parses");
    assert_eq!(tree.size().width(), 1123.0);
    for needle in [
        "KR/seoul",
        today.as_str(),
        "TLP:AMBER+STRICT",
        "Per ISO week",
    ] {
        assert!(svg.contains(needle), "SVG lacks {needle}");
    }
    // PNG: signature and the 2x A4-landscape size; the upper-case extension works too.
    for png in [&files[1], &files[3]] {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((w, h), (2246, 1588));
    }
    // PDF.
    assert!(files[2].starts_with(b"%PDF-"));
    assert!(files[2].len() > 1000);

    // --svg is still accepted (hidden alias of --chart), and its format is the extension's.
    let old = tmp.join("old.svg");
    let (code, _, err) = outcome(&run(&["report", "--data-dir", s(dir), "--svg", s(&old)]));
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&old).unwrap().starts_with("<svg"));
    let (_, help, _) = outcome(&run(&["report", "--help"]));
    assert!(help.contains("--chart") && help.contains("--until") && !help.contains("--svg"));

    // A period with nothing in it: an empty report, still a chart.
    let (code, out, err) = outcome(&run(&[
        "report",
        "--data-dir",
        s(dir),
        "--until",
        "2001-01-01",
        "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let empty: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(empty["totals"]["alerts"], 0);
    assert_eq!(empty["tlp"], "TLP:CLEAR");

    // Refused before the node is asked: a format no extension names, until before since.
    let bad = tmp.join("briefing.jpg");
    let (code, _, err) = outcome(&run(&["report", "--data-dir", s(dir), "--chart", s(&bad)]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("briefing.jpg") && err.contains(".svg, .png or .pdf"),
        "{err}"
    );
    assert!(!bad.exists());
    let (code, _, err) = outcome(&run(&[
        "report",
        "--data-dir",
        s(dir),
        "--since",
        "2026-02-01",
        "--until",
        "2026-01-31",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("until: 2026-01-31 is before since 2026-02-01"),
        "{err}"
    );
}

/// Every example alert, issued at a fresh node.
fn issue_all_examples(dir: &std::path::Path, tmp: &std::path::Path) {
    let alerts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/alerts");
    let mut names: Vec<String> = std::fs::read_dir(alerts)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in names {
        issue(dir, tmp, &example(&n, |_| {}));
    }
}

fn manifest(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/manifests")
        .join(name)
}

/// Hits as (reference, start of the alert's title), in output order.
fn hit_list(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .filter(|e| e["type"] == "hit")
        .map(|e| {
            (
                e["reference"].as_str().unwrap().to_owned(),
                e["alert_title"]
                    .as_str()
                    .unwrap()
                    .split_whitespace()
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
        .collect()
}

/// Problems as (type, line, field).
fn problem_list(events: &[Value]) -> Vec<(String, u64, String)> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e["type"].as_str(),
                Some("bad_line" | "bad_field" | "warning")
            )
        })
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn owned(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn real_formats_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kr");
    init(&dir, "KR", "seoul");
    let _node = Node::start(&dir);
    issue_all_examples(&dir, tmp.path());

    let mapping = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/mappings/siam-express.toml");
    let mapping = s(&mapping).to_owned();
    // Each sample, its format detected from its content, with the hits it must give.
    /// File, extra arguments, format, unit, lines, hits (reference, alert title).
    type Case<'a> = (
        &'a str,
        Vec<&'a str>,
        &'a str,
        &'a str,
        u64,
        Vec<(&'a str, &'a str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "paxlst-VN416-HAN-ICN.edi",
            vec![],
            "paxlst",
            "segment",
            6,
            vec![
                ("VN416 23C NGUYEN VAN HUNG (K7QX2M)", "Ketamine body-packer"),
                ("VN416 31A SRISOOK ANAN (K7QX9P)", "Courier for"),
            ],
        ),
        (
            "cuscar-THLCH-KRPUS.edi",
            vec![],
            "cuscar",
            "segment",
            4,
            vec![
                ("MEDUTH2604417", "Cocaine in"),
                ("SKLTH26120318", "Cocaine in"),
            ],
        ),
        (
            "xfwb-180-83410224-KUL-ICN.xml",
            vec![],
            "xfwb",
            "line",
            1,
            vec![("AWB 180-83410224", "Ephedrine declared")],
        ),
        (
            "xfzb-SKL2612031177-KUL-ICN.xml",
            vec![],
            "xfzb",
            "line",
            1,
            vec![("SKL2612031177", "Ephedrine declared")],
        ),
        (
            "carrier-siam-express-20261201.csv",
            vec!["--mapping", mapping.as_str()],
            "csv",
            "line",
            4,
            vec![
                ("line 2", "Methamphetamine in"),
                ("line 3", "Profile: herbal"),
            ],
        ),
    ];
    for (file, extra, format, unit, lines, want) in cases {
        let (code, ev, err) = screen(&dir, &manifest(file), &extra);
        assert_eq!(code, 0, "{file}: {err}");
        assert_eq!(hit_list(&ev), owned(&want), "{file}: {ev:?}");
        assert!(problem_list(&ev).is_empty(), "{file}: {ev:?}");
        let summary = ev.last().unwrap();
        assert_eq!(summary["format"], format, "{file}");
        assert_eq!(summary["lines"], lines, "{file}");
        assert!(
            ev.iter()
                .filter(|e| e["type"] == "hit")
                .all(|e| e["unit"] == unit),
            "{file}"
        );
    }

    // Mixed good and bad values, one file per family: every good identifier screens, every
    // bad field is reported with its position and field.
    /// File, hits (reference, alert title), problems (type, position, field).
    type Mixed<'a> = (
        &'a str,
        Vec<(&'a str, &'a str)>,
        Vec<(&'a str, u64, &'a str)>,
    );
    let cases: Vec<Mixed> = vec![
        (
            "mixed-values.csv",
            vec![
                ("MIX-1", "Cocaine in"),
                ("MIX-2", "Methamphetamine in"),
                ("MIX-3", "Ephedrine declared"),
            ],
            vec![
                ("warning", 1, "seat"),
                ("bad_field", 2, "container_numbers"),
                ("bad_field", 3, "weight_kg"),
                ("bad_field", 3, "arrival_date"),
                ("bad_field", 4, "transport_document"),
                ("bad_field", 5, "consignee_country"),
                ("bad_field", 5, "weight_kg"),
                ("bad_field", 5, "loading_country"),
            ],
        ),
        (
            "mixed-values-paxlst.edi",
            vec![
                ("VN416 NGUYEN VAN HUNG", "Ketamine body-packer"),
                ("VN416 SRISUK ANAN", "Courier for"),
            ],
            vec![
                ("bad_field", 9, "DTM+329 C507 (date_of_birth)"),
                ("bad_field", 15, "NAT C042 (nationality)"),
                ("bad_field", 16, "DOC C503 1004 (document_number)"),
                ("bad_line", 18, "NAD C080"),
                ("bad_field", 20, "LOC+91 (document_country)"),
                ("bad_line", 25, "UNT 0074"),
            ],
        ),
        (
            "mixed-values-cuscar.edi",
            vec![
                ("MIXBL0001", "Cocaine in"),
                ("MEDUEC12345678", "Cocaine in"),
            ],
            vec![
                ("bad_field", 5, "TDT C222 8213 (vessel_imo)"),
                ("bad_field", 10, "NAD+CN 3207 (consignee country)"),
                ("bad_field", 12, "PIA 7140 (hs_code)"),
                ("bad_field", 13, "MEA C174 6314 (weight)"),
                ("bad_field", 15, "EQD C237 8260 (container_numbers)"),
                ("bad_field", 17, "LOC+9 C517 3225 (port)"),
                ("bad_field", 18, "MEA C174 6411 (weight unit)"),
            ],
        ),
        (
            "mixed-values-xfwb.xml",
            vec![
                ("Waybill at line 3", "Ephedrine declared"),
                ("AWB 180-83410224", "Ephedrine declared"),
            ],
            vec![
                ("bad_field", 4, "BusinessHeaderDocument/ID (air_waybill)"),
                (
                    "bad_field",
                    11,
                    "ConsigneeParty/PostalStructuredAddress/CountryID",
                ),
                ("bad_field", 6, "GrossWeightMeasure@unitCode (weight unit)"),
                (
                    "bad_field",
                    22,
                    "ArrivalEvent/ScheduledOccurrenceDateTime (arrival_date)",
                ),
                ("bad_field", 26, "GrossWeightMeasure (weight)"),
                ("bad_field", 25, "ConsignmentItem/TypeCode (hs_code)"),
            ],
        ),
    ];
    for (file, want_hits, want_problems) in cases {
        let (code, ev, err) = screen(&dir, &manifest(file), &[]);
        assert_eq!(code, 0, "{file}: {err}");
        assert_eq!(hit_list(&ev), owned(&want_hits), "{file}: {ev:?}");
        let want: Vec<(String, u64, String)> = want_problems
            .iter()
            .map(|(t, l, f)| ((*t).to_owned(), *l, (*f).to_owned()))
            .collect();
        assert_eq!(problem_list(&ev), want, "{file}");
    }

    // Text output names segments for EDIFACT.
    let (code, out, err) = outcome(&run(&[
        "screen",
        "--data-dir",
        s(&dir),
        "--input",
        s(&manifest("mixed-values-paxlst.edi")),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("segment 8 [VN416 NGUYEN VAN HUNG]"), "{out}");
    assert!(
        err.contains("bad segment 25: UNT 0074: says the message has 99 segments"),
        "{err}"
    );
    assert!(out.contains("screened 3 paxlst passengers lines"), "{out}");

    // --format overrides detection: the PAXLST read as kdesk's CSV has no kdesk column, and
    // is refused saying so rather than "screened" as an empty list.
    let (code, _, err) = screen(
        &dir,
        &manifest("paxlst-VN416-HAN-ICN.edi"),
        &["--format", "csv"],
    );
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains("no column of the header is a kdesk column"),
        "{err}"
    );
    // ... and a format that does not fit is refused naming the problem.
    let (code, _, err) = screen(
        &dir,
        &manifest("cuscar-THLCH-KRPUS.edi"),
        &["--format", "xfwb"],
    );
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("no Waybill element"), "{err}");
    // A mapping applies to CSV only; a bad mapping is refused naming its key.
    let (code, _, err) = screen(
        &dir,
        &manifest("cuscar-THLCH-KRPUS.edi"),
        &["--mapping", mapping.as_str(), "--format", "cuscar"],
    );
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("mapping"), "{err}");
    let bad_mapping = write(
        tmp.path(),
        "bad.toml",
        "[columns]\n\"X\" = \"container_number\"\n",
    );
    let (code, _, err) = screen(
        &dir,
        &manifest("carrier-siam-express-20261201.csv"),
        &["--mapping", s(&bad_mapping)],
    );
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("columns.\"X\""), "{err}");
    // An EDIFACT message of another type is named.
    let invoic = write(
        tmp.path(),
        "invoic.edi",
        "UNB+UNOA:4+A+B+261201:1200+1'UNH+1+INVOIC:D:96A:UN'BGM+380'UNT+3+1'UNZ+1+1'",
    );
    let (code, _, err) = screen(&dir, &invoic, &[]);
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("INVOIC"), "{err}");
}

/// `kdesk gen` in every format: the alerts import, the manifest screens with its format
/// detected, nothing in it is bad, and every seeded line is found with its alert.
#[test]
fn generated_manifests_screen_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kr");
    init(&dir, "KR", "seoul");
    let _node = Node::start(&dir);
    for (i, format) in ["csv", "jsonl", "cuscar", "xfwb", "xfzb", "paxlst"]
        .into_iter()
        .enumerate()
    {
        let out = tmp.path().join(format);
        let seed = (100 + i).to_string();
        let (code, o, err) = outcome(&run(&[
            "gen",
            "--out-dir",
            s(&out),
            "--format",
            format,
            "--alerts",
            "60",
            "--lines",
            "300",
            "--seed",
            &seed,
            "--json",
        ]));
        assert_eq!(code, 0, "{format}: {err}");
        let g: Value = serde_json::from_str(&o).unwrap();
        let (code, _, err) = outcome(&run(&[
            "alert",
            "import",
            "--data-dir",
            s(&dir),
            "--input",
            g["alerts_file"].as_str().unwrap(),
        ]));
        assert_eq!(code, 0, "{format}: {err}");
        let manifest = std::path::PathBuf::from(g["manifest_file"].as_str().unwrap());
        let (code, ev, err) = screen(&dir, &manifest, &[]);
        assert_eq!(code, 0, "{format}: {err}");
        let summary = ev.last().unwrap();
        assert_eq!(summary["format"], format);
        assert_eq!(
            (
                &summary["bad_lines"],
                &summary["bad_fields"],
                &summary["warnings"]
            ),
            (&Value::from(0), &Value::from(0), &Value::from(0)),
            "{format}: {summary}"
        );
        let hits: std::collections::HashSet<String> = ev
            .iter()
            .filter(|e| e["type"] == "hit")
            .map(|e| e["reference"].as_str().unwrap().to_owned())
            .collect();
        let truth = std::fs::read_to_string(g["truth_file"].as_str().unwrap()).unwrap();
        let mut rd = csv::Reader::from_reader(truth.as_bytes());
        let mut seeded = 0;
        for r in rd.records() {
            let r = r.unwrap();
            seeded += 1;
            assert!(
                hits.contains(&r[0]),
                "{format}: seeded line {:?} not hit",
                &r[0]
            );
        }
        assert!(seeded >= 20, "{format}: {seeded} seeded lines");
    }
}
