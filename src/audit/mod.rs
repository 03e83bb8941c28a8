//! Auditing: the building blocks of the transparency log (issue 5).
//!
//! - [`merkle`]: RFC 6962 / RFC 9162 hashing, inclusion and consistency proofs, tested against
//!   the published transparency-dev vectors.
//! - [`bundle`]: signed tree heads over the node's log, audit bundle export, and the offline
//!   verifier behind `kdesk audit verify` (format and procedure: `docs/AUDIT.md`).

pub mod bundle;
pub mod merkle;
pub mod witness;
