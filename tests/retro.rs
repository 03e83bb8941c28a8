//! Retro-screening with real processes: a desk screens a manifest, the node is killed and
//! restarted, then a partner issues an alert on one of its containers; the hit appears at the
//! screening desk and, signed, at the partner within a second.

mod common;

use std::time::{Duration, Instant};

use common::desks::{addr, desk, peer_add, pin_port, wait_for};
use common::{example, issue, outcome, run, s, write, Node};
use serde_json::Value;

fn day(offset: i64) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(offset);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn hits_json(dir: &std::path::Path) -> Vec<Value> {
    let (code, out, err) = outcome(&run(&["hits", "list", "--data-dir", s(dir), "--json"]));
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn an_alert_arriving_after_screening_meets_the_held_lines_at_both_desks() {
    let tmp = tempfile::tempdir().unwrap();
    let kr = desk(tmp.path(), "KR", "busan", false);
    let th = desk(tmp.path(), "TH", "bangkok", false);
    pin_port(&kr);
    pin_port(&th);
    // KR shares what retro-screening finds with the alert's desk.
    let cfg = kr.dir.join("kdesk.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.contains("share_hits = false"),
        "init writes the setting:\n{text}"
    );
    std::fs::write(
        &cfg,
        text.replace("share_hits = false", "share_hits = true"),
    )
    .unwrap();
    let mut kr_node = Node::start(&kr.dir);
    let _th_node = Node::start(&th.dir);
    peer_add(&kr, &th, &format!("https://{}", addr(&th.dir)), &[]);
    peer_add(&th, &kr, &format!("https://{}", addr(&kr.dir)), &[]);

    // KR screens a manifest before any alert names its containers: one consignment arrives
    // in ten days, one arrived a week ago (past its grace days: not held).
    let manifest = write(
        tmp.path(),
        "manifest.csv",
        &format!(
            "reference,route,container_numbers,consignee_name,arrival_date\n\
             BL-1,sea-container,MSKU 907032-3,Hanbit Fresh Trading,{}\n\
             BL-2,sea-container,TGHU 123456-7,Daehan Food Co.,{}\n",
            day(10),
            day(-7)
        ),
    );
    let (code, out, err) = outcome(&run(&[
        "screen",
        "--data-dir",
        s(&kr.dir),
        "--input",
        s(&manifest),
        "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let summary: Value = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "summary")
        .unwrap();
    assert_eq!(summary["hits"], 0, "{summary}");
    assert_eq!(summary["held_for_retro_screening"], 1, "{summary}");

    // Held lines are durable: SIGKILL and restart.
    kr_node.signal_and_wait(libc::SIGKILL);
    let _kr_node = Node::start(&kr.dir);
    let st = common::desks::status(&kr.dir);
    assert_eq!(st["held_lines"], 1, "{st}");

    // TH issues an alert on the held container (and one on the container that has arrived).
    let alert = example("cargo-sea-container-cocaine.json", |v| {
        v["subject"]["cargo"]["container_numbers"] =
            serde_json::json!(["MSKU 907032-3", "TGHU 123456-7"]);
    });
    let t0 = Instant::now();
    let issued = issue(&th.dir, tmp.path(), &alert);
    let alert_id = issued["id"].as_str().unwrap().to_owned();

    let at_kr = wait_for("the retro hit at KR", Duration::from_secs(10), || {
        hits_json(&kr.dir)
            .iter()
            .any(|h| h["type"] == "retro" && h["alert_id"] == alert_id.as_str())
    });
    let hits = hits_json(&kr.dir);
    let retro: Vec<&Value> = hits.iter().filter(|h| h["type"] == "retro").collect();
    assert_eq!(
        retro.len(),
        1,
        "only the consignment not yet arrived: {hits:?}"
    );
    assert_eq!(retro[0]["reference"], "BL-1");
    assert_eq!(retro[0]["alert_origin"], "TH/bangkok");
    let hit_id = retro[0]["hit_id"].as_str().expect("shared").to_owned();
    wait_for("KR's signed hit at TH", Duration::from_secs(10), || {
        hits_json(&th.dir)
            .iter()
            .any(|h| h["id"] == hit_id.as_str() && h["alert_id"] == alert_id.as_str())
    });
    let to_th = t0.elapsed();
    eprintln!(
        "retro hit listed at KR {} ms after TH's alert was issued; at TH after {} ms",
        at_kr.as_millis(),
        to_th.as_millis()
    );
    assert!(
        at_kr <= Duration::from_secs(1),
        "the hit reached KR's list after {at_kr:?}"
    );
    assert!(
        to_th <= Duration::from_secs(1),
        "the hit reached TH after {to_th:?}"
    );
    let st = common::desks::status(&kr.dir);
    assert_eq!(st["retro_hits"], 1, "{st}");
}
