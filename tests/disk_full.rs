//! A full disk is an incident, not a wedge: a real node whose database lives on a small file
//! system the test mounts (tmpfs with a size limit) is driven until a write fails for lack of
//! space, with the reserve off and at its default. The node must keep answering reads, report
//! the condition, refuse writes with "retry later" (exit 75), write again by itself once space
//! is freed, lose nothing it acknowledged, and still end on SIGTERM.
//!
//! Mounting needs root (or CAP_SYS_ADMIN), as the project's CI has.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{example, init, outcome, run, s, set_reserve, write, Node};
use serde_json::Value;

/// A tmpfs mounted on a directory for the life of the value.
struct SmallDisk {
    at: PathBuf,
}

impl SmallDisk {
    fn mount(at: &Path, mib: u64) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m,mode=0700")])
            .arg("tmpfs")
            .arg(at)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk { at: at.to_owned() }
    }

    /// Fills the file system with a file, to the last byte but `slack`; returns its path.
    fn fill(&self, slack: u64) -> PathBuf {
        let path = self.at.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 << 10];
        loop {
            match f.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        // Whatever is left below one block, in small writes.
        let _ = f.write_all(&[0u8; 4096]);
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(slack)).unwrap();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.at)
            .status();
    }
}

fn status(dir: &Path) -> Value {
    let (code, out, err) = outcome(&run(&["status", "--data-dir", s(dir), "--json"]));
    assert_eq!(code, 0, "status must answer while the disk is full: {err}");
    serde_json::from_str(&out).unwrap()
}

fn listed(dir: &Path) -> Vec<String> {
    let (code, out, err) = outcome(&run(&["alert", "list", "--data-dir", s(dir), "--json"]));
    assert_eq!(code, 0, "listing must answer while the disk is full: {err}");
    out.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["title"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

/// Issues an alert; the exit code, the title and stderr.
fn try_issue(dir: &Path, tmp: &Path, n: usize) -> (i32, String, String) {
    let title = format!("alert number {n}");
    let text = example("cargo-express-methamphetamine.json", |v| {
        v["title"] = title.clone().into()
    });
    let f = write(tmp, &format!("a{n}.json"), &text);
    let (code, _, err) = outcome(&run(&[
        "alert",
        "issue",
        "--data-dir",
        s(dir),
        "--file",
        s(&f),
    ]));
    (code, title, err)
}

fn full_disk_round(reserve_mb: u64, disk_mib: u64, failing_writes: bool) {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let dir = root.join("kr");
    init(&dir, "KR", "incheon");
    set_reserve(&dir, reserve_mb);
    let disk = SmallDisk::mount(&dir.join("db"), disk_mib);
    // Without the database's working room, writes run into the full disk and fail inside
    // sled, which then refuses every write until the database is opened again: the hardest
    // case. With it, writes stop cleanly before the disk is full.
    let fault = [("KDESK_FAULT_NO_WORKING_ROOM", "1")];
    let mut node = Node::start_env(&dir, if failing_writes { &fault } else { &[] });

    let mut acknowledged = vec![];
    let (code, title, err) = try_issue(&dir, root, 0);
    assert_eq!(code, 0, "{err}");
    acknowledged.push(title);

    // The disk fills twice: to the last byte, then with a little room left (a write that
    // starts and cannot finish).
    for (round, slack) in [(0usize, 0u64), (1, 96 << 10)] {
        // The disk fills up (another process's file): writes start failing.
        let filler = disk.fill(slack);
        let mut refused = None;
        for n in 1..400 {
            let (code, title, err) = try_issue(&dir, root, round * 10_000 + n);
            match code {
                0 => acknowledged.push(title),
                75 => {
                    refused = Some(err);
                    break;
                }
                other => {
                    panic!("a write on a full disk must exit 75 (retry later), got {other}: {err}")
                }
            }
        }
        let err = refused.expect("the disk never filled");
        assert!(
            err.contains("space") || err.contains("min_free_mb"),
            "the refusal names the cause: {err}"
        );

        // Reads are served and the condition is reported.
        let st = status(&dir);
        let reported = st["storage_error"].as_str().unwrap_or_default();
        if failing_writes {
            assert!(
                reported.contains("No space left") && reported.contains("by itself"),
                "status reports the failed write: {st}"
            );
        } else if reserve_mb == 0 {
            assert!(
                reported.contains("write safely"),
                "status reports the full disk: {st}"
            );
        } else {
            assert_eq!(st["disk_low"], true, "status reports the full disk: {st}");
        }
        // Reads are served. (After a write failed inside sled, a read that must finish one
        // of sled's page splits can fail too until the database is opened again.)
        if !failing_writes {
            let before = listed(&dir);
            for a in &acknowledged {
                assert!(before.contains(a), "{a} acknowledged, then not listed");
            }
        }
        // Still refused while full, and quickly.
        let started = Instant::now();
        let (code, _, err) = try_issue(&dir, root, round * 10_000 + 1000);
        assert_eq!(code, 75, "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));

        // Space is freed: the node writes again by itself, without a restart.
        std::fs::remove_file(&filler).unwrap();
        let started = Instant::now();
        let mut n = round * 10_000 + 2000;
        loop {
            let (code, title, err) = try_issue(&dir, root, n);
            if code == 0 {
                acknowledged.push(title);
                break;
            }
            assert_eq!(
                code, 75,
                "while recovering, writes are refused with 75: {err}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "still refused 30 s after space was freed: {err}"
            );
            n += 1;
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!(
            "reserve {reserve_mb} MiB: writing again {:.1} s after space was freed",
            started.elapsed().as_secs_f64()
        );
        let st = status(&dir);
        assert_eq!(st["disk_low"], false, "{st}");
        assert_eq!(st["storage_error"], Value::Null, "{st}");
        if failing_writes {
            // The write failed inside the database, which sled only recovers by opening it again:
            // the node did so by itself, in the same process (the child we started).
            let log = std::fs::read_to_string(dir.with_extension("log")).unwrap();
            assert!(log.contains("starting again in place"), "{log}");
        }
        let after = listed(&dir);
        for a in &acknowledged {
            assert!(after.contains(a), "{a} acknowledged, then lost");
        }
    }

    // SIGTERM still ends the process.
    let exit = node.signal_and_wait(libc::SIGTERM);
    assert!(exit.success(), "{exit}");
    drop(node);
    // And everything acknowledged is there after a restart.
    let _node = Node::start(&dir);
    let again = listed(&dir);
    for a in &acknowledged {
        assert!(again.contains(a), "{a} acknowledged, then lost at restart");
    }
}

#[test]
fn a_full_disk_with_no_reserve_is_an_incident_not_a_wedge() {
    full_disk_round(0, 24, false);
}

#[test]
fn a_write_that_fails_on_a_full_disk_heals_once_space_is_free() {
    full_disk_round(0, 24, true);
}

#[test]
fn a_full_disk_with_the_default_reserve_refuses_writes_then_heals() {
    // The reserve at its default, on a disk a little larger than it.
    full_disk_round(
        kdesk::config::DEFAULT_MIN_FREE_MB,
        kdesk::config::DEFAULT_MIN_FREE_MB + 24,
        false,
    );
}
