//! Operating a node: the metrics and health listener scraped over real HTTP and parsed with a
//! Prometheus text parser, counters kept across a restart, systemd notifications on a real
//! datagram socket, and the exchange certificate renewed without a restart.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;

use common::desks::{addr, desk, peer_add, pin_port, received, status, wait_for, Desk};
use common::{example, issue, outcome, run, s, Node};
use http_body_util::BodyExt;

/// Turns the metrics listener on (any free loopback port) in a desk's configuration.
fn metrics_on(d: &Desk) {
    let cfg = d.dir.join("kdesk.toml");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str("\n[metrics]\nlisten = \"127.0.0.1:0\"\n");
    std::fs::write(cfg, text).unwrap();
}

/// GET `path` from `addr` over HTTP/1.1 with hyper: (status, body).
fn get(addr: &str, path: &str) -> (u16, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = hyper::Request::get(path)
            .header("host", addr)
            .body(http_body_util::Empty::<hyper::body::Bytes>::new())
            .unwrap();
        let resp = send.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    })
}

/// Scrapes `/metrics` and parses it with `prometheus-parse`.
fn scrape(metrics_addr: &str) -> prometheus_parse::Scrape {
    let (code, body) = get(metrics_addr, "/metrics");
    assert_eq!(code, 200, "{body}");
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the sample `name` whose labels include `want`.
fn value(m: &prometheus_parse::Scrape, name: &str, want: &[(&str, &str)]) -> Option<f64> {
    m.samples
        .iter()
        .find(|s| s.metric == name && want.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .and_then(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => Some(v),
            _ => None,
        })
}

fn metrics_addr(dir: &Path) -> String {
    let a = status(dir)["metrics_address"].as_str().unwrap().to_owned();
    assert!(!a.is_empty(), "no metrics address in status");
    a
}

#[test]
fn metrics_scrape_keeps_stored_counters_across_a_restart_and_health_is_plain_http() {
    let t = tempfile::tempdir().unwrap();
    let kr = desk(t.path(), "KR", "seoul", false);
    let th = desk(t.path(), "TH", "bangkok", false);
    pin_port(&kr);
    pin_port(&th);
    metrics_on(&kr);
    metrics_on(&th);
    let _kr_node = Node::start(&kr.dir);
    let mut th_node = Node::start(&th.dir);
    peer_add(&kr, &th, &format!("https://{}", addr(&th.dir)), &[]);
    peer_add(&th, &kr, &format!("https://{}", addr(&kr.dir)), &[]);

    let alert = example("cargo-sea-container-cocaine.json", |_| {});
    issue(&kr.dir, t.path(), &alert);
    wait_for("TH receives KR's alert", Duration::from_secs(30), || {
        !received(&th.dir).is_empty()
    });

    let kr_metrics = metrics_addr(&kr.dir);
    let m = scrape(&kr_metrics);
    // The alert and the admin event of registering TH, as `kdesk status` counts them.
    let own = status(&kr.dir)["records_own"].as_f64().unwrap();
    assert_eq!(own, 2.0);
    assert_eq!(value(&m, "kdesk_records_own_total", &[]), Some(own));
    assert!(value(&m, "kdesk_records_stored_total", &[]).unwrap() >= 1.0);
    assert_eq!(value(&m, "kdesk_up", &[]), Some(1.0));
    assert_eq!(value(&m, "kdesk_ready", &[]), Some(1.0));
    assert_eq!(value(&m, "kdesk_store_stalled", &[]), Some(0.0));
    assert!(value(&m, "kdesk_flush_duration_seconds_count", &[]).unwrap() >= 1.0);
    assert!(value(&m, "kdesk_disk_free_bytes", &[]).unwrap() > 0.0);
    // Certificates made by `kdesk certs`: node 730 days, CA ten years.
    let own_cert = value(
        &m,
        "kdesk_certificate_expiry_seconds",
        &[("kind", "node-certificate"), ("own", "true")],
    )
    .unwrap();
    assert!(own_cert > 700.0 * 86_400.0, "{own_cert}");
    assert!(
        value(
            &m,
            "kdesk_certificate_expiry_seconds",
            &[
                ("kind", "ca-certificate"),
                ("country", "TH"),
                ("own", "false")
            ],
        )
        .unwrap()
            > 0.0
    );
    // Help text for the families (those with samples: nothing was refused here).
    for family in [
        "kdesk_records_stored",
        "kdesk_link_up",
        "kdesk_flush_duration_seconds",
        "kdesk_certificate_expiry_seconds",
    ] {
        assert!(m.docs.contains_key(family), "{family}: {:?}", m.docs);
    }

    let th_metrics = metrics_addr(&th.dir);
    wait_for("TH's link to KR is up", Duration::from_secs(30), || {
        value(&scrape(&th_metrics), "kdesk_link_up", &[("partner", "KR")]) == Some(1.0)
    });
    let m = scrape(&th_metrics);
    assert_eq!(
        value(&m, "kdesk_records_received_total", &[("partner", "KR")]),
        Some(1.0)
    );
    let age = value(
        &m,
        "kdesk_partner_newest_record_age_seconds",
        &[("partner", "KR")],
    )
    .unwrap();
    assert!((0.0..120.0).contains(&age), "{age}");
    assert_eq!(
        value(&m, "kdesk_witness_alarm", &[("partner", "KR")]),
        Some(0.0)
    );

    // Health: plain HTTP, no client certificate.
    assert_eq!(get(&th_metrics, "/healthz"), (200, "ok\n".into()));
    assert_eq!(get(&th_metrics, "/readyz"), (200, "ready\n".into()));
    assert_eq!(get(&th_metrics, "/nope").0, 404);

    // Screening totals: lines and hits, kept across the restart below.
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/manifests/korea-bound-cargo.csv");
    let (code, out, err) = outcome(&run(&[
        "screen",
        "--data-dir",
        s(&th.dir),
        "--input",
        s(&manifest),
        "--json",
    ]));
    assert!(code == 0 || code == 1, "{out} {err}");
    let lines = value(&scrape(&th_metrics), "kdesk_screening_lines_total", &[]).unwrap();
    assert!(lines >= 1.0, "{lines}");

    // Counters of stored data come from the store: a restarted TH reports the same.
    let st = th_node.signal_and_wait(libc::SIGTERM);
    assert!(st.success(), "{st}");
    drop(th_node);
    let _th_node = Node::start(&th.dir);
    let th_metrics = metrics_addr(&th.dir);
    let m = scrape(&th_metrics);
    assert_eq!(
        value(&m, "kdesk_records_received_total", &[("partner", "KR")]),
        Some(1.0)
    );
    assert_eq!(
        value(&m, "kdesk_screening_lines_total", &[]),
        Some(lines),
        "screening totals survive a restart"
    );
    assert!(value(&m, "kdesk_uptime_seconds", &[]).unwrap() < 60.0);
    let text = std::fs::read_to_string(th.dir.with_extension("log")).unwrap();
    assert!(text.contains("metrics listening"), "{text}");
}

#[test]
fn init_validates_the_metrics_address() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    let base = [
        "init",
        "--data-dir",
        s(&dir),
        "--country",
        "KR",
        "--node-name",
        "seoul",
        "--metrics-listen",
    ];
    let (code, _, err) = outcome(&run(&[&base[..], &["0.0.0.0:9464"]].concat()));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--metrics-listen 0.0.0.0:9464 is not a loopback address"),
        "{err}"
    );
    assert!(!dir.join("kdesk.toml").exists());
    let (code, _, err) = outcome(&run(&[&base[..], &["localhost"]].concat()));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--metrics-listen"), "{err}");
    let (code, _, err) = outcome(&run(&[
        &base[..],
        &["0.0.0.0:9464", "--metrics-listen-public"],
    ]
    .concat()));
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(dir.join("kdesk.toml")).unwrap();
    assert!(
        text.contains("[metrics]\nlisten = \"0.0.0.0:9464\"\npublic = true"),
        "{text}"
    );
    // The same rule when kdesk.toml is edited by hand.
    std::fs::write(dir.join("kdesk.toml"), text.replace("public = true\n", "")).unwrap();
    let (code, _, err) = outcome(&run(&["status", "--data-dir", s(&dir)]));
    assert_ne!(code, 0);
    assert!(
        err.contains("metrics.listen 0.0.0.0:9464 is not a loopback address"),
        "{err}"
    );
}

/// Datagrams received on `sock` until `want` arrives or `limit` passes.
fn wait_datagram(sock: &UnixDatagram, want: &str, limit: Duration) -> Vec<String> {
    let start = std::time::Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < limit {
        if let Ok(n) = sock.recv(&mut buf) {
            let m = String::from_utf8_lossy(&buf[..n]).into_owned();
            let hit = m.lines().any(|l| l == want);
            seen.push(m);
            if hit {
                return seen;
            }
        }
    }
    panic!("no {want} within {limit:?}; got {seen:?}");
}

#[test]
fn systemd_is_told_ready_watchdog_and_stopping() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    common::init(&dir, "KR", "seoul");
    let path = t.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut node = Node::start_env(
        &dir,
        &[("NOTIFY_SOCKET", s(&path)), ("WATCHDOG_USEC", "400000")],
    );
    let seen = wait_datagram(&sock, "READY=1", Duration::from_secs(10));
    assert!(
        seen.iter().any(|m| m.contains("STATUS=serving KR/seoul")),
        "{seen:?}"
    );
    wait_datagram(&sock, "WATCHDOG=1", Duration::from_secs(5));
    // Pinged at half the interval: several within a second.
    let mut pings = 0;
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        let mut buf = [0u8; 256];
        if let Ok(n) = sock.recv(&mut buf) {
            pings += usize::from(&buf[..n] == b"WATCHDOG=1\n");
        }
    }
    assert!(pings >= 3, "{pings} pings in a second");
    // SAFETY: signalling our own child by pid.
    unsafe { libc::kill(node.child.id() as libc::pid_t, libc::SIGTERM) };
    wait_datagram(&sock, "STOPPING=1", Duration::from_secs(10));
    assert!(node.signal_and_wait(0).success());
}

/// Serial number of the certificate the node at `addr` presents on a new connection, made
/// with `client` (a partner's node certificate and key) and checked against `ca`.
fn served_serial(addr: &str, ca: &Path, client: (&Path, &Path)) -> String {
    let cfg = common::desks::client_config(ca, Some(client));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let tls = tokio_rustls::TlsConnector::from(cfg)
            .connect(name, tcp)
            .await
            .unwrap();
        let cert = tls.get_ref().1.peer_certificates().unwrap()[0].clone();
        kdesk::pki::cert_info(&cert).unwrap().serial_hex
    })
}

fn serial_of(pem_file: &Path) -> String {
    let pem = std::fs::read_to_string(pem_file).unwrap();
    kdesk::pki::cert_info(&kdesk::pki::certs(&pem, "cert").unwrap()[0])
        .unwrap()
        .serial_hex
}

/// Issues a new certificate for KR/seoul from `ca` into `out` and copies it over the node's.
fn renew(kr: &Desk, out: &Path) -> String {
    common::desks::node_cert(&kr.ca, "KR", "seoul", out);
    std::fs::copy(out.join("node.pem"), kr.dir.join("tls/node.pem")).unwrap();
    std::fs::copy(out.join("node.key"), kr.dir.join("tls/node.key")).unwrap();
    serial_of(&out.join("node.pem"))
}

#[test]
fn a_renewed_certificate_is_served_on_new_connections_without_a_restart() {
    let t = tempfile::tempdir().unwrap();
    let kr = desk(t.path(), "KR", "seoul", false);
    let th = desk(t.path(), "TH", "bangkok", false);
    pin_port(&kr);
    pin_port(&th);
    let mut kr_node = Node::start(&kr.dir);
    let _th_node = Node::start(&th.dir);
    let kr_addr = addr(&kr.dir);
    peer_add(&kr, &th, &format!("https://{}", addr(&th.dir)), &[]);
    peer_add(&th, &kr, &format!("https://{kr_addr}"), &[]);
    let th_id = (th.dir.join("tls/node.pem"), th.dir.join("tls/node.key"));
    let th_client = (th_id.0.as_path(), th_id.1.as_path());
    let ca = kr.ca.join("ca.pem");
    let first = served_serial(&kr_addr, &ca, th_client);
    assert_eq!(first, serial_of(&kr.dir.join("tls/node.pem")));
    let pid = kr_node.child.id();

    // Renewed and reloaded: a new connection from the partner sees the new certificate.
    let second = renew(&kr, &t.path().join("renewed-1"));
    assert_ne!(first, second);
    assert_eq!(
        served_serial(&kr_addr, &ca, th_client),
        first,
        "not before the reload"
    );
    let (code, out, err) = outcome(&run(&["tls", "reload", "--data-dir", s(&kr.dir)]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&second), "{out}");
    assert_eq!(served_serial(&kr_addr, &ca, th_client), second);
    assert!(kr_node.child.try_wait().unwrap().is_none());
    assert_eq!(kr_node.child.id(), pid);

    // The partner still exchanges with the node: TH gets an alert KR issues after the reload.
    issue(
        &kr.dir,
        t.path(),
        &example("cargo-sea-container-cocaine.json", |_| {}),
    );
    wait_for("TH receives KR's alert", Duration::from_secs(30), || {
        !received(&th.dir).is_empty()
    });

    // A key that does not belong to the certificate is refused, naming the file; the
    // certificate in force stays.
    let other = t.path().join("other");
    common::desks::node_cert(&kr.ca, "KR", "seoul", &other);
    std::fs::copy(other.join("node.key"), kr.dir.join("tls/node.key")).unwrap();
    let (code, _, err) = outcome(&run(&["tls", "reload", "--data-dir", s(&kr.dir)]));
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains(&format!("{}", kr.dir.join("tls/node.key").display()))
            && err.contains("does not match the certificate"),
        "{err}"
    );
    assert_eq!(served_serial(&kr_addr, &ca, th_client), second);

    // A CRL not signed by the national CA is refused, naming the file.
    std::fs::copy(
        t.path().join("renewed-1/node.key"),
        kr.dir.join("tls/node.key"),
    )
    .unwrap();
    let forger = t.path().join("forger");
    let (code, _, err) = outcome(&run(&[
        "certs",
        "ca",
        "--country",
        "KR",
        "--out",
        s(&forger),
    ]));
    assert_eq!(code, 0, "{err}");
    let crl = kr.dir.join("tls/ca.crl");
    let (code, _, err) = outcome(&run(&[
        "certs",
        "crl",
        "--ca",
        s(&forger),
        "--out",
        s(&crl),
    ]));
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = outcome(&run(&["tls", "reload", "--data-dir", s(&kr.dir)]));
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains(&crl.display().to_string())
            && err.contains("signature does not verify with the CA's key"),
        "{err}"
    );
    std::fs::remove_file(&crl).unwrap();

    // SIGHUP does the same as `kdesk tls reload`.
    let third = renew(&kr, &t.path().join("renewed-2"));
    // SAFETY: signalling our own child by pid.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGHUP) };
    wait_for(
        "the node reloads on SIGHUP",
        Duration::from_secs(10),
        || served_serial(&kr_addr, &ca, th_client) == third,
    );
    assert!(kr_node.child.try_wait().unwrap().is_none());

    // An expired certificate (this node's identity and key, issued by the national CA, valid
    // until yesterday) is refused, naming the file.
    let expired = {
        let mut p = rcgen::CertificateParams::default();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "KR/seoul");
        p.subject_alt_names = vec![
            rcgen::SanType::URI("kdesk://KR/seoul".try_into().unwrap()),
            rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()),
        ];
        p.is_ca = rcgen::IsCa::ExplicitNoCa;
        p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now - time::Duration::days(30);
        p.not_after = now - time::Duration::days(1);
        let key = rcgen::KeyPair::from_pem(
            &std::fs::read_to_string(kr.dir.join("tls/node.key")).unwrap(),
        )
        .unwrap();
        let issuer = rcgen::Issuer::from_ca_cert_pem(
            &std::fs::read_to_string(kr.ca.join("ca.pem")).unwrap(),
            rcgen::KeyPair::from_pem(&std::fs::read_to_string(kr.ca.join("ca.key")).unwrap())
                .unwrap(),
        )
        .unwrap();
        p.signed_by(&key, &issuer).unwrap().pem()
    };
    let in_force = kr.dir.join("tls/node.pem");
    let kept = std::fs::read_to_string(&in_force).unwrap();
    std::fs::write(&in_force, expired).unwrap();
    let (code, _, err) = outcome(&run(&["tls", "reload", "--data-dir", s(&kr.dir)]));
    assert_eq!(code, 65, "{err}");
    assert!(
        err.contains(&in_force.display().to_string()) && err.contains("expired at"),
        "{err}"
    );
    assert_eq!(served_serial(&kr_addr, &ca, th_client), third);
    std::fs::write(&in_force, kept).unwrap();

    // Each reload is an admin event in the node's log; status shows the expiry.
    let events = common::list(&kr.dir, &["--kind", "admin-event"]);
    let reloads = events
        .iter()
        .filter(|e| e.to_string().contains("node certificate reloaded"))
        .count();
    assert_eq!(reloads, 2, "{events:?}");
    let st = status(&kr.dir);
    let own = st["expiries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "node-certificate" && e["own"] == true)
        .cloned()
        .unwrap();
    assert!(own["days_left"].as_i64().unwrap() > 700, "{own}");
    assert_eq!(own["warning"], false);
    let (_, text, _) = outcome(&run(&["status", "--data-dir", s(&kr.dir)]));
    assert!(
        text.contains("expiry        own node certificate until"),
        "{text}"
    );
}

#[test]
fn readyz_says_why_the_node_is_not_ready() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("kr");
    let (code, _, err) = outcome(&run(&[
        "init",
        "--data-dir",
        s(&dir),
        "--country",
        "KR",
        "--node-name",
        "seoul",
        "--metrics-listen",
        "127.0.0.1:0",
    ]));
    assert_eq!(code, 0, "{err}");
    // A reserve no disk can meet: the node serves (reads, status) but refuses new records.
    let cfg = dir.join("kdesk.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("min_free_mb = 128", "min_free_mb = 4294967296");
    std::fs::write(&cfg, text).unwrap();
    let mut node = Node::start(&dir);
    let a = metrics_addr(&dir);
    let (code, body) = get(&a, "/readyz");
    assert_eq!(code, 503, "{body}");
    assert!(body.starts_with("not ready: disk reserve:"), "{body}");
    assert_eq!(get(&a, "/healthz").0, 200);
    let m = scrape(&a);
    assert_eq!(value(&m, "kdesk_ready", &[]), Some(0.0));
    assert_eq!(
        value(&m, "kdesk_disk_reserve_bytes", &[]),
        Some(4_294_967_296.0 * 1_048_576.0)
    );
    // A node that does not federate has no certificate to reload, and says so.
    let (code, _, err) = outcome(&run(&["tls", "reload", "--data-dir", s(&dir)]));
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("does not federate"), "{err}");
    // Nor does SIGHUP (`systemctl reload`) end it.
    // SAFETY: signalling our own child by pid.
    unsafe { libc::kill(node.child.id() as libc::pid_t, libc::SIGHUP) };
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        node.child.try_wait().unwrap().is_none(),
        "SIGHUP ended the node"
    );
    assert_eq!(get(&a, "/healthz").0, 200);
}
