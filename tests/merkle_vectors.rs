//! RFC 6962 Merkle proofs against the transparency-dev vectors (tests/fixtures/merkle/): every
//! case is answered as the vectors say, and the proofs kdesk generates for the standard test
//! leaves are exactly the published ones.

use std::path::Path;

use base64::Engine;
use kdesk::audit::merkle::{
    consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency, verify_inclusion, Hash,
};
use serde_json::Value;

fn b64(v: &Value) -> Vec<u8> {
    match v.as_str() {
        Some(s) => base64::engine::general_purpose::STANDARD
            .decode(s)
            .expect("base64"),
        None => vec![],
    }
}

fn proof(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .map(|a| a.iter().map(b64).collect())
        .unwrap_or_default()
}

fn cases(kind: &str) -> Vec<(String, Value)> {
    let mut out = vec![];
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/merkle")
        .join(kind)];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                out.push((p.display().to_string(), v));
            }
        }
    }
    out
}

#[test]
fn inclusion_vectors() {
    let all = cases("inclusion");
    assert_eq!(all.len(), 98);
    for (name, v) in all {
        let r = verify_inclusion(
            v["leafIdx"].as_u64().unwrap(),
            v["treeSize"].as_u64().unwrap(),
            &b64(&v["leafHash"]),
            &proof(&v["proof"]),
            &b64(&v["root"]),
        );
        assert_eq!(
            r.is_err(),
            v["wantErr"].as_bool().unwrap(),
            "{name}: {} -> {r:?}",
            v["desc"]
        );
    }
}

#[test]
fn consistency_vectors() {
    let all = cases("consistency");
    assert_eq!(all.len(), 98);
    for (name, v) in all {
        let r = verify_consistency(
            v["size1"].as_u64().unwrap(),
            v["size2"].as_u64().unwrap(),
            &b64(&v["root1"]),
            &b64(&v["root2"]),
            &proof(&v["proof"]),
        );
        assert_eq!(
            r.is_err(),
            v["wantErr"].as_bool().unwrap(),
            "{name}: {} -> {r:?}",
            v["desc"]
        );
    }
}

/// The RFC 6962 reference leaves used by the vectors.
fn reference_leaves() -> Vec<Hash> {
    let data: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    data.iter().map(|d| leaf_hash(d)).collect()
}

#[test]
fn generated_proofs_match_the_published_happy_paths() {
    let leaves = reference_leaves();
    let mut checked = 0;
    for (name, v) in cases("inclusion") {
        if v["wantErr"].as_bool().unwrap() || !name.ends_with("happy-path.json") {
            continue;
        }
        let n = v["treeSize"].as_u64().unwrap() as usize;
        let i = v["leafIdx"].as_u64().unwrap() as usize;
        assert!(n <= leaves.len(), "{name}");
        assert_eq!(root(&leaves[..n]).to_vec(), b64(&v["root"]), "{name}");
        assert_eq!(leaves[i].to_vec(), b64(&v["leafHash"]), "{name}");
        let p: Vec<Vec<u8>> = inclusion_proof(i, &leaves[..n])
            .unwrap()
            .iter()
            .map(|h| h.to_vec())
            .collect();
        assert_eq!(p, proof(&v["proof"]), "{name}");
        checked += 1;
    }
    for (name, v) in cases("consistency") {
        if v["wantErr"].as_bool().unwrap() || !name.ends_with("happy-path.json") {
            continue;
        }
        let (m, n) = (
            v["size1"].as_u64().unwrap() as usize,
            v["size2"].as_u64().unwrap() as usize,
        );
        assert_eq!(root(&leaves[..m]).to_vec(), b64(&v["root1"]), "{name}");
        assert_eq!(root(&leaves[..n]).to_vec(), b64(&v["root2"]), "{name}");
        let p: Vec<Vec<u8>> = consistency_proof(m, &leaves[..n])
            .unwrap()
            .iter()
            .map(|h| h.to_vec())
            .collect();
        assert_eq!(p, proof(&v["proof"]), "{name}");
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} happy paths checked");
}
