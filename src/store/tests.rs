//! Store tests: write path, lifecycle, witness state.
use super::*;
use crate::model::Alert;
use crate::record::{Amendment, Retraction};
use ed25519_dalek::SigningKey;

fn alert(dist: &str) -> Alert {
    Alert::from_json(&format!(
        r#"{{"title": "Meth in express parcels",
           "subject": {{"cargo": {{"route": "express", "express_tracking_number": "1Z999AA10123456784",
              "container_numbers": ["CSQU3054383"]}}}},
           "substances": ["methamphetamine"], "risk": "high",
           "validity": {{"valid_from": "2026-11-01", "valid_until": "2027-01-31"}},
           "distribution": {dist},
           "handling": {{"tlp": "amber"}}}}"#
    ))
    .unwrap()
}

fn signed(origin: &str, seq: u64, kind: RecordKind) -> SignedRecord {
    Record {
        origin: Origin::parse(origin).unwrap(),
        seq,
        created_at_ms: 1_790_000_000_000 + seq as i64,
        kind,
    }
    .sign(&SigningKey::from_bytes(&[3; 32]))
}

/// An alert of TH/bkk to KR with its own title (distinct bodies, distinct ids).
fn titled_alert(title: &str) -> RecordKind {
    let mut a = alert(r#"{"countries":["KR"]}"#);
    a.title = crate::model::Title::parse(title).unwrap();
    RecordKind::Alert(a)
}

/// [`titled_alert`] signed by TH/bkk at `seq`.
fn th_alert(seq: u64, title: &str) -> SignedRecord {
    signed("TH/bkk", seq, titled_alert(title))
}

/// A retraction of `target` (reason "x", to all partners).
fn retraction(target: RecordId) -> RecordKind {
    RecordKind::Retraction(Retraction {
        target,
        reason: crate::model::Note::parse("x").unwrap(),
        distribution: crate::model::Distribution::AllPartners,
    })
}

/// Cost of the receiver's store path alone, per record (not a test: a measurement, see
/// docs/PERFORMANCE.md). `cargo test --release --lib store_write_cost -- --ignored --nocapture`
#[test]
#[ignore]
fn store_write_cost() {
    let d = tempfile::tempdir().unwrap();
    let st = Store::open(d.path()).unwrap();
    let recs: Vec<SignedRecord> = (1..=30_720u64)
        .map(|i| th_alert(i, &format!("t {i}")))
        .collect();
    let (mut ti, mut tf) = (0.0, 0.0);
    for c in recs.chunks(1024) {
        let t = std::time::Instant::now();
        st.ingest_batch(c, 1, Mode::Received).unwrap();
        ti += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        st.flush_blocking().unwrap();
        tf += t.elapsed().as_secs_f64();
    }
    let n = recs.len() as f64 / 1e6;
    eprintln!(
        "store path: {:.1} us/record in batches of 1,024, flush {:.1} us/record",
        ti / n,
        tf / n
    );
}

#[test]
fn store_is_idempotent_and_keeps_equivocation_evidence() {
    let s = Store::temporary().unwrap();
    let a = signed(
        "TH/bkk",
        1,
        RecordKind::Alert(alert(r#"{"countries":["KR"]}"#)),
    );
    assert_eq!(s.ingest(&a, 1, Mode::Own).unwrap(), Ingest::Stored);
    assert_eq!(s.ingest(&a, 2, Mode::Own).unwrap(), Ingest::Duplicate);
    let other = signed(
        "TH/bkk",
        1,
        RecordKind::Alert(alert(r#"{"all_partners":true}"#)),
    );
    assert_eq!(
        s.ingest(&other, 3, Mode::Own).unwrap(),
        Ingest::Equivocation { existing: a.id }
    );
    assert_eq!(s.len(), 1);
    assert_eq!(s.equivocations(), 1);
    let e = s.get(&a.id).unwrap().unwrap();
    assert!(e.equivocation);
    assert_eq!(e.envelope, a.envelope, "original untouched");
    assert_eq!(e.stored_at_ms, 1);
    assert_eq!(s.last_seq(&Origin::parse("TH/bkk").unwrap()).unwrap(), 1);
    assert_eq!(s.last_seq(&Origin::parse("TH/bk").unwrap()).unwrap(), 0);
    assert_eq!(
        s.log_range(0, 10).collect::<Result<Vec<_>, _>>().unwrap(),
        vec![(0, a.id)],
        "the duplicate and the equivocation took no log position"
    );
}

#[test]
fn duplicates_and_equivocations_within_a_batch_and_after_reopening() {
    let d = tempfile::tempdir().unwrap();
    let mk = th_alert;
    let (a1, a1b, a2, a3) = (
        mk(1, "one"),
        mk(1, "other one"),
        mk(2, "two"),
        mk(3, "three"),
    );
    {
        let s = Store::open(d.path()).unwrap();
        let got = s
            .ingest_batch(
                &[a1.clone(), a1.clone(), a1b.clone(), a3.clone()],
                1,
                Mode::Received,
            )
            .unwrap();
        assert_eq!(
            got,
            vec![
                Ok(Ingest::Stored),
                Ok(Ingest::Duplicate),
                Ok(Ingest::Equivocation { existing: a1.id }),
                Ok(Ingest::Stored)
            ]
        );
        assert!(s.may_hold(&a1.envelope.body) && s.may_hold(&a2.envelope.body));
        s.flush_blocking().unwrap();
    }
    // Reopened: nothing is known in memory; a gap filler and replays are still told apart.
    let s = Store::open(d.path()).unwrap();
    assert!(s.may_hold(&a3.envelope.body));
    assert!(!s.may_hold(&mk(4, "four").envelope.body));
    let got = s
        .ingest_batch(
            &[a3.clone(), a2.clone(), a1b.clone(), a2.clone()],
            1,
            Mode::Received,
        )
        .unwrap();
    assert_eq!(
        got,
        vec![
            Ok(Ingest::Duplicate),
            Ok(Ingest::Stored),
            Ok(Ingest::Equivocation { existing: a1.id }),
            Ok(Ingest::Duplicate)
        ]
    );
    assert_eq!(s.log_len().unwrap(), 3);
    assert_eq!(s.len(), 3);
}

#[test]
fn received_cosignatures_by_witness_and_size() {
    let s = Store::temporary().unwrap();
    let cc = |c: &str| CountryCode::parse(c).unwrap();
    let cos = |b: u8| pb::Cosignature {
        body: vec![b],
        ..Default::default()
    };
    assert!(s.cosigning_witnesses().unwrap().is_empty());
    for (w, size) in [("TH", 3), ("NL", 5), ("TH", 9), ("NL", 0), ("TH", 256)] {
        s.put_cosignature_received(size, cc(w), &cos(size as u8))
            .unwrap();
    }
    assert_eq!(s.cosigning_witnesses().unwrap(), vec![cc("NL"), cc("TH")]);
    assert_eq!(s.latest_cosigned(cc("TH"), u64::MAX).unwrap(), Some(256));
    assert_eq!(s.latest_cosigned(cc("TH"), 255).unwrap(), Some(9));
    assert_eq!(s.latest_cosigned(cc("NL"), 4).unwrap(), Some(0));
    assert_eq!(s.latest_cosigned(cc("MY"), u64::MAX).unwrap(), None);
    assert_eq!(s.cosignature_received(cc("NL"), 5).unwrap(), Some(cos(5)));
    assert_eq!(s.cosignature_received(cc("NL"), 3).unwrap(), None);
}

#[test]
fn log_chunks_read_back_as_positions() {
    let s = Store::temporary().unwrap();
    let recs: Vec<SignedRecord> = (1..=7u64).map(|i| th_alert(i, &format!("t {i}"))).collect();
    // Chunks of 3, 1 and 3 records.
    s.ingest_batch(&recs[..3], 1, Mode::Received).unwrap();
    s.ingest_batch(&recs[3..4], 1, Mode::Received).unwrap();
    s.ingest_batch(&recs[4..], 1, Mode::Received).unwrap();
    assert_eq!(s.log_len().unwrap(), 7);
    let ids: Vec<RecordId> = recs.iter().map(|r| r.id).collect();
    for from in 0..=7u64 {
        for to in from..=9u64 {
            let got: Vec<(u64, RecordId)> =
                s.log_range(from, to).collect::<Result<_, _>>().unwrap();
            let want: Vec<(u64, RecordId)> =
                (from..to.min(7)).map(|p| (p, ids[p as usize])).collect();
            assert_eq!(got, want, "{from}..{to}");
        }
    }
}

#[test]
fn amend_and_retract_lifecycle() {
    let s = Store::temporary().unwrap();
    let a = signed(
        "TH/bkk",
        1,
        RecordKind::Alert(alert(r#"{"countries":["KR"]}"#)),
    );
    s.ingest(&a, 1, Mode::Own).unwrap();
    // Narrowing is refused; widening accepted.
    let amend = |seq, target, dist: &str| {
        signed(
            "TH/bkk",
            seq,
            RecordKind::Amendment(Amendment {
                supersedes: target,
                alert: alert(dist),
                reason: crate::model::Note::parse("more parcels").unwrap(),
            }),
        )
    };
    let m = amend(2, a.id, r#"{"countries":["KR","NL"]}"#);
    assert_eq!(s.ingest(&m, 2, Mode::Own).unwrap(), Ingest::Stored);
    assert_eq!(
        s.get(&a.id).unwrap().unwrap().state.unwrap().status,
        Status::Superseded
    );
    assert_eq!(check_active(&s), vec![m.id]);
    let narrow = amend(3, m.id, r#"{"countries":["KR"]}"#);
    assert!(matches!(
        s.ingest(&narrow, 3, Mode::Own),
        Err(StoreError::Rejected(Rejection::NarrowedDistribution { .. }))
    ));
    // Amending a superseded version is refused; nothing stored.
    let stale = amend(3, a.id, r#"{"all_partners":true}"#);
    assert!(matches!(
        s.ingest(&stale, 3, Mode::Own),
        Err(StoreError::Rejected(Rejection::NotCurrent { .. }))
    ));
    assert_eq!(s.len(), 2);
    // Another origin cannot retract it.
    let foreign = signed("NL/rtm", 1, retraction(m.id));
    assert!(matches!(
        s.ingest(&foreign, 4, Mode::Own),
        Err(StoreError::Rejected(Rejection::NotOwner { .. }))
    ));
    let r = signed(
        "TH/bkk",
        3,
        RecordKind::Retraction(Retraction {
            target: m.id,
            reason: crate::model::Note::parse("consignee cleared").unwrap(),
            distribution: crate::model::Distribution::AllPartners,
        }),
    );
    assert_eq!(s.ingest(&r, 5, Mode::Own).unwrap(), Ingest::Stored);
    for id in [a.id, m.id] {
        let st = s.get(&id).unwrap().unwrap().state.unwrap();
        assert_eq!(st.status, Status::Retracted);
        assert_eq!(st.retracted_by, Some(r.id));
    }
    assert!(check_active(&s).is_empty());
}

#[test]
fn received_out_of_order_versions_settle_correctly() {
    let note = |t: &str| crate::model::Note::parse(t).unwrap();
    let a = signed(
        "TH/bkk",
        1,
        RecordKind::Alert(alert(r#"{"countries":["KR"]}"#)),
    );
    let m = signed(
        "TH/bkk",
        2,
        RecordKind::Amendment(Amendment {
            supersedes: a.id,
            alert: alert(r#"{"countries":["KR"]}"#),
            reason: note("update"),
        }),
    );
    let r = signed(
        "TH/bkk",
        3,
        RecordKind::Retraction(Retraction {
            target: m.id,
            reason: note("withdrawn"),
            distribution: crate::model::Distribution::AllPartners,
        }),
    );
    // Own records must arrive in order.
    let own = Store::temporary().unwrap();
    assert!(matches!(
        own.ingest(&m, 1, Mode::Own),
        Err(StoreError::Rejected(Rejection::UnknownTarget(_)))
    ));
    // Received: every arrival order ends in the same state.
    let orders: [[&SignedRecord; 3]; 6] = [
        [&a, &m, &r],
        [&a, &r, &m],
        [&m, &a, &r],
        [&m, &r, &a],
        [&r, &a, &m],
        [&r, &m, &a],
    ];
    for order in orders {
        let s = Store::temporary().unwrap();
        for rec in order {
            assert_eq!(s.ingest(rec, 1, Mode::Received).unwrap(), Ingest::Stored);
        }
        for id in [a.id, m.id] {
            let st = s.get(&id).unwrap().unwrap().state.unwrap();
            assert_eq!(
                st.status,
                Status::Retracted,
                "{id:?} in order {:?}",
                order.map(|x| x.record.seq)
            );
            assert_eq!(st.retracted_by, Some(r.id));
        }
        assert!(check_active(&s).is_empty());
        assert_eq!(s.log_len().unwrap(), 3);
    }
    // Amendment before its alert, no retraction: the alert ends superseded.
    let s = Store::temporary().unwrap();
    s.ingest(&m, 1, Mode::Received).unwrap();
    s.ingest(&a, 2, Mode::Received).unwrap();
    let st = s.get(&a.id).unwrap().unwrap().state.unwrap();
    assert_eq!(
        (st.status, st.superseded_by),
        (Status::Superseded, Some(m.id))
    );
    assert_eq!(
        s.get(&m.id).unwrap().unwrap().state.unwrap().status,
        Status::Active
    );
}

/// Active alert versions by walking every stored entry (derived states included); the
/// count and list the store answers from its counter and `state` entries must agree.
fn check_active(s: &Store) -> Vec<RecordId> {
    let mut walked = vec![];
    for e in s.iter() {
        let e = e.unwrap();
        let rec = e.record().unwrap();
        let lifecycle = matches!(rec.kind, RecordKind::Alert(_) | RecordKind::Amendment(_));
        assert_eq!(e.state.is_some(), lifecycle, "{:?}", rec.kind.name());
        if e.state.is_some_and(|st| st.status == Status::Active) {
            walked.push(e.id);
        }
    }
    walked.sort();
    let mut listed: Vec<RecordId> = s
        .active_alert_versions()
        .unwrap()
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    listed.sort();
    assert_eq!(listed, walked);
    assert_eq!(s.active_alerts(), walked.len());
    walked
}

#[test]
fn lifecycle_settles_whatever_the_order_and_batching() {
    let note = |t: &str| crate::model::Note::parse(t).unwrap();
    let mut seq = 0;
    let mut next = |kind| {
        seq += 1;
        signed("TH/bkk", seq, kind)
    };
    let al = titled_alert;
    let amend = |target| {
        RecordKind::Amendment(Amendment {
            supersedes: target,
            alert: alert(r#"{"countries":["KR"]}"#),
            reason: note("update"),
        })
    };
    let retract = |target| {
        RecordKind::Retraction(Retraction {
            target,
            reason: note("withdrawn"),
            distribution: crate::model::Distribution::AllPartners,
        })
    };
    // A1 → M1 → M2, then M2 retracted; A2 retracted; A3 → M3; A4 untouched.
    let a1 = next(al("one"));
    let m1 = next(amend(a1.id));
    let m2 = next(amend(m1.id));
    let r1 = next(retract(m2.id));
    let a2 = next(al("two"));
    let r2 = next(retract(a2.id));
    let a3 = next(al("three"));
    let m3 = next(amend(a3.id));
    let a4 = next(al("four"));
    let all = [&a1, &m1, &m2, &r1, &a2, &r2, &a3, &m3, &a4];
    let mut want_active = vec![m3.id, a4.id];
    want_active.sort();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    for round in 0..150 {
        let mut order: Vec<SignedRecord> = all.iter().map(|r| (*r).clone()).collect();
        if round > 0 {
            for i in (1..order.len()).rev() {
                order.swap(i, rand(i + 1));
            }
        }
        // Some records delivered twice.
        let dup = order[rand(order.len())].clone();
        order.insert(rand(order.len() + 1), dup);
        let s = Store::temporary().unwrap();
        let mut rest = &order[..];
        while !rest.is_empty() {
            let n = 1 + rand(rest.len());
            let (batch, tail) = rest.split_at(n);
            for r in s.ingest_batch(batch, 1, Mode::Received).unwrap() {
                assert!(r.is_ok(), "round {round}: {r:?}");
            }
            check_active(&s);
            rest = tail;
        }
        let order_seqs: Vec<u64> = order.iter().map(|r| r.record.seq).collect();
        assert_eq!(check_active(&s), want_active, "order {order_seqs:?}");
        for (id, status) in [
            (a1.id, Status::Retracted),
            (m1.id, Status::Retracted),
            (m2.id, Status::Retracted),
            (a2.id, Status::Retracted),
            (a3.id, Status::Superseded),
            (m3.id, Status::Active),
            (a4.id, Status::Active),
        ] {
            let st = s.get(&id).unwrap().unwrap().state.unwrap();
            assert_eq!(st.status, status, "order {order_seqs:?}");
        }
        assert_eq!(s.log_len().unwrap(), 9);
        assert_eq!(s.count_origin(&a1.record.origin), 9);
        assert_eq!(s.last_seq(&a1.record.origin).unwrap(), 9);
        // Iteration is in sequence order whatever the arrival order.
        let seqs: Vec<u64> = s.iter().map(|e| e.unwrap().record().unwrap().seq).collect();
        assert_eq!(seqs, (1..=9).collect::<Vec<_>>());
        assert!(s.pending.is_empty(), "order {order_seqs:?}");
    }
}

#[test]
fn a_chain_naming_a_record_without_lifecycle_is_stored_not_an_error() {
    // TH signs an amendment "superseding" its own hit, then retracts the amendment; the
    // hit arrives in between. Nothing here may abort the batch (a partner could otherwise
    // wedge replication with it).
    let s = Store::temporary().unwrap();
    let a = th_alert(1, "one");
    let hit = signed(
        "TH/bkk",
        2,
        RecordKind::Hit(crate::record::Hit {
            alert_id: a.id,
            alert_origin: a.record.origin.clone(),
            score: 900,
            matched: vec![],
            subject_reference: crate::model::ShortText::parse("EXP-1").unwrap(),
            screened_on: crate::model::Date::parse("2026-11-24").unwrap(),
        }),
    );
    let m = signed(
        "TH/bkk",
        3,
        RecordKind::Amendment(Amendment {
            supersedes: hit.id,
            alert: alert(r#"{"countries":["KR"]}"#),
            reason: crate::model::Note::parse("odd").unwrap(),
        }),
    );
    let r = signed("TH/bkk", 4, retraction(m.id));
    let got = s
        .ingest_batch(&[a, m.clone(), hit, r], 1, Mode::Received)
        .unwrap();
    assert!(got.iter().all(|g| g == &Ok(Ingest::Stored)), "{got:?}");
    assert_eq!(
        s.get(&m.id).unwrap().unwrap().state.unwrap().status,
        Status::Retracted
    );
    check_active(&s);
}

#[test]
fn databases_written_before_runs_and_derived_states_still_read() {
    // Earlier layouts: one `seq` entry per record, a `state` entry for every alert.
    let s = Store::temporary().unwrap();
    let mk = th_alert;
    let (a1, a2) = (mk(1, "one"), mk(2, "two"));
    for a in [&a1, &a2] {
        let mut v = 7i64.to_be_bytes().to_vec();
        a.envelope.encode(&mut v).unwrap();
        s.records.insert(a.id.0, v).unwrap();
        s.seq
            .insert(seq_key(&a.record.origin, a.record.seq), &a.id.0)
            .unwrap();
        s.state
            .insert(a.id.0, &AlertState::active(None).encode()[..])
            .unwrap();
    }
    assert_eq!(check_active(&s).len(), 2);
    // A replay and an equivocation of the old entries are recognised; new records join.
    let a1b = mk(1, "other one");
    let a3 = mk(3, "three");
    let retract = signed("TH/bkk", 4, retraction(a1.id));
    let got = s
        .ingest_batch(&[a2.clone(), a1b, a3.clone(), retract], 1, Mode::Received)
        .unwrap();
    assert_eq!(
        got,
        vec![
            Ok(Ingest::Duplicate),
            Ok(Ingest::Equivocation { existing: a1.id }),
            Ok(Ingest::Stored),
            Ok(Ingest::Stored)
        ]
    );
    let mut want = vec![a2.id, a3.id];
    want.sort();
    assert_eq!(check_active(&s), want);
    assert_eq!(s.count_origin(&a1.record.origin), 4);
    assert_eq!(s.last_seq(&a1.record.origin).unwrap(), 4);
}

#[test]
fn all_or_nothing_batches_store_nothing_on_a_refusal() {
    let s = Store::temporary().unwrap();
    let mk = th_alert;
    let orphan = signed("TH/bkk", 3, retraction(RecordId([9; 32])));
    let (a1, a2) = (mk(1, "one"), mk(2, "two"));
    assert!(matches!(
        s.ingest_all(&[a1.clone(), a2.clone(), orphan], 1, Mode::Own),
        Err(StoreError::Rejected(Rejection::UnknownTarget(_)))
    ));
    assert_eq!(
        (s.len(), s.log_len().unwrap(), s.active_alerts()),
        (0, 0, 0)
    );
    s.ingest_all(std::slice::from_ref(&a1), 1, Mode::Own)
        .unwrap();
    // A batch reusing a taken sequence number stores nothing either.
    assert!(matches!(
        s.ingest_all(&[a2.clone(), mk(1, "again")], 1, Mode::Own),
        Err(StoreError::SeqTaken(1))
    ));
    assert_eq!(
        (s.len(), s.log_len().unwrap(), s.active_alerts()),
        (1, 1, 1)
    );
    s.ingest_all(&[a2], 1, Mode::Own).unwrap();
    assert_eq!(check_active(&s).len(), 2);
}

#[test]
fn seq_runs_group_consecutive_numbers_of_one_origin() {
    let id = |b: u8| RecordId([b; 32]);
    let mut new = std::collections::HashMap::new();
    let th = Origin::parse("TH/bkk").unwrap();
    let nl = Origin::parse("NL/rtm").unwrap();
    for (o, sq, b) in [
        (&th, 3, 3),
        (&th, 1, 1),
        (&th, 2, 2),
        (&th, 5, 5),
        (&nl, 6, 6),
    ] {
        new.insert(seq_key(o, sq), id(b));
    }
    let runs = seq_runs(new);
    let ids = |v: &[u8]| v.chunks(32).map(|c| c[0]).collect::<Vec<_>>();
    let got: Vec<(Vec<u8>, Vec<u8>)> = runs.iter().map(|(k, v)| (k.clone(), ids(v))).collect();
    let mut want = vec![
        (seq_key(&th, 1), vec![1, 2, 3]),
        (seq_key(&th, 5), vec![5]),
        (seq_key(&nl, 6), vec![6]),
    ];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn resolve_prefixes() {
    let s = Store::temporary().unwrap();
    let a = signed(
        "TH/bkk",
        1,
        RecordKind::Alert(alert(r#"{"countries":["KR"]}"#)),
    );
    s.ingest(&a, 1, Mode::Own).unwrap();
    assert_eq!(s.resolve(&a.id.to_hex()[..9]).unwrap(), Ok(a.id));
    assert!(s.resolve("abc").unwrap().is_err());
    assert!(s.resolve("zzzzzzzz").unwrap().is_err());
    assert!(s.resolve(&"0".repeat(10)).unwrap().is_err());
}

#[test]
fn state_encoding_round_trips() {
    let st = AlertState {
        status: Status::Retracted,
        superseded_by: None,
        retracted_by: Some(RecordId([9; 32])),
        supersedes: Some(RecordId([4; 32])),
    };
    assert_eq!(AlertState::decode(&st.encode()).unwrap(), st);
    assert!(AlertState::decode(&[1, 2]).is_err());
}
