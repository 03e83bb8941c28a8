//! Intelligence files and exchange formats (docs/INTEL.md, docs/STIX.md).
//!
//! - [`import`]: intelligence items from JSON Lines and from CSV through a mapping;
//! - [`stix`]: alerts, their versions, retractions and hits as STIX 2.1 objects;
//! - [`stix_in`]: STIX 2.1 bundles (MISP, OpenCTI, kdesk) into intelligence items, with the
//!   parser of the STIX pattern subset kdesk reads.
//!
//! Sits beside `screen` and `federation`: it uses the model (and records) only; the node
//! stores what it reads.

pub mod import;
pub mod stix;
pub mod stix_in;
