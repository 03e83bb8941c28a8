//! How `verify_strict` (kdesk's only signature check) answers the published Ed25519 vectors.
//!
//! Decision, documented in docs/PROTOCOL.md §2: kdesk accepts exactly what Wycheproof calls
//! `valid` and refuses everything it calls `invalid` (malleable S, truncated or padded
//! signatures, bad encodings). The RFC 8032 §7.1 vectors must all verify.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde_json::Value;

fn verify(pk: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let Ok(pk) = <[u8; 32]>::try_from(pk) else {
        return false;
    };
    let Ok(pk) = VerifyingKey::from_bytes(&pk) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(sig) else {
        return false;
    };
    pk.verify_strict(msg, &sig).is_ok()
}

#[test]
fn wycheproof_valid_accepted_invalid_refused() {
    let v: Value = serde_json::from_str(include_str!(
        "fixtures/wycheproof/wycheproof_ed25519_test.json"
    ))
    .unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in v["testGroups"].as_array().unwrap() {
        let pk = hex::decode(group["publicKey"]["pk"].as_str().unwrap()).unwrap();
        for t in group["tests"].as_array().unwrap() {
            let msg = hex::decode(t["msg"].as_str().unwrap()).unwrap();
            let sig = hex::decode(t["sig"].as_str().unwrap()).unwrap();
            let ok = verify(&pk, &msg, &sig);
            match t["result"].as_str().unwrap() {
                "valid" => {
                    assert!(
                        ok,
                        "tcId {} valid but refused ({})",
                        t["tcId"], t["comment"]
                    );
                    valid += 1;
                }
                "invalid" => {
                    assert!(
                        !ok,
                        "tcId {} invalid but accepted ({})",
                        t["tcId"], t["comment"]
                    );
                    invalid += 1;
                }
                r => panic!("unexpected result {r}"),
            }
        }
    }
    assert_eq!(valid + invalid, 151, "all vectors checked");
    eprintln!("wycheproof: {valid} valid accepted, {invalid} invalid refused");
}

/// RFC 8032 §7.1 TEST 1-3 (secret key, public key, message, signature).
#[test]
fn rfc8032_section_7_1() {
    let cases = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];
    for (sk, pk, msg, sig) in cases {
        let sk = SigningKey::from_bytes(&hex::decode(sk).unwrap().try_into().unwrap());
        assert_eq!(hex::encode(sk.verifying_key().as_bytes()), pk);
        let msg = hex::decode(msg).unwrap();
        assert_eq!(hex::encode(sk.sign(&msg).to_bytes()), sig);
        assert!(verify(
            &hex::decode(pk).unwrap(),
            &msg,
            &hex::decode(sig).unwrap()
        ));
        let mut bad = hex::decode(sig).unwrap();
        bad[0] ^= 1;
        assert!(!verify(&hex::decode(pk).unwrap(), &msg, &bad));
    }
}
