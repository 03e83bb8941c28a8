//! # kdesk — a secure federated data-exchange node for partner customs desks
//!
//! Each desk (Korea and its partners: Thailand, Vietnam, Malaysia, the USA, the Netherlands,
//! ...) runs one kdesk node. A node **signs** high-risk traveler and cargo alerts with its
//! Ed25519 key, **stores** them durably in sled, and serves them to the officers and national
//! systems of its desk through a local Admin API; partner nodes exchange them over mutually
//! authenticated gRPC.
//!
//! The crate is organised by concern:
//!
//! - [`model`]: checked domain types. Identifiers (ISO 6346 containers, UPU S10 items, IATA
//!   air waybills, IMO numbers, ICAO 9303 documents, HS codes, UN/LOCODEs, ISO 3166 countries)
//!   cannot hold an invalid value; alerts parse from JSON or protobuf with field-level errors.
//! - [`record`]: signed records: the envelope, the signed message, record and key ids,
//!   `verify_strict` verification. Specified for auditors in `docs/PROTOCOL.md`.
//! - [`keys`]: key files (0600, refused when readable by others) and public-key checks.
//! - [`store`]: the sled keyspaces, one transaction per record, flush before acknowledgement.
//! - [`config`]: the node's TOML configuration.
//! - [`node`]: the `kdesk serve` process: Admin gRPC service on a Unix socket, shutdown.
//! - [`client`]: the Admin API client used by the CLI.
//! - [`cli`]: the `kdesk` command line.

pub mod audit;
pub mod config;
pub mod federation;
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
