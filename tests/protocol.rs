//! `docs/PROTOCOL.md` is true: its worked example is what kdesk produces, and it verifies by
//! the document's own procedure using only ed25519-dalek, SHA-256 and a protobuf decoder.

use std::collections::HashMap;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use kdesk::model::Alert;
use kdesk::pb;
use kdesk::record::{Origin, Record, RecordKind};
use prost::Message;
use sha2::{Digest, Sha256};

/// Fenced blocks tagged "```hex NAME" in the document, whitespace removed, decoded.
fn hex_blocks(doc: &str) -> HashMap<String, Vec<u8>> {
    let mut out = HashMap::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix("```hex ") {
            let mut hex_text = String::new();
            for l in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
                hex_text.push_str(l.trim());
            }
            out.insert(
                name.trim().to_owned(),
                hex::decode(&hex_text).expect("hex block"),
            );
        }
    }
    out
}

fn doc() -> HashMap<String, Vec<u8>> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/PROTOCOL.md"))
        .expect("docs/PROTOCOL.md");
    let b = hex_blocks(&text);
    for k in [
        "secret-key",
        "public-key",
        "key-id",
        "body",
        "signature",
        "record-id",
        "envelope",
    ] {
        assert!(b.contains_key(k), "PROTOCOL.md lacks the {k} block");
    }
    b
}

#[test]
fn worked_example_verifies_by_the_documented_procedure() {
    let b = doc();
    // Only primitives: no kdesk code on this path.
    let pk = VerifyingKey::from_bytes(&b["public-key"].clone().try_into().unwrap()).unwrap();
    assert_eq!(
        Sha256::digest(pk.as_bytes()).as_slice(),
        b["key-id"].as_slice()
    );
    let mut message = b"kdesk/v1/record-signature".to_vec();
    message.push(0);
    message.extend_from_slice(&b["body"]);
    let sig = Signature::from_slice(&b["signature"]).unwrap();
    pk.verify_strict(&message, &sig)
        .expect("documented signature verifies");
    assert_eq!(
        Sha256::digest(&b["body"]).as_slice(),
        b["record-id"].as_slice()
    );
    let body = pb::RecordBody::decode(b["body"].as_slice()).unwrap();
    assert_eq!(body.version, 1);
    assert_eq!(body.seq, 1);
    assert_eq!(body.created_at_ms, 1_795_996_800_000);
    let origin = body.origin.unwrap();
    assert_eq!(
        (origin.country.as_str(), origin.node.as_str()),
        ("TH", "bkk")
    );
    let env = pb::Envelope::decode(b["envelope"].as_slice()).unwrap();
    assert_eq!(env.body, b["body"]);
    assert_eq!(env.signature, b["signature"]);
    assert_eq!(env.key_id, b["key-id"]);
    // A signature over the body without the context must not verify.
    assert!(pk.verify_strict(&b["body"], &sig).is_err());
}

#[test]
fn worked_example_is_what_kdesk_produces() {
    let b = doc();
    let sk = SigningKey::from_bytes(&b["secret-key"].clone().try_into().unwrap());
    assert_eq!(
        sk.verifying_key().as_bytes().as_slice(),
        b["public-key"].as_slice()
    );
    let alert = Alert::from_json(include_str!("fixtures/protocol-example-alert.json")).unwrap();
    let record = Record {
        origin: Origin::parse("TH/bkk").unwrap(),
        seq: 1,
        created_at_ms: 1_795_996_800_000,
        kind: RecordKind::Alert(alert),
    };
    let signed = record.sign(&sk);
    assert_eq!(hex::encode(&signed.envelope.body), hex::encode(&b["body"]));
    assert_eq!(
        signed.envelope.signature, b["signature"],
        "Ed25519 is deterministic"
    );
    assert_eq!(signed.id.0.as_slice(), b["record-id"].as_slice());
    assert_eq!(signed.envelope.encode_to_vec(), b["envelope"]);
    // And kdesk's own verifier accepts it and decodes the same record.
    let v = kdesk::record::verify_envelope(&signed.envelope, |_| Some(sk.verifying_key())).unwrap();
    assert_eq!(v.record, record);
}
