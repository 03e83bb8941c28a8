//! Federation end to end: real `kdesk serve` processes, real certificates (made both by
//! `kdesk certs` and by `certs/gen-dev-pki.sh` with OpenSSL), real mTLS. Attacks are played by
//! in-process TLS clients and by a rogue partner speaking the real protocol.

mod common;
/// The misbehaving partner of `kdesk demo`, compiled into this test as well: it is demo and
/// test tooling, not part of the library.
#[path = "../src/demo/rogue.rs"]
mod rogue;

use std::path::Path;
use std::time::Duration;

use common::desks::{
    addr, channel, desk, health_check, ids, peer_add, pki_script, public_key, received, status,
    wait_for, wait_until, Desk,
};
use common::{example, list, outcome, run, s, write, Node};
use kdesk::federation::registry::{PeerEntry, PeerKey};
use kdesk::model::{Alert, CountryCode};
use kdesk::record::{Origin, Record, RecordKind};
use serde_json::Value;

// ------------------------------------------------------------------------------------------
// Helpers

/// KR and TH desks on pinned ports (a restarted node comes back where its partner registered
/// it), running, each registered at the other.
fn linked_kr_th(root: &Path) -> (Desk, Desk, Node, Node) {
    common::desks::linked(root, ("KR", "seoul"), ("TH", "bangkok"))
}

fn issue(dir: &Path, tmp: &Path, json: &str) -> String {
    common::issue(dir, tmp, json)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

// ------------------------------------------------------------------------------------------
// TLS: who may connect

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_registered_unrevoked_certificates_of_the_claimed_country_get_in() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let kr = desk(root, "KR", "seoul", false);
    // TH's PKI is made with plain OpenSSL: an agency with its own PKI.
    let th = desk(root, "TH", "bangkok", true);
    let nl = desk(root, "NL", "rotterdam", false); // registered at KR
    let vn = desk(root, "VN", "hanoi", false); // never registered at KR
    pki_script(&[
        "node",
        s(&th.ca),
        "TH",
        "revoked",
        s(&root.join("th-revoked")),
        "127.0.0.1",
    ]);
    let crl = root.join("th.crl");
    pki_script(&[
        "crl",
        s(&th.ca),
        s(&crl),
        s(&root.join("th-revoked/node.pem")),
    ]);
    // A certificate from TH's CA that claims to be a Dutch node (NL is registered at KR).
    let liar = root.join("th-liar");
    std::fs::create_dir_all(&liar).unwrap();
    let sh = format!(
        "set -e; cd {liar}; openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out node.key 2>/dev/null; \
         openssl req -new -key node.key -subj '/C=TH/CN=liar' -out n.csr; \
         printf 'basicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth,clientAuth\\nsubjectAltName=URI:kdesk://NL/evil,IP:127.0.0.1\\n' > ext; \
         openssl x509 -req -in n.csr -CA {ca}/ca.pem -CAkey {ca}/ca.key -set_serial 7 -days 30 -extfile ext -out node.pem 2>/dev/null",
        liar = s(&liar),
        ca = s(&th.ca)
    );
    assert!(std::process::Command::new("bash")
        .args(["-c", &sh])
        .status()
        .unwrap()
        .success());

    let _kr_node = Node::start(&kr.dir);
    let kr_addr = addr(&kr.dir);
    peer_add(&kr, &th, "https://127.0.0.1:9", &["--crl", s(&crl)]);
    peer_add(&kr, &nl, "https://127.0.0.1:9", &[]);
    let kr_ca = kr.ca.join("ca.pem");

    // Control: a registered TH node certificate (OpenSSL-made) is accepted.
    let th_tls = th.dir.join("tls");
    health_check(
        &kr_addr,
        &kr_ca,
        Some((&th_tls.join("node.pem"), &th_tls.join("node.key"))),
    )
    .await
    .expect("a registered partner certificate must be accepted");
    // Server reflection lists the services to standard tooling.
    {
        use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        use tonic_reflection::pb::v1::ServerReflectionRequest;
        let ch = channel(
            &kr_addr,
            &kr_ca,
            Some((&th_tls.join("node.pem"), &th_tls.join("node.key"))),
        )
        .await
        .unwrap();
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut resp = ServerReflectionClient::new(ch)
            .server_reflection_info(tokio_stream::iter(vec![req]))
            .await
            .unwrap()
            .into_inner();
        let msg = resp.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = msg.message_response else {
            panic!("unexpected reflection answer");
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for want in ["kdesk.v1.Exchange", "grpc.health.v1.Health"] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
    }
    let before = status(&kr.dir)["handshakes_refused"].as_u64().unwrap();

    let refused = [
        (
            "no client certificate",
            health_check(&kr_addr, &kr_ca, None).await,
        ),
        (
            "unregistered CA (VN)",
            health_check(
                &kr_addr,
                &kr_ca,
                Some((&vn.dir.join("tls/node.pem"), &vn.dir.join("tls/node.key"))),
            )
            .await,
        ),
        (
            "TH CA certificate claiming to be an NL node",
            health_check(
                &kr_addr,
                &kr_ca,
                Some((&liar.join("node.pem"), &liar.join("node.key"))),
            )
            .await,
        ),
        (
            "revoked TH certificate",
            health_check(
                &kr_addr,
                &kr_ca,
                Some((
                    &root.join("th-revoked/node.pem"),
                    &root.join("th-revoked/node.key"),
                )),
            )
            .await,
        ),
    ];
    for (what, r) in &refused {
        assert!(r.is_err(), "{what} must be refused");
    }
    // The three certificates that were presented were refused by the verifier and counted.
    let after = status(&kr.dir)["handshakes_refused"].as_u64().unwrap();
    assert!(
        after >= before + 3,
        "handshakes_refused {before} -> {after}"
    );
    // An honest NL node certificate is accepted: the liar was refused for its chain, not
    // because NL is unknown.
    health_check(
        &kr_addr,
        &kr_ca,
        Some((&nl.dir.join("tls/node.pem"), &nl.dir.join("tls/node.key"))),
    )
    .await
    .expect("a registered NL certificate must be accepted");
    // And the node is still serving its partner.
    health_check(
        &kr_addr,
        &kr_ca,
        Some((&th_tls.join("node.pem"), &th_tls.join("node.key"))),
    )
    .await
    .expect("still serving");
}

// ------------------------------------------------------------------------------------------
// Records: what is accepted from a partner

fn alert(name: &str, edit: impl FnOnce(&mut Value)) -> Alert {
    Alert::from_json(&example(name, edit)).unwrap()
}

fn record(origin: &str, seq: u64, a: Alert) -> Record {
    Record {
        origin: Origin::parse(origin).unwrap(),
        seq,
        created_at_ms: kdesk::node::now_ms(),
        kind: RecordKind::Alert(a),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_misdirected_duplicated_and_reordered_records_from_a_partner() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let kr = desk(root, "KR", "seoul", false);
    let th = desk(root, "TH", "bangkok", true);
    let nl = desk(root, "NL", "rotterdam", false);
    let th_key = kdesk::keys::load_signing_key(&th.dir.join("keys/signing.key")).unwrap();
    let nl_key = kdesk::keys::load_signing_key(&nl.dir.join("keys/signing.key")).unwrap();
    let stranger = kdesk::keys::generate().unwrap();

    let to_kr = |title: &str| {
        alert("cargo-express-methamphetamine.json", |v| {
            v["title"] = title.into();
        })
    };
    let a1 = record("TH/bangkok", 1, to_kr("one")).sign(&th_key);
    let a2 = record("TH/bangkok", 2, to_kr("two")).sign(&th_key);
    let a3 = record("TH/bangkok", 3, to_kr("three")).sign(&th_key);
    let mut bad_sig = record("TH/bangkok", 4, to_kr("forged signature"))
        .sign(&th_key)
        .envelope;
    bad_sig.signature[10] ^= 0x40;
    let mut altered = record("TH/bangkok", 5, to_kr("altered body"))
        .sign(&th_key)
        .envelope;
    let n = altered.body.len() - 3;
    altered.body[n] ^= 0x01;
    let unknown_key = record("TH/bangkok", 6, to_kr("unregistered key"))
        .sign(&stranger)
        .envelope;
    // NL records relayed by TH: one not addressed to KR, one KR-only with no onward sharing.
    let nl_not_kr = record(
        "NL/rotterdam",
        1,
        alert("cargo-postal-ketamine.json", |v| {
            v["distribution"] = serde_json::json!({"countries": ["NL", "TH"]});
            v["handling"] = serde_json::json!({"tlp": "amber", "no_onward_sharing": false});
        }),
    )
    .sign(&nl_key)
    .envelope;
    let nl_no_onward = record(
        "NL/rotterdam",
        2,
        alert("cargo-postal-ketamine.json", |_| {}),
    )
    .sign(&nl_key)
    .envelope;
    // Relaying a shareable NL record is allowed.
    let nl_shareable = record(
        "NL/rotterdam",
        3,
        alert("cargo-postal-ketamine.json", |v| {
            v["distribution"] = serde_json::json!({"all_partners": true});
            v["handling"] = serde_json::json!({"tlp": "green", "no_onward_sharing": false});
        }),
    )
    .sign(&nl_key);
    let items = vec![
        a1.envelope.clone(),
        a3.envelope.clone(), // out of order
        a1.envelope.clone(), // duplicate
        bad_sig,
        a2.envelope.clone(),
        altered,
        unknown_key,
        nl_not_kr,
        nl_no_onward,
        nl_shareable.envelope.clone(),
        a3.envelope.clone(), // duplicate again
    ];

    let _kr_node = Node::start(&kr.dir);
    let kr_entry = PeerEntry {
        country: CountryCode::parse("KR").unwrap(),
        endpoint: format!("https://{}", addr(&kr.dir)),
        ca_pem: std::fs::read_to_string(kr.ca.join("ca.pem")).unwrap(),
        crl_pems: vec![],
        keys: vec![PeerKey {
            public_key: public_key(&kr),
            added_at_ms: 0,
            revoked_at_ms: None,
            compromised: false,
            pending: false,
        }],
        added_at_ms: 0,
    };
    let identity = kdesk::federation::tls::Identity::load(
        &th.dir.join("tls/node.pem"),
        &th.dir.join("tls/node.key"),
    )
    .unwrap();
    let rogue = rogue::start_rogue(identity, kr_entry, items).await.unwrap();
    // NL is registered (its key must be known to judge its records) but unreachable.
    peer_add(&kr, &nl, "https://127.0.0.1:9", &[]);
    peer_add(&kr, &th, &format!("https://{}", rogue.addr), &[]);

    let expected = [a1.id, a2.id, a3.id, nl_shareable.id].map(|i| i.to_hex());
    let kr_dir = kr.dir.clone();
    tokio::task::spawn_blocking(move || {
        wait_until("every good record stored and every bad one counted", || {
            let st = status(&kr_dir);
            let r = &st["refusals"];
            let total: u64 = r
                .as_object()
                .map(|m| m.values().filter_map(Value::as_u64).sum())
                .unwrap_or(0);
            received(&kr_dir).len() >= expected.len() && total >= 5
        });
        let stored = received(&kr_dir);
        let got: Vec<String> = stored
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        let mut want = expected.to_vec();
        want.sort();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        assert_eq!(got_sorted, want, "exactly the good records, each once");
        for r in &stored {
            assert!(
                r["signature_check"]
                    .as_str()
                    .unwrap()
                    .starts_with("verified"),
                "{r}"
            );
        }
        let st = status(&kr_dir);
        let r = &st["refusals"];
        assert_eq!(
            r["bad-signature"], 2,
            "forged signature and altered body: {r}"
        );
        // A record signed with an unregistered key is kept aside, not lost.
        assert_eq!(r["quarantined"], 1, "{r}");
        assert_eq!(r["not-addressed-to-us"], 1, "{r}");
        assert_eq!(r["relay-not-allowed"], 1, "{r}");
        let th_link = st["peers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["country"] == "TH")
            .unwrap()
            .clone();
        assert_eq!(th_link["duplicates"], 2, "{th_link}");
        assert_eq!(th_link["stored"], 4, "{th_link}");
        assert_eq!(
            th_link["cursor"], 11,
            "cursor advanced past every item: {th_link}"
        );
    })
    .await
    .unwrap();
    drop(rogue);
}

// ------------------------------------------------------------------------------------------
// Replication between two real nodes

#[test]
fn replication_resumes_after_either_side_restarts_with_nothing_lost() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let (kr, th, mut kr_node, mut th_node) = linked_kr_th(root);

    let mut to_kr = vec![];
    let mut not_kr = vec![];
    let issue_batch = |n: usize, tag: &str, to_kr: &mut Vec<String>, not_kr: &mut Vec<String>| {
        for i in 0..n {
            let for_kr = i % 4 != 3;
            let json = example("cargo-express-methamphetamine.json", |v| {
                v["title"] = format!("{tag} {i}").into();
                if !for_kr {
                    v["distribution"] = serde_json::json!({"countries": ["NL"]});
                }
            });
            let id = issue(&th.dir, root, &json);
            if for_kr {
                to_kr.push(id)
            } else {
                not_kr.push(id)
            }
        }
    };
    issue_batch(12, "first", &mut to_kr, &mut not_kr);
    wait_until("first batch at KR", || ids(&kr.dir, "TH").len() >= 9);

    // The sender dies without warning and comes back.
    th_node.child.kill().unwrap();
    th_node.child.wait().unwrap();
    drop(th_node);
    let th_node2 = Node::start(&th.dir);
    issue_batch(12, "after sender restart", &mut to_kr, &mut not_kr);

    // The receiver dies without warning; the sender keeps issuing; the receiver comes back.
    kr_node.child.kill().unwrap();
    kr_node.child.wait().unwrap();
    drop(kr_node);
    issue_batch(12, "while receiver down", &mut to_kr, &mut not_kr);
    let _kr_node2 = Node::start(&kr.dir);
    wait_until("all addressed alerts at KR", || {
        ids(&kr.dir, "TH").len() >= to_kr.len()
    });

    let mut got = ids(&kr.dir, "TH");
    let n = got.len();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), n, "no record stored twice");
    let mut want = to_kr.clone();
    want.sort();
    assert_eq!(got, want, "exactly the alerts addressed to KR, none lost");
    for id in &not_kr {
        assert!(!got.contains(id), "alert {id} for NL only reached KR");
    }
    // The sender filtered them: KR never even saw (and so never had to refuse) one of them.
    let refused = status(&kr.dir)["refusals"].clone();
    assert_eq!(
        refused,
        serde_json::json!({}),
        "KR had to refuse records: the sender leaked"
    );

    // Amendments and retractions follow the original.
    let target = &to_kr[0];
    let amended = example("cargo-express-methamphetamine.json", |v| {
        v["risk"] = "critical".into()
    });
    let f = write(root, "amend.json", &amended);
    let (code, out, err) = outcome(&run(&[
        "alert",
        "amend",
        "--data-dir",
        s(&th.dir),
        target,
        "--file",
        s(&f),
        "--reason",
        "more parcels",
        "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let amendment: Value = serde_json::from_str(&out).unwrap();
    let amendment_id = amendment["id"].as_str().unwrap().to_owned();
    let (code, _, err) = outcome(&run(&[
        "alert",
        "retract",
        "--data-dir",
        s(&th.dir),
        &to_kr[1],
        "--reason",
        "cleared",
    ]));
    assert_eq!(code, 0, "{err}");
    wait_until("amendment and retraction at KR", || {
        let recs = list(&kr.dir, &[]);
        let status_of = |id: &str| {
            recs.iter()
                .find(|r| r["id"] == id)
                .map(|r| r["status"].as_str().unwrap().to_owned())
        };
        status_of(target).as_deref() == Some("superseded")
            && status_of(&amendment_id).as_deref() == Some("active")
            && status_of(&to_kr[1]).as_deref() == Some("retracted")
    });

    // KR revokes TH's signing key: what TH signs from now on is refused; what KR already
    // holds stays.
    let held = ids(&kr.dir, "TH").len();
    let th_key_hex = public_key(&th);
    let (code, _, err) = outcome(&run(&[
        "peer",
        "revoke-key",
        "--data-dir",
        s(&kr.dir),
        "--country",
        "TH",
        "--key",
        &th_key_hex[..12],
    ]));
    assert_eq!(code, 0, "{err}");
    issue(
        &th.dir,
        root,
        &example("cargo-express-methamphetamine.json", |v| {
            v["title"] = "after revocation".into()
        }),
    );
    wait_until("alert signed with the revoked key refused", || {
        status(&kr.dir)["refusals"]["key-revoked"].as_u64() == Some(1)
    });
    assert_eq!(
        ids(&kr.dir, "TH").len(),
        held,
        "records received before revocation stay; nothing new"
    );
    let (code, out, _) = outcome(&run(&["peer", "list", "--data-dir", s(&kr.dir), "--json"]));
    assert_eq!(code, 0);
    assert!(out.contains("\"revoked\":true"), "{out}");
    drop(th_node2);
}

/// Stops a desk's node, sets `[storage] min_free_mb` in its configuration, starts it again.
fn restart_with_reserve(mut node: Node, d: &Desk, mb: u64) -> Node {
    node.signal_and_wait(libc::SIGTERM);
    drop(node);
    common::set_reserve(&d.dir, mb);
    Node::start(&d.dir)
}

#[test]
fn a_node_whose_disk_is_in_its_reserve_signs_and_stores_nothing_then_catches_up() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let (kr, th, kr_node, th_node) = linked_kr_th(root);
    let alert = |title: &str| {
        example("cargo-express-methamphetamine.json", |v| {
            v["title"] = title.into()
        })
    };
    issue(&th.dir, root, &alert("before the disk filled"));
    wait_until("first alert at KR", || ids(&kr.dir, "TH").len() == 1);

    // KR restarts with a reserve larger than any disk: as if its disk had filled up.
    let kr_node = restart_with_reserve(kr_node, &kr, 1 << 32);
    let st = status(&kr.dir);
    assert_eq!(st["disk_low"], true, "{st}");
    assert!(st["disk_free_bytes"].as_u64().unwrap() > 0, "{st}");
    let own_before = st["records_own"].as_u64().unwrap();

    // Its officers' alerts are refused with exit 75 and a reason; nothing is signed.
    let f = write(root, "kr-alert.json", &alert("while full"));
    let kr_issue = || {
        outcome(&run(&[
            "alert",
            "issue",
            "--data-dir",
            s(&kr.dir),
            "--file",
            s(&f),
        ]))
    };
    let (code, _, err) = kr_issue();
    assert_eq!(code, 75, "{err}");
    assert!(
        err.contains("min_free_mb") && err.contains("nothing was signed"),
        "{err}"
    );
    // A new partner is refused too (it would bring records to store).
    let nl = desk(root, "NL", "rotterdam", false);
    let (code, _, err) = outcome(&run(&[
        "peer",
        "add",
        "--data-dir",
        s(&kr.dir),
        "--country",
        "NL",
        "--endpoint",
        "https://127.0.0.1:9",
        "--ca",
        s(&nl.ca.join("ca.pem")),
        "--signing-key",
        &public_key(&nl),
    ]));
    assert_eq!(code, 75, "{err}");

    // TH's new alerts are not stored and the cursor does not move past them.
    issue(&th.dir, root, &alert("sent while KR was full 1"));
    issue(&th.dir, root, &alert("sent while KR was full 2"));
    wait_until("KR's link to TH reports the reserve", || {
        status(&kr.dir)["peers"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("not stored") && e.contains("min_free_mb"))
    });
    let st = status(&kr.dir);
    assert_eq!(ids(&kr.dir, "TH").len(), 1, "stored while in the reserve");
    assert_eq!(st["records_own"].as_u64().unwrap(), own_before, "{st}");
    assert_eq!(st["refusals"], serde_json::json!({}), "{st}");

    // Space freed (the reserve back to normal): KR catches up with everything it missed.
    let _kr_node = restart_with_reserve(kr_node, &kr, 1);
    assert_eq!(status(&kr.dir)["disk_low"], false);
    wait_until("KR caught up", || ids(&kr.dir, "TH").len() == 3);
    let (code, _, err) = kr_issue();
    assert_eq!(code, 0, "{err}");
    drop(th_node);
}

// ------------------------------------------------------------------------------------------
// Transparency log witnessing

/// A partner's witnessing entry in `kdesk status --json`.
fn witness_of(dir: &Path, cc: &str) -> Value {
    status(dir)["witness"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["country"] == cc)
        .cloned()
        .unwrap_or(Value::Null)
}

fn copy_dir(from: &Path, to: &Path) {
    let o = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Checks the cosignatures TH's bundle carries, then plays TH as a dishonest exporter.
fn bundle_carries_checked_cosignatures(th: &Desk, root: &Path, cosigned: u64) {
    use ed25519_dalek::Signer;
    use kdesk::audit::bundle::verify;
    use prost::Message;
    let b = root.join("th.bundle");
    let (code, _, err) = outcome(&run(&[
        "audit",
        "export",
        "--data-dir",
        s(&th.dir),
        "--out",
        s(&b),
    ]));
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&b).unwrap();
    let report = verify(&bytes, None, &|_, _| {}).expect("TH's bundle verifies");
    assert_eq!(report.witnessed_by.get("KR"), Some(&cosigned), "{report:?}");

    let key = kdesk::keys::load_signing_key(&th.dir.join("keys/signing.key")).unwrap();
    let orig = kdesk::audit::bundle::read_unverified(&bytes).unwrap();
    assert_eq!(orig.witnessed_heads.len(), 1);
    let expect_fail = |what: &str, b: kdesk::pb::AuditBundle, needle: &str| {
        let err = verify(&common::resign(&b, &key), None, &|_, _| {})
            .expect_err(what)
            .to_string();
        assert!(err.contains(needle), "{what}: {err}");
    };
    // TH cannot make up KR's cosignature: signing it with its own key fails...
    let mut forged = orig.clone();
    let c = &mut forged.witnessed_heads[0].cosignatures[0];
    let mut m = kdesk::audit::witness::COSIGNATURE_CONTEXT.to_vec();
    m.extend_from_slice(&c.body);
    c.signature = key.sign(&m).to_bytes().to_vec();
    expect_fail("forged cosignature", forged, "cosignature does not verify");
    // ...and so does moving KR's cosignature onto another head.
    let mut moved = orig.clone();
    let c = &mut moved.witnessed_heads[0].cosignatures[0];
    let n = c.body.len() - 3;
    c.body[n] ^= 0x01;
    expect_fail("altered cosignature body", moved, "cosignature");
    // A truncated consistency proof, or a history rewritten after KR saw it, fails.
    let mut truncated = orig.clone();
    if truncated.witnessed_heads[0]
        .consistency_proof
        .pop()
        .is_some()
    {
        expect_fail(
            "truncated consistency proof",
            truncated,
            "consistency proof",
        );
    }
    let mut rewritten = orig.clone();
    let wh = &mut rewritten.witnessed_heads[0];
    let mut head =
        kdesk::pb::TreeHead::decode(wh.tree_head.as_ref().unwrap().head.as_slice()).unwrap();
    head.root[0] ^= 0xff;
    let hb = head.encode_to_vec();
    let mut m = kdesk::audit::bundle::TREE_HEAD_CONTEXT.to_vec();
    m.extend_from_slice(&hb);
    wh.tree_head = Some(kdesk::pb::SignedTreeHead {
        signature: key.sign(&m).to_bytes().to_vec(),
        key_id: wh.tree_head.as_ref().unwrap().key_id.clone(),
        head: hb,
    });
    expect_fail(
        "head rewritten after witnessing",
        rewritten,
        "consistency proof",
    );
    let mut none = orig.clone();
    none.witnessed_heads[0].cosignatures.clear();
    expect_fail("witnessed head without cosignature", none, "no cosignature");
}

#[test]
fn partners_cosign_each_others_logs_and_catch_rollback_and_split_view() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    let (kr, th, mut kr_node, mut th_node) = linked_kr_th(root);
    let alert = |tag: String| {
        example("cargo-express-methamphetamine.json", move |v| {
            v["title"] = tag.into()
        })
    };
    for i in 0..3 {
        issue(&th.dir, root, &alert(format!("first {i}")));
    }
    // TH's log: its admin event (KR registered) and three alerts.
    let len = status(&th.dir)["log_length"].as_u64().unwrap();
    assert_eq!(len, 4);
    wait_until(
        "KR cosigned TH's head and TH collected the cosignature",
        || {
            witness_of(&kr.dir, "TH")["seen_size"] == len
                && witness_of(&th.dir, "KR")["cosigned_size"] == len
        },
    );
    assert!(witness_of(&kr.dir, "TH")["state"]
        .as_str()
        .unwrap()
        .starts_with("ok"));
    assert_eq!(status(&kr.dir)["witness_evidence"], 0);
    bundle_carries_checked_cosignatures(&th, root, len);

    // TH's operator backs up the database, then TH grows and KR sees it grow.
    th_node.child.kill().unwrap();
    th_node.child.wait().unwrap();
    drop(th_node);
    copy_dir(&th.dir.join("db"), &root.join("th-db-backup"));
    let th_node = Node::start(&th.dir);
    for i in 0..2 {
        issue(&th.dir, root, &alert(format!("second {i}")));
    }
    wait_until("KR saw TH's log grow consistently", || {
        witness_of(&kr.dir, "TH")["seen_size"] == len + 2
    });

    // Rollback: TH is restored from the backup and serves its older, smaller log.
    drop(th_node);
    std::fs::remove_dir_all(th.dir.join("db")).unwrap();
    copy_dir(&root.join("th-db-backup"), &th.dir.join("db"));
    let _th_node = Node::start(&th.dir);
    // (After a grace period in which a restore declaration could have explained it.)
    wait_for("KR detected the rollback", Duration::from_secs(60), || {
        status(&kr.dir)["witness_evidence"] == 1
    });
    assert!(
        witness_of(&kr.dir, "TH")["state"]
            .as_str()
            .unwrap()
            .contains("ALARM: rollback"),
        "{}",
        witness_of(&kr.dir, "TH")
    );
    // Split view: the restored TH signs other records into the same positions.
    for i in 0..2 {
        issue(&th.dir, root, &alert(format!("rewritten {i}")));
    }
    wait_until("KR detected the split view", || {
        status(&kr.dir)["witness_evidence"] == 2
    });
    assert_eq!(
        witness_of(&kr.dir, "TH")["seen_size"],
        len + 2,
        "KR keeps the last consistent head"
    );

    // The evidence survives a restart and proves itself: two heads signed by TH's key that
    // cannot both be true.
    kr_node.signal_and_wait(libc::SIGTERM);
    drop(kr_node);
    let _kr_node = Node::start(&kr.dir);
    let (code, out, err) = outcome(&run(&[
        "audit",
        "witness",
        "--data-dir",
        s(&kr.dir),
        "--json",
    ]));
    assert_eq!(code, 1, "evidence held must fail the command: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let th_key = kdesk::keys::parse_public_key(&public_key(&th)).unwrap();
    let open = |h: &Value| {
        let sth = kdesk::pb::SignedTreeHead {
            head: hex::decode(h["head"].as_str().unwrap()).unwrap(),
            signature: hex::decode(h["signature"].as_str().unwrap()).unwrap(),
            key_id: hex::decode(h["key_id"].as_str().unwrap()).unwrap(),
        };
        kdesk::audit::witness::open_head(&sth, &[th_key]).expect("signed by TH")
    };
    let mut kinds = vec![];
    for e in v["evidence"].as_array().unwrap() {
        let (a, b) = (open(&e["earlier"]), open(&e["presented"]));
        match e["kind"].as_str().unwrap() {
            "rollback" => assert!(b.size < a.size, "{e}"),
            "split-view" => assert!(a.size == b.size && a.root != b.root, "{e}"),
            k => panic!("unexpected evidence {k}"),
        }
        kinds.push(e["kind"].as_str().unwrap().to_owned());
    }
    kinds.sort();
    assert_eq!(kinds, ["rollback", "split-view"]);
    let (code, out, _) = outcome(&run(&["status", "--data-dir", s(&kr.dir)]));
    assert_eq!(code, 0);
    assert!(out.contains("LOG ALARM"), "{out}");
}
