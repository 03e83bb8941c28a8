//! Audit bundles: exported from a real node, verified offline; tampering by a third party and
//! by the exporting node itself is detected.

mod common;

use std::path::Path;

use common::{example, init, outcome, run, s, write, Node};
use ed25519_dalek::Signer;
use kdesk::audit::bundle;
use kdesk::pb;
use prost::Message;

/// A node with a few records (alerts, an amendment, a retraction) and a complete bundle.
fn node_with_bundle(root: &Path) -> (std::path::PathBuf, std::path::PathBuf, Node) {
    let dir = root.join("kr");
    init(&dir, "KR", "seoul");
    let node = Node::start(&dir);
    let mut ids = vec![];
    for name in [
        "cargo-express-methamphetamine.json",
        "traveler-air-ketamine.json",
        "cargo-postal-ketamine.json",
    ] {
        let v = common::issue(&dir, root, &example(name, |_| {}));
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let (code, _, err) = outcome(&run(&[
        "alert",
        "retract",
        "--data-dir",
        s(&dir),
        &ids[1],
        "--reason",
        "cleared",
    ]));
    assert_eq!(code, 0, "{err}");
    let bundle = root.join("kr.bundle");
    let (code, out, err) = outcome(&run(&[
        "audit",
        "export",
        "--data-dir",
        s(&dir),
        "--out",
        s(&bundle),
    ]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("exported 4 record(s) of a log of 4 (complete)"),
        "{out}"
    );
    (dir, bundle, node)
}

fn verify(bytes: &[u8]) -> Result<bundle::AuditReport, bundle::AuditFailure> {
    bundle::verify(bytes, None, &|_, _| {})
}

#[test]
fn export_then_verify_offline_with_and_without_trust() {
    let t = tempfile::tempdir().unwrap();
    let (dir, b, _node) = node_with_bundle(t.path());
    let (code, out, err) = outcome(&run(&["audit", "verify", s(&b), "--json"]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["report"]["records"], 4);
    assert_eq!(v["report"]["complete"], true);
    assert_eq!(v["report"]["keys_trusted"], false);

    let trust = write(
        t.path(),
        "trust.txt",
        &format!(
            "# KR desk\nKR {}\n",
            std::fs::read_to_string(dir.join("keys/signing.pub"))
                .unwrap()
                .trim()
        ),
    );
    let (code, out, err) = outcome(&run(&["audit", "verify", s(&b), "--trust", s(&trust)]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("VERIFIED") && out.contains("all in the trust file"),
        "{out}"
    );

    let other = write(
        t.path(),
        "other.txt",
        &format!(
            "{}\n",
            hex::encode(kdesk::keys::generate().unwrap().verifying_key().as_bytes())
        ),
    );
    let (code, _, err) = outcome(&run(&["audit", "verify", s(&b), "--trust", s(&other)]));
    assert_eq!(code, 1);
    assert!(err.contains("not in the trust file"), "{err}");

    // A country in the trust file binds the key to that desk, and is written in capitals.
    let kr_key = std::fs::read_to_string(dir.join("keys/signing.pub")).unwrap();
    let wrong = write(t.path(), "wrong.txt", &format!("TH {}\n", kr_key.trim()));
    let (code, _, err) = outcome(&run(&["audit", "verify", s(&b), "--trust", s(&wrong)]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("trusts it for TH"), "{err}");
    let lower = write(t.path(), "lower.txt", &format!("kr {}\n", kr_key.trim()));
    let (code, _, err) = outcome(&run(&["audit", "verify", s(&b), "--trust", s(&lower)]));
    assert_eq!(code, 65, "{err}");
    assert!(err.contains("line 1") && err.contains("capitals"), "{err}");

    // Without a witness a bundle proves only what its exporter signed; an auditor may insist.
    let (code, _, err) = outcome(&run(&["audit", "verify", s(&b), "--require-witness", "1"]));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("0 partner(s) cosigned this log"), "{err}");

    // The node's own tree head matches the bundle's root.
    let (code, out, _) = outcome(&run(&[
        "audit",
        "tree-head",
        "--data-dir",
        s(&dir),
        "--json",
    ]));
    assert_eq!(code, 0);
    let head: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(head["root"], v["report"]["root"]);
}

#[test]
fn any_single_changed_removed_or_duplicated_byte_is_detected() {
    let t = tempfile::tempdir().unwrap();
    let (_dir, b, _node) = node_with_bundle(t.path());
    let bytes = std::fs::read(&b).unwrap();
    verify(&bytes).expect("the untouched bundle verifies");
    for i in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[i] ^= 0x01;
        assert!(
            verify(&flipped).is_err(),
            "bit flip at byte {i} not detected"
        );
        let mut removed = bytes.clone();
        removed.remove(i);
        assert!(
            verify(&removed).is_err(),
            "removal of byte {i} not detected"
        );
        let mut duplicated = bytes.clone();
        duplicated.insert(i, bytes[i]);
        assert!(
            verify(&duplicated).is_err(),
            "duplication of byte {i} not detected"
        );
    }
}

#[test]
fn a_dishonest_exporter_cannot_drop_reorder_or_rewrite() {
    let t = tempfile::tempdir().unwrap();
    let (dir, b, _node) = node_with_bundle(t.path());
    let key = kdesk::keys::load_signing_key(&dir.join("keys/signing.key")).unwrap();
    let file = pb::AuditBundleFile::decode(std::fs::read(&b).unwrap().as_slice()).unwrap();
    let orig = pb::AuditBundle::decode(file.bundle.as_slice()).unwrap();
    assert!(
        verify(&common::resign(&orig, &key)).is_ok(),
        "re-signing alone changes nothing"
    );

    let expect_fail = |what: &str, b: pb::AuditBundle, needle: &str| {
        let err = verify(&common::resign(&b, &key))
            .expect_err(what)
            .to_string();
        assert!(err.contains(needle), "{what}: {err}");
    };
    let mut dropped = orig.clone();
    dropped.entries.remove(1);
    expect_fail("dropped record", dropped.clone(), "records were dropped");
    // Even when it claims the export was filtered, its own sequence numbers give it away.
    dropped.complete = false;
    expect_fail(
        "dropped own record in a 'filtered' bundle",
        dropped,
        "a record it signed is missing",
    );

    let mut reordered = orig.clone();
    reordered.entries.swap(0, 1);
    expect_fail("reordered records", reordered, "strictly increasing");

    let mut duplicated = orig.clone();
    let first = duplicated.entries[0].clone();
    duplicated.entries.insert(1, first);
    duplicated.complete = false;
    expect_fail("duplicated record", duplicated, "strictly increasing");

    let mut truncated = orig.clone();
    truncated.entries[2].inclusion_proof.pop();
    expect_fail("truncated proof", truncated, "inclusion proof");

    let mut altered = orig.clone();
    let env = altered.entries[0].envelope.as_mut().unwrap();
    let n = env.body.len() / 2;
    env.body[n] ^= 0x01;
    expect_fail("altered record", altered, "record signature");

    let mut swapped = orig.clone();
    swapped.keys[0].public_key = kdesk::keys::generate()
        .unwrap()
        .verifying_key()
        .as_bytes()
        .to_vec();
    let err = verify(&common::resign(&swapped, &key))
        .expect_err("swapped key")
        .to_string();
    assert!(err.contains("key"), "swapped key: {err}");

    // A tree head with another root, signed by someone else.
    let mut forged = orig.clone();
    let stranger = kdesk::keys::generate().unwrap();
    let mut sth = forged.tree_head.clone().unwrap();
    let mut m = b"kdesk/v1/tree-head\x00".to_vec();
    m.extend_from_slice(&sth.head);
    sth.signature = stranger.sign(&m).to_bytes().to_vec();
    forged.tree_head = Some(sth);
    expect_fail("forged tree head signature", forged, "tree head signature");

    // A rewritten history: same records, different root in a head the exporter signs.
    let mut rewritten = orig.clone();
    let mut head =
        pb::TreeHead::decode(rewritten.tree_head.as_ref().unwrap().head.as_slice()).unwrap();
    head.root[0] ^= 0xff;
    let hb = head.encode_to_vec();
    let mut m = b"kdesk/v1/tree-head\x00".to_vec();
    m.extend_from_slice(&hb);
    rewritten.tree_head = Some(pb::SignedTreeHead {
        signature: key.sign(&m).to_bytes().to_vec(),
        key_id: rewritten.tree_head.as_ref().unwrap().key_id.clone(),
        head: hb,
    });
    expect_fail("rewritten root", rewritten, "inclusion proof");
}

#[test]
fn only_the_canonical_encoding_verifies() {
    let t = tempfile::tempdir().unwrap();
    let (_dir, b, _node) = node_with_bundle(t.path());
    let bytes = std::fs::read(&b).unwrap();
    assert!(verify(&bytes).is_ok());
    // A valid field appended (the key id again): decodes, but is not what kdesk wrote.
    let f = pb::AuditBundleFile::decode(bytes.as_slice()).unwrap();
    let mut appended = bytes.clone();
    pb::AuditBundleFile {
        key_id: f.key_id.clone(),
        ..Default::default()
    }
    .encode(&mut appended)
    .unwrap();
    let e = verify(&appended).unwrap_err();
    assert!(e.message.contains("not canonically encoded"), "{e:?}");
    // The same fields in another order.
    let mut reordered = Vec::new();
    pb::AuditBundleFile {
        signature: f.signature.clone(),
        ..Default::default()
    }
    .encode(&mut reordered)
    .unwrap();
    pb::AuditBundleFile {
        bundle: f.bundle.clone(),
        key_id: f.key_id.clone(),
        ..Default::default()
    }
    .encode(&mut reordered)
    .unwrap();
    assert_eq!(
        pb::AuditBundleFile::decode(reordered.as_slice()).unwrap(),
        f,
        "the same message"
    );
    let e = verify(&reordered).unwrap_err();
    assert!(e.message.contains("not canonically encoded"), "{e:?}");
}
