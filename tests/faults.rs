//! Links that notice faults and heal in seconds, tested through a fault proxy between two real
//! desks: KR reaches TH only through the proxy, which can forward, pause (a link that
//! silently stops forwarding, as a dropped route does: nothing is refused, nothing arrives),
//! reset every connection, or add latency.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::desks::{addr, desk, ids, peer_add, pin_port, status, wait_for};
use common::{example, issue, Node};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Forward,
    /// Hold every byte in both directions (released when forwarding resumes).
    Pause,
    /// Close every connection, and each new one at once.
    Reset,
    /// Forward, each read delayed this long.
    Latency(Duration),
}

/// Copies `src` to `dst` as the mode allows.
async fn pump(
    mut src: tokio::net::tcp::OwnedReadHalf,
    mut dst: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = tokio::select! {
            r = src.read(&mut buf) => match r { Ok(0) | Err(_) => return, Ok(n) => n },
            _ = mode.changed() => {
                if *mode.borrow() == Mode::Reset { return }
                continue;
            }
        };
        loop {
            let m = *mode.borrow_and_update();
            match m {
                Mode::Reset => return,
                Mode::Pause => {
                    if mode.changed().await.is_err() {
                        return;
                    }
                }
                Mode::Latency(d) => {
                    tokio::time::sleep(d).await;
                    break;
                }
                Mode::Forward => break,
            }
        }
        if dst.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// A proxy to `upstream`; returns its address.
async fn proxy(upstream: SocketAddr, mode: watch::Receiver<Mode>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = l.accept().await else {
                return;
            };
            if *mode.borrow() == Mode::Reset {
                drop(client);
                continue;
            }
            let mode = mode.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    return;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::join!(pump(cr, sw, mode.clone()), pump(sr, cw, mode));
            });
        }
    });
    at
}

fn link(dir: &std::path::Path) -> String {
    status(dir)["peers"][0]["link"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn alert(title: &str) -> String {
    example("cargo-express-methamphetamine.json", |v| {
        v["title"] = title.into();
        v["distribution"] = serde_json::json!({"all_partners": true});
    })
}

#[test]
fn links_notice_a_silent_partner_and_heal_within_seconds() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (root, kr, th) = {
        let r = tmp.path();
        (
            r,
            desk(r, "KR", "seoul", false),
            desk(r, "TH", "bangkok", false),
        )
    };
    pin_port(&kr);
    pin_port(&th);
    let _kr_node = Node::start(&kr.dir);
    let _th_node = Node::start(&th.dir);
    let (mode, mode_rx) = watch::channel(Mode::Forward);
    let th_addr: SocketAddr = addr(&th.dir).parse().unwrap();
    let via = rt.block_on(proxy(th_addr, mode_rx));
    peer_add(&kr, &th, &format!("https://{via}"), &[]);
    peer_add(&th, &kr, &format!("https://{}", addr(&kr.dir)), &[]);

    issue(&th.dir, root, &alert("before the fault"));
    wait_for("the first alert at KR", Duration::from_secs(10), || {
        ids(&kr.dir, "TH").len() == 1
    });
    assert_eq!(link(&kr.dir), "connected");

    // The route silently stops forwarding: KR notices within 10 s.
    mode.send_replace(Mode::Pause);
    let noticed = wait_for("KR marks the link down", Duration::from_secs(15), || {
        link(&kr.dir) != "connected"
    });
    eprintln!("silent link noticed after {noticed:?}: {}", link(&kr.dir));
    assert!(
        noticed <= Duration::from_secs(10),
        "noticed after {noticed:?}"
    );
    issue(&th.dir, root, &alert("during the silence"));
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(ids(&kr.dir, "TH").len(), 1, "nothing crosses a silent link");

    // Healed: converged within 5 s.
    mode.send_replace(Mode::Forward);
    let healed = wait_for(
        "the alert sent during the silence",
        Duration::from_secs(15),
        || ids(&kr.dir, "TH").len() == 2,
    );
    eprintln!("converged {healed:?} after the heal");
    assert!(
        healed <= Duration::from_secs(5),
        "converged after {healed:?}"
    );

    // Every connection reset, for a while.
    mode.send_replace(Mode::Reset);
    wait_for("KR sees the resets", Duration::from_secs(10), || {
        link(&kr.dir) != "connected"
    });
    issue(&th.dir, root, &alert("during the resets"));
    std::thread::sleep(Duration::from_secs(7));
    mode.send_replace(Mode::Forward);
    let healed = wait_for(
        "the alert sent during the resets",
        Duration::from_secs(15),
        || ids(&kr.dir, "TH").len() == 3,
    );
    eprintln!("converged {healed:?} after the resets stopped");
    assert!(
        healed <= Duration::from_secs(5),
        "converged after {healed:?}"
    );

    // A slow route still carries everything, and keeps the link up.
    mode.send_replace(Mode::Latency(Duration::from_millis(300)));
    issue(&th.dir, root, &alert("over a slow route"));
    wait_for(
        "the alert over the slow route",
        Duration::from_secs(15),
        || ids(&kr.dir, "TH").len() == 4,
    );
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(link(&kr.dir), "connected", "latency is not a fault");
    // No false alarm from the witness: its state of TH stays ok.
    let st = status(&kr.dir);
    let w = &st["witness"][0];
    let state = w["state"].as_str().expect("KR witnesses TH");
    assert!(!state.contains("ALARM"), "{w}");
    assert_eq!(st["witness_evidence"], 0, "{st}");
    drop(rt);
}
