//! Who may receive a record, checked by the sender before sending and again by the receiver
//! before storing.

use crate::model::CountryCode;
use crate::pb;
use crate::record::{Origin, Record, RecordKind};

/// Whether this node (`me`) may send `record` to the partner `to`.
///
/// - never back to the record's own country;
/// - alerts and amendments: the distribution includes `to`; records of other origins
///   (relays) only when their handling allows onward sharing;
/// - retractions: the distribution (copied from the withdrawn alert) includes `to`;
/// - hits and outcomes: only this node's own, and only to the alert's origin.
pub fn may_send(record: &Record, to: CountryCode, me: &Origin) -> bool {
    may_send_body(&record.to_pb(), to, me)
}

/// [`may_send`] on a stored body, without re-parsing it: bodies were fully checked when
/// stored, and the sender filters every record for every partner, so this is the hot path.
pub fn may_send_body(body: &pb::RecordBody, to: CountryCode, me: &Origin) -> bool {
    use pb::record_body::Kind;
    let Some(origin) = &body.origin else {
        return false;
    };
    if origin.country == to.as_str() {
        return false;
    }
    let relay = origin.country != me.country.as_str() || origin.node != me.node.as_str();
    let includes = |d: &Option<pb::Distribution>| {
        d.as_ref()
            .is_some_and(|d| d.all_partners || d.countries.iter().any(|c| c == to.as_str()))
    };
    let alert_ok = |a: &pb::Alert| {
        includes(&a.distribution)
            && (!relay || !a.handling.as_ref().is_some_and(|h| h.no_onward_sharing))
    };
    let addressed_origin =
        |o: &Option<pb::Origin>| o.as_ref().is_some_and(|o| o.country == to.as_str());
    match &body.kind {
        Some(Kind::Alert(a)) => alert_ok(a),
        Some(Kind::Amendment(m)) => m.alert.as_ref().is_some_and(alert_ok),
        Some(Kind::Retraction(r)) => includes(&r.distribution),
        Some(Kind::Hit(h)) => !relay && addressed_origin(&h.alert_origin),
        Some(Kind::Outcome(o)) => !relay && addressed_origin(&o.alert_origin),
        // A desk's next key goes to every partner, from the desk itself only.
        Some(Kind::KeyAnnouncement(_) | Kind::RestoreDeclaration(_)) => !relay,
        // A node's trust configuration changes stay in its own log.
        Some(Kind::AdminEvent(_)) | None => false,
    }
}

/// Why a verified record from a peer is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Signed with a key registered for another country than the record's origin.
    #[error(
        "signed with a key registered for {key_country}, but the record claims origin {origin}"
    )]
    WrongOriginKey {
        /// Country the key is registered for.
        key_country: CountryCode,
        /// Claimed origin.
        origin: String,
    },
    /// A record of this node's own origin that this node does not hold.
    #[error("record claims this node's own origin {0} but is not in its store")]
    OwnOrigin(String),
    /// Not addressed to this node's country.
    #[error("distribution does not include {0}")]
    NotAddressed(CountryCode),
    /// Relayed by a third country although handling forbids onward sharing (or a hit or
    /// outcome, which are never relayed).
    #[error("relayed by {relay} but {why}")]
    RelayNotAllowed {
        /// The relaying peer.
        relay: CountryCode,
        /// The rule.
        why: &'static str,
    },
}

impl Refusal {
    /// Short counter name.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::WrongOriginKey { .. } => "wrong-origin-key",
            Self::OwnOrigin(_) => "own-origin",
            Self::NotAddressed(_) => "not-addressed-to-us",
            Self::RelayNotAllowed { .. } => "relay-not-allowed",
        }
    }
}

/// Receiver-side checks, after `verify_strict` with the key registered for `key_country` and
/// after decoding: the key belongs to the record's origin, the record is addressed to this
/// node's country, and a relayed record allows onward sharing.
///
/// # Errors
/// The first rule broken.
pub fn check_received(
    record: &Record,
    key_country: CountryCode,
    from: CountryCode,
    me: &Origin,
) -> Result<(), Refusal> {
    if record.origin.country != key_country {
        return Err(Refusal::WrongOriginKey {
            key_country,
            origin: record.origin.to_string(),
        });
    }
    if record.origin.country == me.country {
        return Err(Refusal::OwnOrigin(record.origin.to_string()));
    }
    let addressed = match &record.kind {
        RecordKind::Alert(_) | RecordKind::Amendment(_) => record
            .kind
            .alert()
            .is_some_and(|a| a.distribution.includes(me.country)),
        RecordKind::Retraction(r) => r.distribution.includes(me.country),
        RecordKind::Hit(h) => h.alert_origin.country == me.country,
        RecordKind::Outcome(o) => o.alert_origin.country == me.country,
        RecordKind::AdminEvent(_) => false,
        RecordKind::KeyAnnouncement(_) | RecordKind::RestoreDeclaration(_) => true,
    };
    if !addressed {
        return Err(Refusal::NotAddressed(me.country));
    }
    if record.origin.country != from {
        let why = match &record.kind {
            RecordKind::Alert(_) | RecordKind::Amendment(_) => record
                .kind
                .alert()
                .filter(|a| a.handling.no_onward_sharing)
                .map(|_| "its handling forbids onward sharing"),
            RecordKind::Hit(_) | RecordKind::Outcome(_) => {
                Some("hits and outcomes go only from the screening desk to the alert's origin")
            }
            RecordKind::KeyAnnouncement(_) => {
                Some("a key announcement comes only from the desk whose key it is")
            }
            RecordKind::RestoreDeclaration(_) => {
                Some("a restore declaration comes only from the restored desk")
            }
            RecordKind::Retraction(_) | RecordKind::AdminEvent(_) => None,
        };
        if let Some(why) = why {
            return Err(Refusal::RelayNotAllowed { relay: from, why });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Alert;

    fn alert(dist: &str, no_onward: bool) -> Alert {
        Alert::from_json(&format!(
            r#"{{"title": "t", "subject": {{"cargo": {{"route": "postal", "postal_item_id": "RR123456785NL"}}}},
               "substances": ["ketamine"], "risk": "high",
               "validity": {{"valid_from": "2026-11-01", "valid_until": "2027-01-31"}},
               "distribution": {dist}, "handling": {{"tlp": "amber", "no_onward_sharing": {no_onward}}}}}"#
        ))
        .unwrap()
    }

    fn rec(origin: &str, a: Alert) -> Record {
        Record {
            origin: Origin::parse(origin).unwrap(),
            seq: 1,
            created_at_ms: 1,
            kind: RecordKind::Alert(a),
        }
    }

    fn cc(s: &str) -> CountryCode {
        CountryCode::parse(s).unwrap()
    }

    #[test]
    fn sender_rules() {
        let kr = Origin::parse("KR/seoul").unwrap();
        let own = rec("KR/seoul", alert(r#"{"countries":["TH"]}"#, false));
        assert!(may_send(&own, cc("TH"), &kr));
        assert!(!may_send(&own, cc("NL"), &kr), "outside distribution");
        let nl_only_kr = rec("NL/rtm", alert(r#"{"countries":["KR","TH"]}"#, true));
        assert!(
            !may_send(&nl_only_kr, cc("TH"), &kr),
            "no onward sharing: never relayed"
        );
        let nl_shareable = rec("NL/rtm", alert(r#"{"all_partners":true}"#, false));
        assert!(may_send(&nl_shareable, cc("TH"), &kr), "relay allowed");
        assert!(
            !may_send(&nl_shareable, cc("NL"), &kr),
            "never back to its origin"
        );
        // Admin events stay home, and a partner's is refused.
        let event = Record {
            origin: kr.clone(),
            seq: 2,
            created_at_ms: 1,
            kind: RecordKind::AdminEvent(crate::record::AdminEvent {
                action: crate::record::AdminAction::PeerAdded,
                country: cc("TH"),
                key_ids: vec![],
                ca_sha256: None,
                detail: crate::model::Note::parse("endpoint").unwrap(),
            }),
        };
        assert!(!may_send(&event, cc("TH"), &kr));
        let th_event = Record {
            origin: Origin::parse("TH/bkk").unwrap(),
            ..event
        };
        assert_eq!(
            check_received(&th_event, cc("TH"), cc("TH"), &kr)
                .unwrap_err()
                .reason(),
            "not-addressed-to-us"
        );
    }

    #[test]
    fn receiver_rules() {
        let kr = Origin::parse("KR/seoul").unwrap();
        let th = rec("TH/bkk", alert(r#"{"countries":["KR"]}"#, true));
        assert_eq!(check_received(&th, cc("TH"), cc("TH"), &kr), Ok(()));
        assert_eq!(
            check_received(&th, cc("NL"), cc("TH"), &kr)
                .unwrap_err()
                .reason(),
            "wrong-origin-key"
        );
        assert_eq!(
            check_received(&th, cc("TH"), cc("NL"), &kr)
                .unwrap_err()
                .reason(),
            "relay-not-allowed"
        );
        let not_us = rec("TH/bkk", alert(r#"{"countries":["NL"]}"#, false));
        assert_eq!(
            check_received(&not_us, cc("TH"), cc("TH"), &kr)
                .unwrap_err()
                .reason(),
            "not-addressed-to-us"
        );
        let mine = rec("KR/busan", alert(r#"{"all_partners":true}"#, false));
        assert_eq!(
            check_received(&mine, cc("KR"), cc("TH"), &kr)
                .unwrap_err()
                .reason(),
            "own-origin"
        );
        let relayable = rec("TH/bkk", alert(r#"{"all_partners":true}"#, false));
        assert_eq!(check_received(&relayable, cc("TH"), cc("NL"), &kr), Ok(()));
    }
}
