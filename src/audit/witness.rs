//! Witnessing partners' logs: checking their signed tree heads against the last one seen,
//! cosigning the consistent ones, and naming a rollback or a split view when one appears.
//!
//! A partner's log may only grow. A witness keeps the last head of each partner it verified;
//! a new head of the same size must carry the same root, a smaller one is a rollback, and a
//! larger one must come with an RFC 9162 consistency proof from the one seen. Two heads signed
//! by the same key that cannot both be true are the evidence: anyone can check them.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use prost::Message;

use super::bundle::TREE_HEAD_CONTEXT;
use super::merkle::{self, Hash};
use crate::pb;
use crate::record::{KeyId, Origin};

/// Context of cosignatures.
pub const COSIGNATURE_CONTEXT: &[u8] = b"kdesk/v1/cosignature\x00";
/// A head claiming a time further than this in the future is refused.
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// A tree head whose signature has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Whose log.
    pub origin: Origin,
    /// Number of leaves.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// When it was signed (ms since the epoch, the signer's clock).
    pub timestamp_ms: i64,
}

fn with_context(context: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut m = context.to_vec();
    m.extend_from_slice(bytes);
    m
}

fn key_id(raw: &[u8], what: &str) -> Result<KeyId, String> {
    <[u8; 32]>::try_from(raw)
        .map(KeyId)
        .map_err(|_| format!("{what}: key id is not 32 bytes"))
}

/// Checks a signed tree head with one of `keys` (chosen by key id, `verify_strict`) and decodes
/// it.
///
/// # Errors
/// Unknown key, bad signature, undecodable head, missing origin or malformed root.
pub fn open_head(sth: &pb::SignedTreeHead, keys: &[VerifyingKey]) -> Result<Head, String> {
    let kid = key_id(&sth.key_id, "tree head")?;
    let key = keys
        .iter()
        .find(|k| KeyId::of(k) == kid)
        .ok_or_else(|| format!("tree head signed with unknown key {}", &kid.to_hex()[..16]))?;
    let sig = Signature::from_slice(&sth.signature)
        .map_err(|_| "tree head signature is not 64 bytes".to_string())?;
    key.verify_strict(&with_context(TREE_HEAD_CONTEXT, &sth.head), &sig)
        .map_err(|_| "tree head signature does not verify".to_string())?;
    decode_head(&sth.head)
}

/// Decodes an encoded `TreeHead` (no signature check).
///
/// # Errors
/// Undecodable head, bad origin or root.
pub fn decode_head(bytes: &[u8]) -> Result<Head, String> {
    let h: pb::TreeHead = super::decode_canonical(bytes, "tree head")?;
    let o = h.origin.as_ref().ok_or("tree head names no origin")?;
    let origin = Origin::parse(&format!("{}/{}", o.country, o.node))
        .map_err(|e| format!("tree head origin: {e}"))?;
    let root: Hash = h
        .root
        .as_slice()
        .try_into()
        .map_err(|_| "tree head root is not 32 bytes".to_string())?;
    Ok(Head {
        origin,
        size: h.size,
        root,
        timestamp_ms: h.timestamp_ms,
    })
}

/// Cosigns a partner's signed tree head (its exact encoded bytes).
pub fn cosign(key: &SigningKey, witness: &Origin, head: &[u8], now_ms: i64) -> pb::Cosignature {
    let body = pb::CosignatureBody {
        witness: Some(witness.to_pb()),
        tree_head: head.to_vec(),
        witnessed_at_ms: now_ms,
    }
    .encode_to_vec();
    pb::Cosignature {
        signature: key
            .sign(&with_context(COSIGNATURE_CONTEXT, &body))
            .to_bytes()
            .to_vec(),
        key_id: KeyId::of(&key.verifying_key()).0.to_vec(),
        body,
    }
}

/// A cosignature whose signature has been checked.
#[derive(Debug, Clone)]
pub struct Cosigned {
    /// Who cosigned.
    pub witness: Origin,
    /// The encoded tree head cosigned.
    pub tree_head: Vec<u8>,
    /// When.
    pub witnessed_at_ms: i64,
}

/// Checks a cosignature with `key` (`verify_strict`) and decodes it.
///
/// # Errors
/// Key id mismatch, bad signature, undecodable body or witness.
pub fn open_cosignature(c: &pb::Cosignature, key: &VerifyingKey) -> Result<Cosigned, String> {
    if key_id(&c.key_id, "cosignature")? != KeyId::of(key) {
        return Err("cosignature names another key than its witness's".into());
    }
    let sig = Signature::from_slice(&c.signature)
        .map_err(|_| "cosignature is not 64 bytes".to_string())?;
    key.verify_strict(&with_context(COSIGNATURE_CONTEXT, &c.body), &sig)
        .map_err(|_| "cosignature does not verify".to_string())?;
    let b: pb::CosignatureBody = super::decode_canonical(&c.body, "cosignature body")?;
    let w = b.witness.as_ref().ok_or("cosignature names no witness")?;
    let witness = Origin::parse(&format!("{}/{}", w.country, w.node))
        .map_err(|e| format!("cosignature witness: {e}"))?;
    Ok(Cosigned {
        witness,
        tree_head: b.tree_head,
        witnessed_at_ms: b.witnessed_at_ms,
    })
}

/// The witness's key id named by a cosignature, without checking anything.
pub fn cosignature_key(c: &pb::Cosignature) -> Option<KeyId> {
    key_id(&c.key_id, "cosignature").ok()
}

/// What a new head means against the last one seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Nothing seen before (or only the empty tree): accept.
    First,
    /// Same size and root: nothing new.
    Same,
    /// Larger: accept once a consistency proof from `from` checks.
    NeedsProof {
        /// Size of the head seen.
        from: u64,
    },
    /// Smaller than a head already seen.
    Rollback,
    /// Another root for a size already seen.
    SplitView,
}

/// Compares a new head with the last one seen from the same origin.
pub fn judge(seen: Option<&Head>, new: &Head) -> Judgement {
    match seen {
        None => Judgement::First,
        Some(s) if new.size < s.size => Judgement::Rollback,
        Some(s) if new.size == s.size && new.root != s.root => Judgement::SplitView,
        Some(s) if new.size == s.size => Judgement::Same,
        Some(s) if s.size == 0 => Judgement::First,
        Some(s) => Judgement::NeedsProof { from: s.size },
    }
}

/// Checks the consistency proof that `new` extends `seen`.
///
/// # Errors
/// The proof does not connect the two roots.
pub fn check_extends(seen: &Head, new: &Head, proof: &[Vec<u8>]) -> Result<(), String> {
    merkle::verify_consistency(seen.size, new.size, &seen.root, &new.root, proof)
        .map_err(|e| format!("consistency proof from {} to {}: {e}", seen.size, new.size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::bundle::sign_tree_head;
    use crate::audit::merkle::{consistency_proof, leaf_hash, root};

    fn key(b: u8) -> SigningKey {
        SigningKey::from_bytes(&[b; 32])
    }

    fn origin(s: &str) -> Origin {
        Origin::parse(s).unwrap()
    }

    fn leaves(n: usize, tag: u8) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&[tag, i as u8])).collect()
    }

    #[test]
    fn growth_same_rollback_and_split_view_are_told_apart() {
        let k = key(7);
        let th = origin("TH/bangkok");
        let l = leaves(9, 1);
        let head = |n: usize, ls: &[Hash]| {
            let sth = sign_tree_head(&k, &th, n as u64, root(&ls[..n]), 1_000);
            open_head(&sth, &[k.verifying_key()]).unwrap()
        };
        let h5 = head(5, &l);
        let h9 = head(9, &l);
        assert_eq!(judge(None, &h5), Judgement::First);
        assert_eq!(judge(Some(&h5), &h5), Judgement::Same);
        assert_eq!(judge(Some(&h5), &h9), Judgement::NeedsProof { from: 5 });
        let proof: Vec<Vec<u8>> = consistency_proof(5, &l)
            .unwrap()
            .iter()
            .map(|h| h.to_vec())
            .collect();
        check_extends(&h5, &h9, &proof).unwrap();
        assert_eq!(judge(Some(&h9), &h5), Judgement::Rollback);
        // A forked log: the same first four leaves, then another fifth.
        let mut fork = l.clone();
        fork[4] = leaf_hash(b"other");
        let f5 = head(5, &fork);
        let f9 = head(9, &fork);
        assert_eq!(judge(Some(&h5), &f5), Judgement::SplitView);
        // The fork's honest proof does not connect to the head seen.
        let fproof: Vec<Vec<u8>> = consistency_proof(5, &fork)
            .unwrap()
            .iter()
            .map(|h| h.to_vec())
            .collect();
        assert!(check_extends(&h5, &f9, &fproof).is_err());
    }

    #[test]
    fn heads_and_cosignatures_need_the_right_key() {
        let (k, other) = (key(7), key(8));
        let th = origin("TH/bangkok");
        let sth = sign_tree_head(&k, &th, 3, root(&leaves(3, 2)), 5);
        assert!(open_head(&sth, &[other.verifying_key()]).is_err());
        let mut forged = sth.clone();
        let last = forged.head.len() - 1;
        forged.head[last] ^= 1;
        assert!(open_head(&forged, &[k.verifying_key()]).is_err());

        let kr = origin("KR/seoul");
        let c = cosign(&other, &kr, &sth.head, 9);
        let got = open_cosignature(&c, &other.verifying_key()).unwrap();
        assert_eq!(got.witness, kr);
        assert_eq!(got.tree_head, sth.head);
        assert!(open_cosignature(&c, &k.verifying_key()).is_err());
        let mut bad = c.clone();
        bad.body[0] ^= 1;
        assert!(open_cosignature(&bad, &other.verifying_key()).is_err());
    }
}
