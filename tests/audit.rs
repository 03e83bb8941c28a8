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
    let orig = bundle::read_unverified(&std::fs::read(&b).unwrap()).unwrap();
    assert!(orig.entries.iter().all(|e| e.inclusion_proof.is_empty()));
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
    expect_fail("dropped record", dropped.clone(), "a record is missing");
    let mut last_dropped = orig.clone();
    last_dropped.entries.pop();
    expect_fail("dropped last record", last_dropped, "records were dropped");
    // Even when it claims the export was filtered (with proofs for what it kept), its own
    // sequence numbers give it away.
    let mut dropped = with_proofs(orig.clone());
    dropped.entries.remove(1);
    dropped.complete = false;
    expect_fail(
        "dropped own record in a 'filtered' bundle",
        dropped,
        "a record it signed is missing",
    );

    let mut reordered = orig.clone();
    reordered.entries.swap(0, 1);
    expect_fail("reordered records", reordered, "reordered");

    let mut duplicated = orig.clone();
    let first = duplicated.entries[0].clone();
    duplicated.entries.insert(1, first);
    duplicated.complete = false;
    expect_fail("duplicated record", duplicated, "strictly increasing");

    let mut truncated = with_proofs(orig.clone());
    truncated.complete = false;
    truncated.entries[2].inclusion_proof.pop();
    expect_fail("truncated proof", truncated, "inclusion proof");
    // A complete bundle is checked against the tree rebuilt from its entries, not proofs.
    expect_fail(
        "proofs in a complete bundle",
        with_proofs(orig.clone()),
        "carries an inclusion proof",
    );

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
    expect_fail(
        "rewritten root",
        rewritten.clone(),
        "tree rebuilt from the entries",
    );
    let mut rewritten = with_proofs(rewritten);
    rewritten.complete = false;
    expect_fail("rewritten root, filtered", rewritten, "inclusion proof");
}

/// The bundle with an inclusion proof in every entry (as a filtered export carries them),
/// computed from its own entries.
fn with_proofs(mut b: pb::AuditBundle) -> pb::AuditBundle {
    use kdesk::audit::merkle;
    let leaves: Vec<merkle::Hash> = b
        .entries
        .iter()
        .map(|e| {
            bundle::record_leaf(&kdesk::record::RecordId::of_body(
                &e.envelope.as_ref().unwrap().body,
            ))
        })
        .collect();
    for e in &mut b.entries {
        let pos = usize::try_from(e.position).unwrap();
        e.inclusion_proof = merkle::inclusion_proof(pos, &leaves)
            .unwrap()
            .iter()
            .map(|h| h.to_vec())
            .collect();
    }
    b
}

#[test]
fn only_the_canonical_encoding_verifies() {
    let t = tempfile::tempdir().unwrap();
    let (dir, b, _node) = node_with_bundle(t.path());
    let bytes = std::fs::read(&b).unwrap();
    assert!(bytes.starts_with(bundle::STREAM_MAGIC));
    assert!(verify(&bytes).is_ok());
    let magic = bundle::STREAM_MAGIC.len();
    let first_len = usize::from(bytes[magic]);
    assert!(
        first_len < 0x80 || bytes[magic + 1] < 0x80,
        "a short header"
    );
    // A valid frame appended after the trailer.
    let mut appended = bytes.clone();
    let extra = pb::BundleFrame {
        frame: Some(pb::bundle_frame::Frame::Entry(pb::BundleEntry::default())),
    }
    .encode_length_delimited_to_vec();
    appended.extend_from_slice(&extra);
    let e = verify(&appended).unwrap_err();
    assert!(e.message.contains("bytes follow the trailer"), "{e:?}");
    // A frame length that is not minimal (one more continuation byte): the same number.
    let (len, used) = {
        let l = prost::decode_length_delimiter(&bytes[magic..]).unwrap();
        (l, prost::length_delimiter_len(l))
    };
    let mut longer = bytes[..magic].to_vec();
    let mut varint = Vec::new();
    prost::encode_length_delimiter(len, &mut varint).unwrap();
    let last = varint.len() - 1;
    varint[last] |= 0x80;
    varint.push(0x00);
    assert_eq!(
        prost::decode_length_delimiter(varint.as_slice()).unwrap(),
        len
    );
    longer.extend_from_slice(&varint);
    longer.extend_from_slice(&bytes[magic + used..]);
    let e = verify(&longer).unwrap_err();
    assert!(e.message.contains("not minimally encoded"), "{e:?}");
    // The trailer's fields in another order: the same message, not what kdesk wrote.
    let key = kdesk::keys::load_signing_key(&dir.join("keys/signing.key")).unwrap();
    let orig = bundle::read_unverified(&bytes).unwrap();
    let good = bundle::encode_signed(&orig, &key);
    assert_eq!(good.len(), bytes.len());
    let mut frames = vec![];
    let mut at = magic;
    while at < good.len() {
        let l = prost::decode_length_delimiter(&good[at..]).unwrap();
        let u = prost::length_delimiter_len(l);
        frames.push(good[at + u..at + u + l].to_vec());
        at += u + l;
    }
    let trailer = match pb::BundleFrame::decode(frames.last().unwrap().as_slice())
        .unwrap()
        .frame
    {
        Some(pb::bundle_frame::Frame::Trailer(t)) => t,
        other => panic!("last frame is {other:?}"),
    };
    let mut inner = Vec::new();
    pb::BundleTrailer {
        key_id: trailer.key_id.clone(),
        ..Default::default()
    }
    .encode(&mut inner)
    .unwrap();
    pb::BundleTrailer {
        entries: trailer.entries,
        digest: trailer.digest.clone(),
        signature: trailer.signature.clone(),
        ..Default::default()
    }
    .encode(&mut inner)
    .unwrap();
    assert_eq!(
        pb::BundleTrailer::decode(inner.as_slice()).unwrap(),
        trailer
    );
    let mut reframed = Vec::new();
    prost::encoding::encode_key(3, prost::encoding::WireType::LengthDelimited, &mut reframed);
    prost::encoding::encode_varint(inner.len() as u64, &mut reframed);
    reframed.extend_from_slice(&inner);
    let last = frames.last().unwrap().len();
    let mut reordered = good[..good.len() - last - prost::length_delimiter_len(last)].to_vec();
    prost::encode_length_delimiter(reframed.len(), &mut reordered).unwrap();
    reordered.extend_from_slice(&reframed);
    let e = verify(&reordered).unwrap_err();
    assert!(e.message.contains("not canonically encoded"), "{e:?}");
    // Cut short anywhere, it fails.
    let e = verify(&bytes[..bytes.len() - 10]).unwrap_err();
    assert!(e.message.contains("cut short"), "{e:?}");
}

#[test]
fn a_version_1_bundle_still_verifies() {
    // Bundles exported before the streamed form: one signed message, a proof per entry.
    let t = tempfile::tempdir().unwrap();
    let (dir, b, _node) = node_with_bundle(t.path());
    let key = kdesk::keys::load_signing_key(&dir.join("keys/signing.key")).unwrap();
    let mut v1 = with_proofs(bundle::read_unverified(&std::fs::read(&b).unwrap()).unwrap());
    v1.version = bundle::BUNDLE_VERSION_1;
    let sign = |v1: &pb::AuditBundle| {
        let body = v1.encode_to_vec();
        let mut m = bundle::BUNDLE_CONTEXT.to_vec();
        m.extend_from_slice(&body);
        pb::AuditBundleFile {
            signature: key.sign(&m).to_bytes().to_vec(),
            key_id: kdesk::record::KeyId::of(&key.verifying_key()).0.to_vec(),
            bundle: body,
        }
        .encode_to_vec()
    };
    let report = verify(&sign(&v1)).expect("a version 1 bundle verifies");
    assert_eq!(report.records, 4);
    assert!(report.complete);
    v1.entries[1].inclusion_proof.pop();
    let e = verify(&sign(&v1)).unwrap_err();
    assert!(e.to_string().contains("inclusion proof"), "{e}");
}
