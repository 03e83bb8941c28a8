//! Fault injection for end-to-end tests with real processes. Read once from the environment
//! when the node opens; a node started without these variables behaves normally. Each one
//! set is logged as a warning at start, so a production node cannot run with one unnoticed.
//!
//! | variable | effect |
//! |----------|--------|
//! | `KDESK_FAULT_FLUSH_DELAY_MS=N` | every store flush waits N ms before it starts (a stalling disk) |
//! | `KDESK_FAULT_NO_WORKING_ROOM=1` | writes run into a full disk instead of stopping at the database's working room (to exercise recovery from a failed write) |
//! | `KDESK_FAULT_KILL_AFTER_ISSUE=N` | after the N-th issuing request is durable and before it is answered, the node SIGKILLs itself |

use std::time::Duration;

/// Faults the node was asked to play.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Delay before every flush.
    pub flush_delay: Option<Duration>,
    /// Kill the process after this many issuing requests were made durable.
    pub kill_after_issue: Option<u64>,
    /// No working room: writes run into a full disk.
    pub no_working_room: bool,
}

impl Faults {
    /// Reads the variables above; unparsable values are ignored with a warning.
    pub fn from_env() -> Self {
        let num = |name: &str| -> Option<u64> {
            let v = std::env::var(name).ok()?;
            match v.parse() {
                Ok(n) => {
                    tracing::warn!(variable = name, value = n, "test fault injection is on");
                    Some(n)
                }
                Err(_) => {
                    tracing::warn!(variable = name, value = %v, "ignored: not a number");
                    None
                }
            }
        };
        Self {
            flush_delay: num("KDESK_FAULT_FLUSH_DELAY_MS").map(Duration::from_millis),
            kill_after_issue: num("KDESK_FAULT_KILL_AFTER_ISSUE"),
            no_working_room: num("KDESK_FAULT_NO_WORKING_ROOM") == Some(1),
        }
    }
}
