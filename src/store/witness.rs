//! Witness state: this node's signed tree heads, partners' heads seen, cosignatures made and
//! received, and evidence of misbehaviour (the `witness` tree).

use super::*;

// Keys of the `witness` tree (transparency log witnessing, docs/AUDIT.md).
pub(super) const W_OWN_HEAD: u8 = 1; // 1 ‖ size (8) → this node's SignedTreeHead for that size
pub(super) const W_SEEN: u8 = 2; // 2 ‖ country (2) → a partner's last verified, consistent SignedTreeHead
pub(super) const W_MADE: u8 = 3; // 3 ‖ country ‖ size → Cosignature this node made of a partner's head
                                 // (4 held an earlier layout of received cosignatures and is not read.)
pub(super) const W_GOT: u8 = 6; // 6 ‖ country ‖ size → Cosignature a partner made of this node's head
pub(super) const W_EVIDENCE: u8 = 5; // 5 ‖ country ‖ SHA-256(presented head) → WitnessEvidence

pub(super) fn wkey(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut k = vec![tag];
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

impl Store {
    /// This node's signed tree head for a log size, if one was signed.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn own_head(&self, size: u64) -> Result<Option<pb::SignedTreeHead>, StoreError> {
        self.witness
            .get(wkey(W_OWN_HEAD, &[&size.to_be_bytes()]))?
            .map(|v| decode_pb(&v, "own tree head"))
            .transpose()
    }

    /// Keeps this node's signed tree head for its size (the one head of that size).
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_own_head(&self, size: u64, sth: &pb::SignedTreeHead) -> Result<(), StoreError> {
        self.witness.insert(
            wkey(W_OWN_HEAD, &[&size.to_be_bytes()]),
            sth.encode_to_vec(),
        )?;
        Ok(())
    }

    /// The last head of a partner this node verified as consistent.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn seen_head(&self, peer: CountryCode) -> Result<Option<pb::SignedTreeHead>, StoreError> {
        self.witness
            .get(wkey(W_SEEN, &[&peer.bytes()]))?
            .map(|v| decode_pb(&v, "partner tree head"))
            .transpose()
    }

    /// Records a partner head as verified and consistent, with this node's cosignature of it,
    /// in one step.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_witnessed(
        &self,
        peer: CountryCode,
        size: u64,
        sth: &pb::SignedTreeHead,
        cosignature: &pb::Cosignature,
    ) -> Result<(), StoreError> {
        let mut b = sled::Batch::default();
        b.insert(wkey(W_SEEN, &[&peer.bytes()]), sth.encode_to_vec());
        b.insert(
            wkey(W_MADE, &[&peer.bytes(), &size.to_be_bytes()]),
            cosignature.encode_to_vec(),
        );
        self.witness.apply_batch(b)?;
        Ok(())
    }

    /// Cosignatures this node made of a partner's heads of at least `min_size`, newest first.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn cosignatures_made(
        &self,
        peer: CountryCode,
        min_size: u64,
        limit: usize,
    ) -> Result<Vec<pb::Cosignature>, StoreError> {
        let from = wkey(W_MADE, &[&peer.bytes(), &min_size.to_be_bytes()]);
        let to = wkey(W_MADE, &[&peer.bytes(), &u64::MAX.to_be_bytes()]);
        let mut out = vec![];
        for kv in self.witness.range(from..=to).rev().take(limit) {
            out.push(decode_pb(&kv?.1, "cosignature")?);
        }
        Ok(out)
    }

    /// Keeps a partner's cosignature of this node's head of `size`.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_cosignature_received(
        &self,
        size: u64,
        witness: CountryCode,
        c: &pb::Cosignature,
    ) -> Result<(), StoreError> {
        self.witness.insert(
            wkey(W_GOT, &[&witness.bytes(), &size.to_be_bytes()]),
            c.encode_to_vec(),
        )?;
        Ok(())
    }

    /// The largest size (at most `max_size`) of this node's heads that `witness` cosigned.
    ///
    /// # Errors
    /// Storage failure.
    pub fn latest_cosigned(
        &self,
        witness: CountryCode,
        max_size: u64,
    ) -> Result<Option<u64>, StoreError> {
        let from = wkey(W_GOT, &[&witness.bytes(), &0u64.to_be_bytes()]);
        let to = wkey(W_GOT, &[&witness.bytes(), &max_size.to_be_bytes()]);
        match self.witness.range(from..=to).next_back() {
            None => Ok(None),
            Some(kv) => Ok(Some(size_of_key(&kv?.0, 3))),
        }
    }

    /// The cosignature `witness` made of this node's head of `size`, if any.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn cosignature_received(
        &self,
        witness: CountryCode,
        size: u64,
    ) -> Result<Option<pb::Cosignature>, StoreError> {
        self.witness
            .get(wkey(W_GOT, &[&witness.bytes(), &size.to_be_bytes()]))?
            .map(|v| decode_pb(&v, "cosignature"))
            .transpose()
    }

    /// The partners that cosigned any of this node's heads, in country order (one seek each).
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn cosigning_witnesses(&self) -> Result<Vec<CountryCode>, StoreError> {
        let mut out = vec![];
        let mut from = vec![W_GOT];
        while let Some(kv) = self.witness.range(from.clone()..).next() {
            let (k, _) = kv?;
            if k.first() != Some(&W_GOT) {
                break;
            }
            let cc = k
                .get(1..3)
                .and_then(|b| std::str::from_utf8(b).ok())
                .and_then(|c| CountryCode::parse(c).ok())
                .ok_or_else(|| StoreError::Corrupt("cosignature key".into()))?;
            out.push(cc);
            // Just past this country's last possible key.
            from = wkey(W_GOT, &[&cc.bytes(), &u64::MAX.to_be_bytes(), &[0]]);
        }
        Ok(out)
    }

    /// Keeps evidence of a partner's log misbehaviour, once per `dedupe` key (the kind and the
    /// head it contradicts: the first proof of a fork is enough). Returns whether it is new.
    ///
    /// # Errors
    /// Storage failure.
    pub fn put_evidence(
        &self,
        peer: CountryCode,
        dedupe: &[u8],
        e: &pb::WitnessEvidence,
    ) -> Result<bool, StoreError> {
        use sha2::Digest;
        let h: [u8; 32] = sha2::Sha256::digest(dedupe).into();
        let k = wkey(W_EVIDENCE, &[&peer.bytes(), &h]);
        let new = self
            .witness
            .compare_and_swap(k, None as Option<&[u8]>, Some(e.encode_to_vec()))?
            .is_ok();
        Ok(new)
    }

    /// All kept evidence of partners' log misbehaviour.
    ///
    /// # Errors
    /// Storage failure or damaged entry.
    pub fn evidence(&self) -> Result<Vec<pb::WitnessEvidence>, StoreError> {
        self.witness
            .scan_prefix([W_EVIDENCE])
            .map(|kv| decode_pb(&kv?.1, "witness evidence"))
            .collect()
    }
}
