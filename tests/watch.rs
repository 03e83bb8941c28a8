//! `kdesk screen --watch DIR` with real processes: files dropped by a national system are
//! screened once, moved to done/ or failed/ with their results, and none is lost when the
//! watcher is stopped and started again.

mod common;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use common::desks::wait_for;
use common::{example, init, issue, kdesk, s, Node};

fn watcher(data: &Path, dir: &Path) -> Child {
    kdesk()
        .args(["screen", "--data-dir", s(data), "--watch", s(dir), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn watcher")
}

fn stop(w: Child) -> String {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(w.id() as libc::pid_t, libc::SIGTERM) };
    let out = w.wait_with_output().expect("watcher output");
    assert!(out.status.success(), "watcher exit {:?}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Writes like a well-behaved system: a temporary name, then a rename.
fn drop_file(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join(format!("{name}.part"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

#[test]
fn dropped_files_are_screened_once_and_never_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("kr");
    init(&data, "KR", "incheon");
    let _node = Node::start(&data);
    issue(
        &data,
        tmp.path(),
        &example("cargo-sea-container-cocaine.json", |_| {}),
    );
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(inbox.join("processing")).unwrap();
    // A file a stopped watcher left half done is screened first.
    std::fs::write(
        inbox.join("processing/left-over.csv"),
        "reference,route,container_numbers\nL-1,sea-container,TGHU 123456-7\n",
    )
    .unwrap();
    let w = watcher(&data, &inbox);
    drop_file(
        &inbox,
        "manifest-1.csv",
        "reference,route,container_numbers,consignee_name\n\
         BL-9,sea-container,CSQU 305438 3,Hanbit Fresh Trading\n\
         BL-10,sea-container,NOT A CONTAINER,Someone\n",
    );
    drop_file(&inbox, "garbage.csv", "\u{0}\u{1}binary\u{2}");
    // A file still being written (a .part name) is left alone.
    std::fs::write(inbox.join("incoming.csv.part"), "reference,route\n").unwrap();
    let done = inbox.join("done");
    let failed = inbox.join("failed");
    wait_for(
        "both dropped files settled",
        Duration::from_secs(20),
        || {
            names(&done).contains(&"manifest-1.csv".to_owned())
                && names(&done).contains(&"left-over.csv".to_owned())
                && names(&failed).contains(&"garbage.csv".to_owned())
        },
    );
    let out = stop(w);
    let results: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(results.len(), 3, "{out}");
    let m = results
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("done/manifest-1.csv"))
        .expect("manifest-1 reported");
    // The bad container is left out; the rest of its line (and every other line) screened.
    assert_eq!(
        (
            m["hits"].as_u64(),
            m["bad_fields"].as_u64(),
            m["lines"].as_u64()
        ),
        (Some(1), Some(1), Some(2)),
        "{m}"
    );
    // Its results sit beside it: the hit and the bad field.
    let res = std::fs::read_to_string(done.join("manifest-1.csv.result.jsonl")).unwrap();
    assert!(
        res.contains("\"type\":\"hit\"") && res.contains("BL-9"),
        "{res}"
    );
    assert!(res.contains("\"type\":\"bad_field\""), "{res}");
    assert!(failed.join("garbage.csv.error.txt").exists());
    assert_eq!(names(&inbox.join("processing")), Vec::<String>::new());
    assert!(
        inbox.join("incoming.csv.part").exists(),
        "partial files are not taken"
    );

    // Started again, nothing is screened twice; a new file is.
    let w = watcher(&data, &inbox);
    drop_file(
        &inbox,
        "manifest-2.csv",
        "reference,route,container_numbers\nBL-11,sea-container,MSKU 907032-3\n",
    );
    wait_for("the new file settled", Duration::from_secs(20), || {
        names(&done).contains(&"manifest-2.csv".to_owned())
    });
    let out = stop(w);
    assert_eq!(out.lines().count(), 1, "only the new file: {out}");
    assert!(
        out.contains("manifest-2.csv") && out.contains("\"hits\":1"),
        "{out}"
    );
}
