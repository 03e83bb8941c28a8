//! Auditing: the transparency log and its offline verification.
//!
//! - [`merkle`]: RFC 6962 / RFC 9162 hashing, inclusion and consistency proofs, tested against
//!   the published transparency-dev vectors.
//! - [`bundle`]: signed tree heads over the node's log, audit bundle export, and the offline
//!   verifier behind `kdesk audit verify` (format and procedure: `docs/AUDIT.md`).
//! - [`log`]: this node's log as partners and auditors see it: tree heads, proofs, the
//!   durable prefix.
//! - [`witness`]: cosignatures of partners' tree heads and the checks behind them.

pub mod bundle;
pub mod log;
pub mod merkle;
pub mod witness;

/// Decodes a protobuf message that must be in its one canonical encoding: the encoding kdesk
/// writes (fields in field-number order, each at most once, no unknown fields, minimal
/// varints and lengths, default values left out). Anything else was not written by kdesk, so
/// "any changed byte fails" holds for the signed structures auditors check, not only for the
/// signed bytes inside them.
///
/// # Errors
/// The bytes do not decode, or are not the canonical encoding of what they decode to.
pub fn decode_canonical<M: prost::Message + Default>(
    bytes: &[u8],
    what: &str,
) -> Result<M, String> {
    let m = M::decode(bytes).map_err(|e| format!("{what} does not decode: {e}"))?;
    if m.encoded_len() != bytes.len() || m.encode_to_vec() != bytes {
        return Err(format!(
            "{what} is not canonically encoded (a field repeated, reordered or unknown, a default \
             value written out, or a length not minimal)"
        ));
    }
    Ok(m)
}
