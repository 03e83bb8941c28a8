//! Retro-screening on the node: screened lines of consignments and travelers not yet arrived
//! are held; each new alert or amendment, issued here or received, is screened against them
//! as soon as it is durable; hits are recorded (and shared when `[screening] share_hits`).

use std::sync::Arc;

use tracing::{info, warn};

use super::Node;
use crate::model::Date;
use crate::screen::{retro, LineHit, ScreenAlert};
use crate::store::{Status, StoreError};

/// One hit found by retro-screening, as kept in the store and listed by `kdesk hits list`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RetroHit {
    /// When it was found (ms).
    pub found_at_ms: i64,
    /// The alert version.
    pub alert_id: String,
    /// Its desk.
    pub alert_origin: String,
    /// Its title.
    pub alert_title: String,
    /// The line's own reference.
    pub reference: String,
    /// The line number in the screened file.
    pub line: u64,
    /// Score (0-1000).
    pub score: u32,
    /// Evidence: (field, value, reason).
    pub matched: Vec<(String, String, String)>,
    /// The signed hit record, when shared.
    pub hit_id: Option<String>,
}

/// Follows the log from where retro-screening stopped: each new alert version that is
/// active and valid today is screened against the held lines. Held lines past their day are
/// purged once a day (and at start).
pub async fn run(node: Arc<Node>) {
    let mut durable = node.log.durable_watch();
    let mut stopping = node.stopping_watch();
    let mut pos = match node.store.retro_position() {
        Ok(Some(p)) => p,
        // First start: the log so far was there before any line was held.
        _ => node.log.durable_len(),
    };
    let mut purged_on: Option<Date> = None;
    loop {
        let today = Date::today_utc();
        if purged_on != Some(today) {
            let n = node.clone();
            let day = retro::day_number(today);
            match tokio::task::spawn_blocking(move || n.store.purge_held(day)).await {
                Ok(Ok(k)) if k > 0 => info!(purged = k, "held lines past their day removed"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => warn!(error = %e, "purging held lines failed"),
                Err(e) => warn!(error = %e, "purging held lines failed"),
            }
            purged_on = Some(today);
        }
        let len = node.log.durable_len();
        // A restored node shares nothing until it has declared its restore: wait.
        if len > pos && !node.cx.is_recovering() {
            match screen_new(&node, pos, len, today).await {
                Ok(()) => {
                    pos = len;
                    if let Err(e) = node.store.set_retro_position(pos) {
                        warn!(error = %e, "retro-screening position not saved");
                    }
                }
                Err(e) => warn!(error = %e, "retro-screening failed; retrying"),
            }
        }
        tokio::select! {
            r = durable.changed() => if r.is_err() { return },
            _ = stopping.changed() => return,
            // Wake daily for the purge even when nothing arrives.
            () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
        if *stopping.borrow() {
            return;
        }
    }
}

/// Retro-screens the alert versions at log positions `from..to`.
async fn screen_new(node: &Arc<Node>, from: u64, to: u64, today: Date) -> Result<(), String> {
    if node.store.held_count() == 0 {
        return Ok(());
    }
    let revs = node
        .fed
        .registry
        .read()
        .map(|r| r.revocations())
        .unwrap_or_default();
    let n = node.clone();
    let found = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
        let mut found = Vec::new();
        for item in n.store.log_range(from, to) {
            let (_, id) = item?;
            let Some(entry) = n.store.get(&id)? else {
                continue;
            };
            let record = entry.record()?;
            let Some(alert) = record.kind.alert() else {
                continue;
            };
            let active = entry
                .state
                .as_ref()
                .is_none_or(|s| s.status == Status::Active);
            if !active
                || crate::federation::registry::revoked_for(
                    &revs,
                    &entry.envelope,
                    record.created_at_ms,
                )
            {
                continue;
            }
            let sa = ScreenAlert {
                id,
                origin: record.origin.clone(),
                alert: alert.clone(),
            };
            let (engine, hits) = retro::screen_held(&n.store, sa, today)?;
            if !hits.is_empty() {
                found.push((engine, hits));
            }
        }
        Ok(found)
    })
    .await
    .map_err(|e| format!("retro-screening task: {e}"))?
    .map_err(|e| e.to_string())?;
    for (engine, hits) in found {
        let shared = if node.config.share_retro_hits {
            let line_hits: Vec<LineHit> = hits.iter().map(|(h, _)| h.clone()).collect();
            match super::screening::share_hits(node, &engine, &line_hits).await {
                Ok(ids) => ids.into_iter().map(|(id, _)| Some(id.to_hex())).collect(),
                Err(e) => {
                    warn!(error = %e.message(), "retro-screening hits not shared");
                    vec![None; hits.len()]
                }
            }
        } else {
            vec![None; hits.len()]
        };
        for ((h, line_id), hit_id) in hits.iter().zip(shared) {
            let a = engine.alert(h.hit.alert).map_err(|e| e.to_string())?;
            let rh = RetroHit {
                found_at_ms: crate::record::now_ms(),
                alert_id: a.id.to_hex(),
                alert_origin: a.origin.to_string(),
                alert_title: a.alert.title.to_string(),
                reference: h.reference.clone(),
                line: h.line,
                score: h.hit.score,
                matched: h
                    .hit
                    .matched
                    .iter()
                    .map(|e| (e.field.to_owned(), e.value.clone(), e.reason.clone()))
                    .collect(),
                hit_id,
            };
            let json = serde_json::to_vec(&rh).map_err(|e| e.to_string())?;
            let new = node
                .store
                .put_retro_hit(rh.found_at_ms, &a.id, line_id, &json)
                .map_err(|e| e.to_string())?;
            if new {
                warn!(alert = %rh.alert_id, origin = %rh.alert_origin, reference = %rh.reference,
                      score = rh.score, shared = rh.hit_id.is_some(),
                      "RETRO-SCREENING HIT: a line screened earlier meets a new alert");
            }
        }
        node.store.flush().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Retro-screening hits, newest first.
///
/// # Errors
/// Storage failure.
pub fn list(node: &Node) -> Result<Vec<crate::pb::RetroHitInfo>, StoreError> {
    let mut out = Vec::new();
    for json in node.store.retro_hits()?.into_iter().rev() {
        let Ok(h) = serde_json::from_slice::<RetroHit>(&json) else {
            continue;
        };
        out.push(crate::pb::RetroHitInfo {
            found_at_ms: h.found_at_ms,
            alert_id_hex: h.alert_id,
            alert_origin: crate::record::Origin::parse(&h.alert_origin)
                .ok()
                .map(|o| o.to_pb()),
            alert_title: h.alert_title,
            reference: h.reference,
            line: h.line,
            score: h.score,
            matched: h
                .matched
                .into_iter()
                .map(|(field, value, reason)| crate::pb::MatchedField {
                    field,
                    value,
                    reason,
                })
                .collect(),
            hit_id_hex: h.hit_id.unwrap_or_default(),
        });
    }
    Ok(out)
}
