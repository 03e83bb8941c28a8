//! Screening on the node: the engine over the alerts the node holds, the `Screen` stream,
//! hits shared as signed records, outcomes, the hit list and the report.

use std::sync::Arc;

use tokio::sync::mpsc;
use tonic::Status;
use tracing::{info, warn};

use super::intel::IntelEngine;
use super::Node;
use crate::model::{Date, Note, OutcomeResult, ShortText, Substance, Text, MAX_VALIDITY_DAYS};
use crate::pb;
use crate::record::{Hit, MatchedField, Outcome, Record, RecordId, RecordKind};
use crate::screen::{
    self, report, BlockResult, Engine, LineHit, Options, ReadOptions, ScreenAlert, Severity,
};
use crate::store::{IndexKind, StoreError};

impl Node {
    /// The screening engine over every active alert valid on `date`, rebuilt when the log
    /// has grown, the date is another or name matching is switched.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn screen_engine(&self, names: bool, date: Date) -> Result<Arc<Engine>, StoreError> {
        let len = self.store.log_len()?;
        if let Ok(c) = self.screen_cache.lock() {
            if let Some((l, d, n, e)) = c.as_ref() {
                if *l == len && *d == date && *n == names {
                    return Ok(e.clone());
                }
            }
        }
        let store = self.store.clone();
        // Alerts signed with a key revoked for their time are not screened.
        let revs = self
            .fed
            .registry
            .read()
            .map(|r| r.revocations())
            .unwrap_or_default();
        let engine = tokio::task::spawn_blocking(move || -> Result<Engine, StoreError> {
            // Streamed from the store into the engine, one alert at a time; the engine keeps
            // their ids and reads an alert back from the store to explain a hit.
            let source_store = store.clone();
            let source: screen::AlertSource = Arc::new(move |id: &RecordId| {
                let e = source_store
                    .get(id)
                    .map_err(|e| e.to_string())?
                    .ok_or("no longer stored")?;
                let rec = e.record().map_err(|e| e.to_string())?;
                let alert = match rec.kind {
                    RecordKind::Alert(a) => a,
                    RecordKind::Amendment(m) => m.alert,
                    _ => return Err("not an alert version".into()),
                };
                Ok(ScreenAlert {
                    id: *id,
                    origin: rec.origin,
                    alert,
                })
            });
            let mut b = screen::EngineBuilder::with_source(date, Options { names }, source);
            store.for_each_active_alert_version(
                |env, rec| !crate::federation::registry::revoked_for(&revs, env, rec.created_at_ms),
                |id, origin, alert| b.add(ScreenAlert { id, origin, alert }),
            )?;
            Ok(b.finish())
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("engine build task: {e}")))??;
        let engine = Arc::new(engine);
        if let Ok(mut c) = self.screen_cache.lock() {
            *c = Some((len, date, names, engine.clone()));
        }
        Ok(engine)
    }
}

/// The screening date of a `Screen` request: today (UTC) when empty, else a real date within
/// [`MAX_VALIDITY_DAYS`] of today (no alert can be valid further away than that, so a date
/// outside is a typo that would screen against nothing).
///
/// # Errors
/// Names the field and the rule.
pub fn screening_date(raw: &str, today: Date) -> Result<Date, String> {
    if raw.is_empty() {
        return Ok(today);
    }
    let date = Date::parse(raw).map_err(|e| format!("options.date: {e}"))?;
    let days = today.days_until(&date);
    if days.abs() > MAX_VALIDITY_DAYS {
        return Err(format!(
            "options.date: {date} is {} days from today ({today}); a screening date must be \
             within {MAX_VALIDITY_DAYS} days of today, the longest an alert can be valid",
            days.abs()
        ));
    }
    Ok(date)
}

/// Truncates to at most `max` characters.
fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn matched_fields(m: &[screen::Evidence]) -> Vec<pb::MatchedField> {
    m.iter()
        .map(|e| pb::MatchedField {
            field: e.field.to_owned(),
            value: e.value.clone(),
            reason: e.reason.clone(),
        })
        .collect()
}

/// Shares the hits of one screened chunk: each hit (alert, subject reference) already shared
/// by this node, earlier or earlier in the chunk, is found and not signed again; the others
/// are signed with consecutive sequence numbers, stored in one transaction and flushed once.
/// Returns each hit's record id and whether it had been shared before.
pub(super) async fn share_hits(
    node: &Node,
    engine: &Engine,
    hits: &[LineHit],
) -> Result<Vec<(RecordId, bool)>, Status> {
    enum Slot {
        Known(RecordId),
        New(usize),
    }
    let mut slots = Vec::with_capacity(hits.len());
    let mut kinds = Vec::new();
    let mut in_chunk: std::collections::HashMap<String, usize> = Default::default();
    for h in hits {
        let a = engine
            .alert(h.hit.alert)
            .map_err(|e| Status::internal(e.to_string()))?;
        let key = format!("{}/{}", a.id.to_hex(), h.reference);
        if let Some(&i) = in_chunk.get(&key) {
            slots.push((Slot::New(i), true));
            continue;
        }
        if let Some(id) = shared_before(node, &key)? {
            slots.push((Slot::Known(id), true));
            continue;
        }
        in_chunk.insert(key, kinds.len());
        slots.push((Slot::New(kinds.len()), false));
        kinds.push(hit_record(engine, h)?);
    }
    let signed = node.issue_all(kinds).await.map_err(Status::from)?;
    slots
        .into_iter()
        .map(|(slot, already)| match slot {
            Slot::Known(id) => Ok((id, already)),
            Slot::New(i) => signed
                .get(i)
                .map(|s| (s.id, already))
                .ok_or_else(|| internal("issued fewer hits than asked")),
        })
        .collect()
}

/// This node's hit already shared for an alert and subject reference (`alert id/reference`).
fn shared_before(node: &Node, key: &str) -> Result<Option<RecordId>, Status> {
    for id in node
        .store
        .lookup(IndexKind::HitReference, key)
        .map_err(internal)?
    {
        if let Some(e) = node.store.get(&id).map_err(internal)? {
            if e.record().map_err(internal)?.origin == *node.origin() {
                return Ok(Some(id));
            }
        }
    }
    Ok(None)
}

/// The hit record for one screened line.
fn hit_record(engine: &Engine, h: &LineHit) -> Result<RecordKind, Status> {
    let a = engine
        .alert(h.hit.alert)
        .map_err(|e| Status::internal(e.to_string()))?;
    let matched = h
        .hit
        .matched
        .iter()
        .filter_map(|e| {
            Some(MatchedField {
                field: ShortText::parse(&cut(e.field, 64)).ok()?,
                value: Text::parse(&cut(&e.value, 256)).ok()?,
                reason: ShortText::parse(&cut(&e.reason, 64)).ok()?,
            })
        })
        .collect();
    Ok(RecordKind::Hit(Hit {
        alert_id: a.id,
        alert_origin: a.origin.clone(),
        score: h.hit.score.min(1000),
        matched,
        subject_reference: ShortText::parse(&cut(&h.reference, 64))
            .map_err(|e| Status::invalid_argument(format!("reference: {e}")))?,
        screened_on: engine.date(),
    }))
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

type Tx = mpsc::Sender<Result<pb::ScreenResponse, Status>>;

async fn send(tx: &Tx, item: pb::screen_response::Item) -> bool {
    tx.send(Ok(pb::ScreenResponse { item: Some(item) }))
        .await
        .is_ok()
}

/// Largest chunk accepted in a `Screen` request.
pub const MAX_SCREEN_CHUNK: usize = 1 << 20;

/// Runs one `Screen` stream: reads chunks from `input`, screens them on the blocking pool,
/// and answers on `tx`.
pub async fn run(
    node: Arc<Node>,
    engine: Arc<Engine>,
    intel: Arc<IntelEngine>,
    read: ReadOptions,
    opts: pb::ScreenOptions,
    mut input: tonic::Streaming<pb::ScreenRequest>,
    tx: Tx,
) {
    let (chunk_tx, mut chunk_rx) = mpsc::channel::<Result<Vec<u8>, String>>(4);
    // Reader of the client's stream.
    tokio::spawn(async move {
        loop {
            let msg = match input.message().await {
                Ok(Some(m)) => m,
                Ok(None) => return,
                Err(e) => {
                    let _ = chunk_tx.send(Err(format!("client stream: {e}"))).await;
                    return;
                }
            };
            let item = match msg.item {
                Some(pb::screen_request::Item::Chunk(c)) if c.len() <= MAX_SCREEN_CHUNK => Ok(c),
                Some(pb::screen_request::Item::Chunk(c)) => Err(format!(
                    "chunk: {} bytes; at most {MAX_SCREEN_CHUNK} per message",
                    c.len()
                )),
                _ => Err("only the first message may carry options".to_owned()),
            };
            let stop = item.is_err();
            if chunk_tx.send(item).await.is_err() || stop {
                return;
            }
        }
    });
    let (res_tx, mut res_rx) = mpsc::channel::<(screen::StreamInfo, BlockResult, Vec<LineHit>)>(4);
    let intel_eng = intel.clone();
    let stop_on_bad = opts.stop_on_bad_line;
    let eng = engine.clone();
    let holder = node.clone();
    let held = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let held_count = held.clone();
    let worker = tokio::task::spawn_blocking(move || {
        let chunks = std::iter::from_fn(move || chunk_rx.blocking_recv());
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let today = Date::today_utc();
        screen::screen_stream(&eng, &read, chunks, threads, |info, mut r| {
            // Lines not yet arrived are held for alerts still to come (retro-screening).
            let parsed = std::mem::take(&mut r.parsed);
            // The same lines against local intelligence items (same engine, same matchers).
            let mut intel_hits = Vec::new();
            if !intel_eng.engine.is_empty() {
                let mut found = Vec::new();
                for line in &parsed {
                    found.clear();
                    intel_eng.engine.screen(line, &mut found);
                    for m in found.drain(..) {
                        intel_hits.push(LineHit {
                            line: line.line,
                            reference: line.reference.clone(),
                            hit: m,
                        });
                    }
                }
            }
            match screen::retro::hold_block(
                &holder.store,
                holder.config.keep_days_after_arrival,
                &parsed,
                today,
            ) {
                Ok(n) => {
                    held_count.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
                }
                Err(e) => warn!(error = %e, "screened lines not held for retro-screening"),
            }
            let mut go_on = true;
            if stop_on_bad {
                if let Some(i) = r
                    .problems
                    .iter()
                    .position(|p| p.severity != Severity::Warning)
                {
                    let first_bad = r.problems[i].line;
                    r.hits.retain(|h| h.line < first_bad);
                    intel_hits.retain(|h| h.line < first_bad);
                    r.problems.truncate(i + 1);
                    go_on = false;
                }
            }
            res_tx.blocking_send((*info, r, intel_hits)).is_ok() && go_on
        })
    });
    let (mut lines, mut bytes, mut hits, mut shared) = (0u64, 0u64, 0u64, 0u64);
    let mut intel_count = 0u64;
    while let Some((info, r, intel_hits)) = res_rx.recv().await {
        lines += r.lines;
        bytes += r.bytes;
        let unit = info.format.unit().as_str();
        for b in &r.problems {
            let item = pb::screen_response::Item::BadLine(pb::BadLineInfo {
                line: b.line,
                field: b.field.clone(),
                message: b.message.clone(),
                unit: b.unit.as_str().to_owned(),
                severity: b.severity.as_str().to_owned(),
            });
            if !send(&tx, item).await {
                return;
            }
        }
        let shared_ids = if opts.share && !r.hits.is_empty() {
            match share_hits(&node, &engine, &r.hits).await {
                Ok(ids) => ids,
                Err(e) => {
                    warn!(error = %e, first_line = r.hits[0].line, "hits not shared");
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
        } else {
            Vec::new()
        };
        for (i, h) in r.hits.iter().enumerate() {
            hits += 1;
            let a = match engine.alert(h.hit.alert) {
                Ok(a) => a,
                Err(e) => {
                    let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                    return;
                }
            };
            let (hit_id, already) = match shared_ids.get(i) {
                Some((id, already)) => {
                    shared += u64::from(!already);
                    (id.to_hex(), *already)
                }
                None => (String::new(), false),
            };
            let item = pb::screen_response::Item::Hit(pb::ScreenHit {
                line: h.line,
                reference: h.reference.clone(),
                alert_id_hex: a.id.to_hex(),
                alert_origin: Some(a.origin.to_pb()),
                alert_title: a.alert.title.to_string(),
                route: a.alert.route_name().to_owned(),
                score: h.hit.score,
                matched: matched_fields(&h.hit.matched),
                hit_id_hex: hit_id,
                already_shared: already,
                unit: unit.to_owned(),
            });
            if !send(&tx, item).await {
                return;
            }
        }
        if !intel_hits.is_empty() {
            // Kept on this node only, durable before they are reported.
            let found = intel.hits(&intel_hits);
            let store = node.store.clone();
            let stored = match tokio::task::spawn_blocking(move || store.intel_store_hits(found))
                .await
                .map_err(internal)
                .and_then(|r| r.map_err(internal))
            {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            if let Err(e) = node.store.flush().await {
                let _ = tx.send(Err(internal(e))).await;
                return;
            }
            for (h, lh) in stored.iter().zip(&intel_hits) {
                intel_count += 1;
                let title = intel
                    .items
                    .get(&h.item)
                    .map(|(_, _, t)| t.clone())
                    .unwrap_or_default();
                let item = pb::screen_response::Item::IntelHit(pb::IntelHitInfo {
                    line: lh.line,
                    reference: h.reference.clone(),
                    hit_id: h.id,
                    item_id: h.item,
                    item_title: title,
                    source: h.source.to_string(),
                    grading: h.grading.to_string(),
                    explanation: super::intel::explain(&h.grading, &h.source),
                    score: h.score,
                    matched: matched_fields(&lh.hit.matched),
                    unit: unit.to_owned(),
                });
                if !send(&tx, item).await {
                    return;
                }
            }
        }
        let progress =
            pb::screen_response::Item::Progress(pb::ScreenProgress { lines, bytes, hits });
        if !send(&tx, progress).await {
            return;
        }
    }
    let summary = match worker.await {
        Ok(Ok(s)) => s,
        Ok(Err(screen::StreamError::Input(b))) => {
            let _ = tx.send(Err(Status::invalid_argument(b.to_string()))).await;
            return;
        }
        Ok(Err(e)) => {
            let _ = tx.send(Err(Status::invalid_argument(e.to_string()))).await;
            return;
        }
        Err(e) => {
            let _ = tx.send(Err(internal(e))).await;
            return;
        }
    };
    let held = held.load(std::sync::atomic::Ordering::Relaxed);
    // Running totals for monitoring (kept across restarts); a failure only costs the figure.
    for (name, n) in [
        (crate::store::counters::SCREENED_LINES, summary.lines),
        (crate::store::counters::SCREENING_HITS, hits),
    ] {
        if let Err(e) = node.store.add_total(name, n) {
            warn!(error = %e, "screening totals not counted");
        }
    }
    if held > 0 {
        if let Err(e) = node.store.flush().await {
            warn!(error = %e, "held lines not flushed");
        }
    }
    info!(
        lines = summary.lines,
        hits,
        shared,
        held,
        bad = summary.bad_lines,
        "screened"
    );
    let _ = send(
        &tx,
        pb::screen_response::Item::Summary(pb::ScreenSummary {
            kind: summary
                .kind
                .map(|k| k.as_str().to_owned())
                .unwrap_or_default(),
            lines: summary.lines,
            bad_lines: summary.bad_lines,
            bad_fields: summary.bad_fields,
            warnings: summary.warnings,
            format: summary
                .format
                .map(|f| f.as_str().to_owned())
                .unwrap_or_default(),
            hits,
            shared,
            alerts: engine.len() as u64,
            alerts_not_valid: engine.skipped_not_valid() as u64,
            date: engine.date().to_string(),
            stopped: summary.stopped,
            names: engine.names_enabled(),
            bytes: summary.bytes,
            held,
            intel_hits: intel_count,
            intel_items: intel.engine.len() as u64,
        }),
    )
    .await;
    drop(engine);
    crate::store::release_freed_memory();
}

/// Records the outcome of an inspection after one of this node's hits.
///
/// # Errors
/// Unknown hit, a hit of another desk, bad fields.
pub async fn record_outcome(
    node: &Node,
    hit: RecordId,
    req: &pb::RecordOutcomeRequest,
) -> Result<crate::record::SignedRecord, Status> {
    let entry = node
        .store
        .get(&hit)
        .map_err(internal)?
        .ok_or_else(|| Status::not_found(format!("no record {hit}")))?;
    let rec = entry.record().map_err(internal)?;
    let RecordKind::Hit(h) = rec.kind else {
        return Err(Status::invalid_argument(format!(
            "hit: {hit} is a {}, not a hit",
            rec.kind.name()
        )));
    };
    if rec.origin != *node.origin() {
        return Err(Status::failed_precondition(format!(
            "hit {hit} was raised by {}: only the desk that screened and inspected records its outcome",
            rec.origin
        )));
    }
    let result = OutcomeResult::parse(&req.result).map_err(|e| {
        Status::invalid_argument(format!("result: {e} (one of {})", OutcomeResult::names()))
    })?;
    let substance = match req.substance.as_str() {
        "" => None,
        s => Some(Substance::parse(s).map_err(|e| {
            Status::invalid_argument(format!("substance: {e} (one of {})", Substance::names()))
        })?),
    };
    if result == OutcomeResult::Seized && (substance.is_none() || req.quantity_grams == 0) {
        return Err(Status::invalid_argument(
            "substance, quantity: a seizure names the substance and a quantity above 0",
        ));
    }
    if result != OutcomeResult::Seized && req.quantity_grams != 0 {
        return Err(Status::invalid_argument(
            "quantity: only a seizure has a quantity",
        ));
    }
    if req.quantity_grams > crate::model::MAX_WEIGHT_GRAMS {
        return Err(Status::invalid_argument("quantity: at most 1,000,000 kg"));
    }
    let note = match req.note.as_str() {
        "" => None,
        n => Some(Note::parse(n).map_err(|e| Status::invalid_argument(format!("note: {e}")))?),
    };
    node.issue(RecordKind::Outcome(Outcome {
        hit_id: hit,
        alert_origin: h.alert_origin,
        result,
        substance,
        quantity_grams: req.quantity_grams,
        note,
    }))
    .await
    .map_err(Status::from)
}

/// Hits on this node's alerts and hits it raised, newest first, with outcomes.
///
/// # Errors
/// Storage failure.
pub fn list_hits(node: &Node, page: &HitPage) -> Result<Vec<pb::HitInfo>, StoreError> {
    let me = node.origin();
    // Every hit is indexed under its alert: read those (not every record), newest first.
    let mut found = Vec::new();
    for id in node.store.indexed_ids(IndexKind::HitOnAlert)? {
        let Some(e) = node.store.get(&id)? else {
            continue;
        };
        let rec = e.record()?;
        let RecordKind::Hit(h) = &rec.kind else {
            continue;
        };
        if (rec.origin != *me && h.alert_origin != *me) || rec.created_at_ms < page.since_ms {
            continue;
        }
        found.push((rec.created_at_ms, e.id, e, rec));
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(b.1 .0.cmp(&a.1 .0)));
    if let Some(after) = &page.after {
        match found.iter().position(|(_, id, _, _)| id == after) {
            Some(i) => {
                found.drain(..=i);
            }
            None => found.clear(),
        }
    }
    found.truncate(page.limit);
    let mut out = Vec::new();
    for (_, _, e, rec) in found {
        let RecordKind::Hit(h) = &rec.kind else {
            continue;
        };
        let title = match node.store.get(&h.alert_id)? {
            Some(a) => a
                .record()?
                .kind
                .alert()
                .map(|a| a.title.to_string())
                .unwrap_or_default(),
            None => String::new(),
        };
        let mut outcomes = Vec::new();
        for oid in node.store.lookup(IndexKind::OutcomeOfHit, &e.id.to_hex())? {
            let Some(oe) = node.store.get(&oid)? else {
                continue;
            };
            let orec = oe.record()?;
            if let RecordKind::Outcome(o) = &orec.kind {
                outcomes.push(pb::OutcomeInfo {
                    id_hex: oid.to_hex(),
                    result: o.result.as_str().to_owned(),
                    substance: o
                        .substance
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    quantity_grams: o.quantity_grams,
                    note: o.note.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                    created_at_ms: orec.created_at_ms,
                });
            }
        }
        outcomes.sort_by_key(|o| o.created_at_ms);
        out.push(pb::HitInfo {
            id_hex: e.id.to_hex(),
            screened_by: Some(rec.origin.to_pb()),
            alert_id_hex: h.alert_id.to_hex(),
            alert_origin: Some(h.alert_origin.to_pb()),
            alert_title: title,
            score: h.score,
            matched: h.matched.iter().map(MatchedField::to_pb).collect(),
            subject_reference: h.subject_reference.to_string(),
            screened_on: h.screened_on.to_string(),
            created_at_ms: rec.created_at_ms,
            outcomes,
        });
    }
    Ok(out)
}

/// Which hits to list: newest first, created at or after `since_ms`, after the hit `after`,
/// at most `limit`.
#[derive(Debug, Clone)]
pub struct HitPage {
    /// At most this many.
    pub limit: usize,
    /// Created at or after (ms since the epoch).
    pub since_ms: i64,
    /// Continue after this hit.
    pub after: Option<crate::record::RecordId>,
}

/// The report of this desk over every stored record, counting those created in `period`.
///
/// # Errors
/// Storage failure.
pub fn report(node: &Node, period: report::Period) -> Result<pb::ReportResponse, StoreError> {
    let mut records: Vec<(RecordId, Record)> = Vec::new();
    for e in node.store.iter() {
        let e = e?;
        let r = e.record()?;
        records.push((e.id, r));
    }
    let desk = &node.config.origin;
    let r = report::build(&records, desk, period);
    let row = |x: &report::Row| pb::ReportRow {
        key: x.key.clone(),
        alerts: x.alerts,
        hits: x.hits,
        outcomes: x.outcomes,
        seizures: x.seizures,
        seized_grams: x.seized_grams,
    };
    let rows = |v: &[report::Row]| -> Vec<pb::ReportRow> { v.iter().map(row).collect() };
    Ok(pb::ReportResponse {
        since: r.since.clone().unwrap_or_default(),
        until: r.until.clone().unwrap_or_default(),
        desk_country: desk.country.to_string(),
        desk_node: desk.node.to_string(),
        period_start: r.period_start.clone().unwrap_or_default(),
        period_end: r.period_end.clone().unwrap_or_default(),
        tlp: r.tlp.map(|t| t.as_str().to_owned()).unwrap_or_default(),
        totals: Some(row(&r.totals)),
        weeks: r
            .weeks
            .iter()
            .map(|w| pb::ReportWeek {
                week: w.week.clone(),
                starts: w.starts.clone(),
                alerts: w.alerts,
                hits: w.hits,
                seizures: w.seizures,
                seized_grams: w.seized_grams,
            })
            .collect(),
        by_partner: rows(&r.by_partner),
        by_route: rows(&r.by_route),
        by_substance: rows(&r.by_substance),
        sources: r
            .sources
            .iter()
            .map(|s| pb::SourcePrecision {
                source: s.source.clone(),
                hits: s.hits,
                with_outcome: s.with_outcome,
                seizures: s.seizures,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screening_date_is_today_or_a_real_date_an_alert_can_reach() {
        let today = Date::parse("2026-11-24").unwrap();
        assert_eq!(screening_date("", today), Ok(today));
        let near = today.plus_days(MAX_VALIDITY_DAYS);
        assert_eq!(screening_date(&near.to_string(), today), Ok(near));
        let past = today.plus_days(-MAX_VALIDITY_DAYS);
        assert_eq!(screening_date(&past.to_string(), today), Ok(past));
        for far in [MAX_VALIDITY_DAYS + 1, -MAX_VALIDITY_DAYS - 1] {
            let e = screening_date(&today.plus_days(far).to_string(), today).unwrap_err();
            assert!(
                e.starts_with("options.date:") && e.contains("within"),
                "{e}"
            );
        }
        for bad in ["2026-02-30", "24.11.2026", "tomorrow"] {
            let e = screening_date(bad, today).unwrap_err();
            assert!(e.starts_with("options.date:"), "{e}");
        }
    }
}
