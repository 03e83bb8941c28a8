//! Why a link to a partner is down, typed: each cause is shown once, with what to do about it.

use crate::model::CountryCode;

/// Why a subscription to a partner's log ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// This node has no exchange certificate loaded.
    #[error("this node has no exchange certificate")]
    NoIdentity,
    /// The partner's registration cannot be used to connect (endpoint or TLS settings).
    #[error("the registration cannot be used: {0}")]
    Registration(String),
    /// No connection: the partner is down, unreachable, or the TLS handshake failed.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The partner answered, but refused the subscription.
    #[error("the partner refused the subscription ({code}): {message}")]
    Refused {
        /// gRPC status code name.
        code: String,
        /// The partner's message.
        message: String,
    },
    /// The stream broke (network, partner restarting, keepalive timeout).
    #[error("the stream broke ({code}): {message}")]
    Stream {
        /// gRPC status code name.
        code: String,
        /// The message.
        message: String,
    },
    /// The partner ended the stream.
    #[error("the partner closed the stream")]
    Closed,
    /// The partner sent something that breaks the protocol.
    #[error("the partner sent a malformed batch: {0}")]
    Malformed(String),
    /// Too many of the partner's records were refused in one session.
    #[error("the partner sent {0} refused records in this session")]
    TooManyRefused(u64),
    /// The partner was removed while the link was up.
    #[error("{0} is no longer registered")]
    Unregistered(CountryCode),
    /// Free disk space is at or below the reserve: nothing more is stored for now.
    #[error("{records} record(s) not stored: {cause}")]
    DiskReserve {
        /// Records waiting.
        records: usize,
        /// The reserve error.
        cause: String,
    },
    /// This node's storage failed.
    #[error("storage: {0}")]
    Store(String),
    /// A task of this node failed (a bug: see the node's log).
    #[error("internal: {0}")]
    Internal(String),
}

impl LinkError {
    /// What an admin can do about it.
    #[must_use]
    pub fn hint(&self) -> &'static str {
        match self {
            Self::NoIdentity => "issue one with `kdesk certs node` and set [exchange] cert and key",
            Self::Registration(_) => "correct it with `kdesk peer update`",
            Self::Connect(_) => {
                "retrying; check the partner is running, its endpoint and the firewall, and that \
                 both CAs and certificates are current"
            }
            Self::Refused { .. } => {
                "retrying; ask the partner's admin whether this node is registered there \
                 (`kdesk peer list` on their side)"
            }
            Self::Stream { .. } | Self::Closed => "retrying; nothing received is lost",
            Self::Malformed(_) | Self::TooManyRefused(_) => {
                "retrying later; refusals are counted in `kdesk status`; tell the partner's admin"
            }
            Self::Unregistered(_) => "nothing to do: the link ends",
            Self::DiskReserve { .. } => {
                "free disk space; the link resumes where it stopped, nothing is lost"
            }
            Self::Store(_) | Self::Internal(_) => {
                "see the node's log; the link resumes where it stopped"
            }
        }
    }

    /// The cause and the hint, for people.
    #[must_use]
    pub fn describe(&self) -> String {
        format!("{self} ({})", self.hint())
    }
}

/// The text of an error and its sources, each once: sources whose text the outer message
/// already carries (as hyper and tonic errors often do) are not repeated.
#[must_use]
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !t.is_empty() && !msg.contains(&t) {
            msg = format!("{msg}: {t}");
        }
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer: inner broke")]
    struct Outer(#[source] Inner);
    #[derive(Debug, thiserror::Error)]
    #[error("inner broke")]
    struct Inner;

    #[test]
    fn chains_say_each_cause_once() {
        assert_eq!(chain(&Outer(Inner)), "outer: inner broke");
        let e = std::io::Error::other(Outer(Inner));
        assert_eq!(chain(&e), "outer: inner broke");
    }

    #[test]
    fn every_cause_has_a_hint() {
        let e = LinkError::Connect("connection refused".into());
        assert_eq!(
            e.describe(),
            format!("cannot connect: connection refused ({})", e.hint())
        );
        assert!(!LinkError::Closed.hint().is_empty());
    }
}
