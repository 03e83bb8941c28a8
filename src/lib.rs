//! # kdesk — a secure federated data-exchange node for partner customs desks
//!
//! Each desk (Korea and its partners: Thailand, Vietnam, Malaysia, the USA, the Netherlands,
//! ...) runs one kdesk node. A node **signs** high-risk traveler and cargo alerts with its
//! Ed25519 key, **stores** them durably in sled, and serves them to the officers and national
//! systems of its desk through a local Admin API; partner nodes exchange them over mutually
//! authenticated gRPC.
//!
//! The library is built in layers that only point down (`docs/ARCHITECTURE.md` gives the
//! reason for each boundary):
//!
//! - [`model`]: checked domain types. Identifiers (ISO 6346 containers, UPU S10 items, IATA
//!   air waybills, IMO numbers, ICAO 9303 documents, HS codes, UN/LOCODEs, ISO 3166 countries)
//!   cannot hold an invalid value; alerts parse from JSON or protobuf with field-level errors;
//!   text folding for comparing names.
//! - [`record`]: signed records: the envelope, the signed message, record and key ids,
//!   `verify_strict` verification. Specified for auditors in `docs/PROTOCOL.md`. Beside it:
//!   [`keys`] (key files, 0600), [`pki`] (national CAs, node certificates, CRLs) and
//!   [`config`] (the node's TOML configuration).
//! - [`store`]: the sled keyspaces by concern (records and log, lifecycle rules, witness
//!   state, partners, issuing requests), one transaction per batch, one flusher thread, flush
//!   before acknowledgement, the disk reserve.
//! - [`audit`]: the verifiable log (Merkle tree, signed tree heads, proofs, durable prefix),
//!   audit bundles and their offline verifier, witness cosignatures.
//! - [`federation`]: partner registry, TLS 1.3 with client certificates, distribution rules,
//!   the exchange service, replicators and witnesses, working on a narrow
//!   [`federation::Context`] rather than on the node.
//! - [`screen`]: manifests and passenger lists, the screening engine, name matching, the
//!   desk chief's report.
//! - [`node`]: the `kdesk serve` process: wires the above together, issues this node's own
//!   records, serves the Admin API on a Unix socket, stops cleanly.
//!
//! The `kdesk` binary (command line, demo, benchmarks) is a client of this library.

pub mod audit;
pub mod config;
pub mod federation;
pub mod intel;
pub mod keys;
pub mod model;
pub mod node;
pub mod pki;
pub mod record;
pub mod screen;
pub mod store;

/// Generated protobuf and gRPC types of `proto/kdesk/v1/`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("kdesk.v1");
}

/// Encoded file descriptor set of `proto/kdesk/v1/`, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/kdesk_descriptor.bin"));
