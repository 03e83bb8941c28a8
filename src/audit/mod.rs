//! Auditing: the building blocks of the transparency log (issue 5).
//!
//! - [`merkle`]: RFC 6962 / RFC 9162 hashing, inclusion and consistency proofs, tested against
//!   the published transparency-dev vectors.

pub mod merkle;
