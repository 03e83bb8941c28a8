//! Desks for federation tests: a node data directory with its own national CA and node
//! certificate (made by `kdesk certs` or by `certs/gen-dev-pki.sh` with OpenSSL), pinned
//! exchange ports, partner registration, and waiting on conditions.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{list, outcome, run, s};

/// A desk's files: node data directory and CA directory.
pub struct Desk {
    pub cc: &'static str,
    pub dir: PathBuf,
    pub ca: PathBuf,
}

/// Makes a desk with `kdesk certs` (openssl = false) or `certs/gen-dev-pki.sh` (true),
/// witnessing its partners every second.
pub fn desk(root: &Path, cc: &'static str, node: &str, openssl: bool) -> Desk {
    desk_witnessing(root, cc, node, openssl, 1)
}

/// [`desk`] witnessing its partners every `witness_interval_s` seconds.
pub fn desk_witnessing(
    root: &Path,
    cc: &'static str,
    node: &str,
    openssl: bool,
    witness_interval_s: u32,
) -> Desk {
    let lc = cc.to_ascii_lowercase();
    let d = Desk {
        cc,
        dir: root.join(&lc),
        ca: root.join(format!("{lc}-ca")),
    };
    let interval = witness_interval_s.to_string();
    let o = run(&[
        "init",
        "--data-dir",
        s(&d.dir),
        "--country",
        cc,
        "--node-name",
        node,
        "--listen",
        "127.0.0.1:0",
        "--witness-interval",
        &interval,
    ]);
    assert!(o.status.success(), "{:?}", outcome(&o));
    let tls = d.dir.join("tls");
    if openssl {
        pki_script(&["ca", cc, s(&d.ca)]);
        pki_script(&[
            "node",
            s(&d.ca),
            cc,
            node,
            s(&tls),
            "127.0.0.1",
            "localhost",
        ]);
    } else {
        let o = run(&["certs", "ca", "--country", cc, "--out", s(&d.ca)]);
        assert!(o.status.success(), "{:?}", outcome(&o));
        let o = run(&[
            "certs",
            "node",
            "--ca",
            s(&d.ca),
            "--country",
            cc,
            "--node-name",
            node,
            "--host",
            "127.0.0.1",
            "--host",
            "localhost",
            "--out",
            s(&tls),
        ]);
        assert!(o.status.success(), "{:?}", outcome(&o));
    }
    d
}

/// Pins a node's exchange port to a free one (a restarted node must come back where its
/// partners registered it).
pub fn pin_port(d: &Desk) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = d.dir.join("kdesk.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    std::fs::write(cfg, text).unwrap();
}

/// [`pin_port`] for several desks at once: every port is held until all are chosen, so no two
/// desks get the same one.
pub fn pin_ports<'a>(desks: impl IntoIterator<Item = &'a Desk>) {
    let desks: Vec<&Desk> = desks.into_iter().collect();
    let held: Vec<std::net::TcpListener> = desks
        .iter()
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    for (d, l) in desks.iter().zip(&held) {
        let port = l.local_addr().unwrap().port();
        let cfg = d.dir.join("kdesk.toml");
        let text = std::fs::read_to_string(&cfg)
            .unwrap()
            .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
        std::fs::write(cfg, text).unwrap();
    }
}

/// Runs `kdesk ARGS` to completion like [`super::run`], but kills it and panics naming the
/// command if it takes longer than `limit` (a hung command fails the test instead of hanging
/// it).
pub fn run_within(args: &[&str], limit: Duration) -> std::process::Output {
    use std::process::Stdio;
    let child = super::kdesk()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kdesk");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(o) => o.expect("wait for kdesk"),
        Err(_) => {
            // SAFETY: signalling our own child by pid; it has not been reaped (the waiting
            // thread is still waiting for it).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            let log = args
                .iter()
                .position(|a| *a == "--data-dir")
                .and_then(|i| args.get(i + 1))
                .map(|d| Path::new(d).with_extension("log"))
                .and_then(|l| std::fs::read_to_string(&l).ok().map(|t| (l, t)))
                .map(|(l, t)| {
                    let lines: Vec<&str> = t.lines().collect();
                    let tail = lines[lines.len().saturating_sub(30)..].join("\n");
                    format!("\nlast lines of {}:\n{tail}", l.display())
                })
                .unwrap_or_default();
            panic!(
                "`kdesk {}` did not finish within {limit:?}{log}",
                args.join(" ")
            );
        }
    }
}

/// Runs `certs/gen-dev-pki.sh ARGS` (OpenSSL).
pub fn pki_script(args: &[&str]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("certs/gen-dev-pki.sh");
    let o = std::process::Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .expect("bash");
    assert!(
        o.status.success(),
        "gen-dev-pki.sh {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `kdesk status --json` of a running node.
pub fn status(dir: &Path) -> Value {
    let (code, out, err) = outcome(&run(&["status", "--data-dir", s(dir), "--json"]));
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// A running node's exchange address.
pub fn addr(dir: &Path) -> String {
    status(dir)["exchange_address"].as_str().unwrap().to_owned()
}

/// A desk's public signing key (hex).
pub fn public_key(d: &Desk) -> String {
    std::fs::read_to_string(d.dir.join("keys/signing.pub"))
        .unwrap()
        .trim()
        .to_owned()
}

/// `kdesk peer add` on `me` for `them` listening at `endpoint`.
pub fn peer_add(me: &Desk, them: &Desk, endpoint: &str, extra: &[&str]) {
    let ca = them.ca.join("ca.pem");
    let key = public_key(them);
    let mut args = vec![
        "peer",
        "add",
        "--data-dir",
        s(&me.dir),
        "--country",
        them.cc,
        "--endpoint",
        endpoint,
        "--ca",
        s(&ca),
        "--signing-key",
        &key,
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = outcome(&run(&args));
    assert_eq!(code, 0, "peer add {} on {}: {err}", them.cc, me.cc);
}

/// Polls `f` every 100 ms until it holds; panics naming `what` after 30 s.
pub fn wait_until(what: &str, f: impl FnMut() -> bool) {
    wait_for(what, Duration::from_secs(30), f);
}

/// Polls `f` every 100 ms until it holds; panics naming `what` after `deadline`. Returns how
/// long it took.
pub fn wait_for(what: &str, deadline: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if f() {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {deadline:?} waiting for: {what}");
}

/// Records a node holds that are not its own admin events (changes of partners and keys).
pub fn received(dir: &Path) -> Vec<Value> {
    list(dir, &[])
        .into_iter()
        .filter(|r| r["kind"] != "admin-event")
        .collect()
}

/// Ids of the records of one origin a node holds.
pub fn ids(dir: &Path, origin: &str) -> Vec<String> {
    list(dir, &["--origin", origin])
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// An mTLS channel to a node's exchange port, presenting `client` (certificate and key files)
/// or no certificate.
pub async fn channel(
    addr: &str,
    server_ca: &Path,
    client: Option<(&Path, &Path)>,
) -> Result<tonic::transport::Channel, String> {
    use hyper_util::rt::TokioIo;
    use rustls::pki_types::ServerName;
    let cfg = client_config(server_ca, client);
    let addr = addr.to_owned();
    let connector = tower::service_fn(move |_| {
        let (cfg, addr) = (cfg.clone(), addr.clone());
        async move {
            let tcp = tokio::net::TcpStream::connect(&addr).await?;
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let tls = tokio_rustls::TlsConnector::from(cfg)
                .connect(name, tcp)
                .await?;
            Ok::<_, std::io::Error>(TokioIo::new(tls))
        }
    });
    tonic::transport::Endpoint::from_static("http://127.0.0.1")
        .connect_with_connector(connector)
        .await
        .map_err(|e| format!("connect: {e:?}"))
}

/// The grpc.health.v1 status of the exchange service on a node's exchange port, asked as a
/// client presenting `client`.
pub async fn health_status(
    addr: &str,
    server_ca: &Path,
    client: Option<(&Path, &Path)>,
) -> Result<tonic_health::pb::health_check_response::ServingStatus, String> {
    let channel = channel(addr, server_ca, client).await?;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let r = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "kdesk.v1.Exchange".into(),
        })
        .await
        .map_err(|e| format!("check: {e}"))?;
    tonic_health::pb::health_check_response::ServingStatus::try_from(r.into_inner().status)
        .map_err(|e| e.to_string())
}

/// Calls grpc.health.v1 Check on a node's exchange port as a client presenting `client`:
/// Ok when it answers SERVING.
pub async fn health_check(
    addr: &str,
    server_ca: &Path,
    client: Option<(&Path, &Path)>,
) -> Result<(), String> {
    match health_status(addr, server_ca, client).await? {
        tonic_health::pb::health_check_response::ServingStatus::Serving => Ok(()),
        s => Err(format!("not serving: {s:?}")),
    }
}

/// A TLS 1.3 client configuration trusting `server_ca` and presenting `client` (a node
/// certificate and key), if any.
pub fn client_config(
    server_ca: &Path,
    client: Option<(&Path, &Path)>,
) -> std::sync::Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in kdesk::pki::certs(&std::fs::read_to_string(server_ca).unwrap(), "ca").unwrap() {
        roots.add(c).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(kdesk::federation::tls::provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots);
    let mut cfg = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let id = kdesk::federation::tls::Identity::load(cert, key).unwrap();
            builder
                .with_client_auth_cert(id.chain, id.key.clone_key())
                .unwrap()
        }
    };
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    std::sync::Arc::new(cfg)
}

/// Two desks on pinned ports (a restarted node comes back where its partner registered it),
/// running, each registered at the other.
pub fn linked(
    root: &Path,
    (a_cc, a_name): (&'static str, &str),
    (b_cc, b_name): (&'static str, &str),
) -> (Desk, Desk, super::Node, super::Node) {
    let a = desk(root, a_cc, a_name, false);
    let b = desk(root, b_cc, b_name, false);
    pin_port(&a);
    pin_port(&b);
    let a_node = super::Node::start(&a.dir);
    let b_node = super::Node::start(&b.dir);
    let (a_addr, b_addr) = (addr(&a.dir), addr(&b.dir));
    peer_add(&a, &b, &format!("https://{b_addr}"), &[]);
    peer_add(&b, &a, &format!("https://{a_addr}"), &[]);
    (a, b, a_node, b_node)
}

/// `kdesk certs node` for `CC/name` (host 127.0.0.1) from the CA in `ca`, into `out`.
pub fn node_cert(ca: &Path, cc: &str, name: &str, out: &Path) {
    let (code, _, err) = outcome(&run(&[
        "certs",
        "node",
        "--ca",
        s(ca),
        "--country",
        cc,
        "--node-name",
        name,
        "--host",
        "127.0.0.1",
        "--out",
        s(out),
    ]));
    assert_eq!(code, 0, "certs node {cc}/{name}: {err}");
}
