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
