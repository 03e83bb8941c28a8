//! Durability: kill -9 a real `kdesk serve` in the middle of a stream of issued alerts; after
//! restart every acknowledged alert is there, intact, exactly once.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{example, init, list, outcome, run, s, write, Node};

#[test]
fn every_acknowledged_alert_survives_sigkill() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    init(&dir, "KR", "seoul");
    let mut node = Node::start(&dir);

    // Acknowledged = `kdesk alert issue` exited 0 and printed the record: id -> title.
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let issuers: Vec<_> = (0..3)
        .map(|w| {
            let (acked, stop, dir, tmp) = (
                acked.clone(),
                stop.clone(),
                dir.clone(),
                t.path().to_owned(),
            );
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let title = format!("crash test alert w{w} #{i}");
                    let json = example("cargo-express-methamphetamine.json", |v| {
                        v["title"] = title.clone().into()
                    });
                    let f = write(&tmp, &format!("w{w}.json"), &json);
                    let o = run(&[
                        "alert",
                        "issue",
                        "--data-dir",
                        s(&dir),
                        "--input",
                        s(&f),
                        "--json",
                    ]);
                    let (code, out, _) = outcome(&o);
                    if code != 0 {
                        continue; // not acknowledged (node killed mid-request, or gone)
                    }
                    let v: serde_json::Value = serde_json::from_str(&out).expect("ack is JSON");
                    acked
                        .lock()
                        .unwrap()
                        .insert(v["id"].as_str().unwrap().to_owned(), title);
                }
            })
        })
        .collect();

    // Let a stream of alerts build up, then kill the node without warning.
    let start = Instant::now();
    while acked.lock().unwrap().len() < 40 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "issuing too slow"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    node.child.kill().unwrap(); // SIGKILL
    node.child.wait().unwrap();
    let killed_at = acked.lock().unwrap().len();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for h in issuers {
        h.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= killed_at);

    // Restart on the same directory (stale socket and all) and check.
    drop(node);
    let _node = Node::start(&dir);
    let stored = list(&dir, &[]);
    let mut seen = HashSet::new();
    let mut seqs = HashSet::new();
    for r in &stored {
        let id = r["id"].as_str().unwrap();
        assert!(seen.insert(id.to_owned()), "record {id} listed twice");
        assert!(
            seqs.insert(r["seq"].as_u64().unwrap()),
            "seq {} twice",
            r["seq"]
        );
        assert!(
            r["signature_check"]
                .as_str()
                .unwrap()
                .starts_with("verified"),
            "record {id} damaged: {}",
            r["signature_check"]
        );
    }
    for (id, title) in &acked {
        let r = stored
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or_else(|| panic!("acknowledged alert {id} ({title}) lost after SIGKILL"));
        assert_eq!(r["title"], title.as_str(), "content intact");
    }
    // At most the requests in flight at the kill (3 issuers) may be stored unacknowledged.
    assert!(
        stored.len() <= acked.len() + 3,
        "{} stored, {} acked",
        stored.len(),
        acked.len()
    );
    // Sequence numbers stay contiguous: nothing was half-written.
    let max = *seqs.iter().max().unwrap();
    assert_eq!(max as usize, stored.len(), "gap in sequence numbers");

    // The node keeps issuing after recovery, continuing the sequence.
    let v = common::issue(
        &dir,
        t.path(),
        &example("cargo-postal-ketamine.json", |_| {}),
    );
    assert_eq!(v["seq"].as_u64().unwrap(), max + 1);
    eprintln!(
        "acked {} alerts, {} stored after SIGKILL at {killed_at}",
        acked.len(),
        stored.len()
    );
}
