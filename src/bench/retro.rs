//! `kdesk bench retro`: one new alert screened against the lines a node holds.

use std::time::Instant;

use kdesk::model::{Alert, Date};
use kdesk::screen::manifest::{Line, Subject};
use kdesk::screen::{self, gen, retro, Engine, Format, Options, ScreenAlert};
use kdesk::store::{Store, StoreOptions};

/// One probe: a new alert and what retro-screening it took.
#[derive(Debug, serde::Serialize)]
pub struct Probe {
    /// What the alert names.
    pub alert: String,
    /// Lines screened (those sharing a probe key with the alert).
    pub candidates: usize,
    /// Hits.
    pub hits: usize,
    /// Milliseconds, from the alert to its hits (keys, lookups, decoding, screening).
    pub ms: f64,
}

/// What the benchmark measured.
#[derive(Debug, serde::Serialize)]
pub struct RetroReport {
    /// Lines held.
    pub held: u64,
    /// Seconds to parse, hold and flush them (setup, not the target).
    pub hold_seconds: f64,
    /// Segments the lines were held in (each one filter a search reads).
    pub segments: u64,
    /// Database size after holding.
    pub database_mib: f64,
    /// The probes.
    pub probes: Vec<Probe>,
}

fn cargo_alert(json_subject: &str, today: Date) -> Result<Alert, String> {
    Alert::from_json(&format!(
        r#"{{"title": "Retro-screening benchmark",
            "subject": {{"cargo": {json_subject}}},
            "substances": ["methamphetamine"], "risk": "high",
            "validity": {{"valid_from": "{today}", "valid_until": "{}"}},
            "distribution": {{"all_partners": true}}, "handling": {{"tlp": "amber"}}}}"#,
        today.plus_days(30)
    ))
    .map_err(|e| e.to_string())
}

fn cargo_profile(today: Date) -> Result<Alert, String> {
    Alert::from_json(&format!(
        r#"{{"title": "Retro-screening benchmark profile",
            "subject": {{"profile": {{"routes": ["express"], "origin_countries": ["TH"],
                "hs_prefixes": ["3004"], "max_weight_kg": 20}}}},
            "substances": ["ketamine"], "risk": "medium",
            "validity": {{"valid_from": "{today}", "valid_until": "{}"}},
            "distribution": {{"all_partners": true}}, "handling": {{"tlp": "amber"}}}}"#,
        today.plus_days(30)
    ))
    .map_err(|e| e.to_string())
}

/// Holds `lines` generated consignments, then screens new alerts against them.
///
/// # Errors
/// Generator, storage or parsing failures.
pub fn retro(lines: u64, seed: u64) -> Result<RetroReport, String> {
    let today = Date::today_utc();
    let spec = gen::Spec {
        alerts: 100,
        lines: usize::try_from(lines).map_err(|e| e.to_string())?,
        seed,
        true_identifiers: 1,
        true_names: 1,
        true_profiles: 1,
        date: today,
    };
    let generated = gen::alerts(&spec).map_err(|e| format!("generator: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("manifest.csv");
    {
        let f = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        gen::write_manifest(&spec, &generated, &mut w, Format::Csv).map_err(|e| e.to_string())?;
        std::io::Write::flush(&mut w).map_err(|e| e.to_string())?;
    }
    let store = Store::open_with(&dir.path().join("db"), &StoreOptions::default())
        .map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let empty = Engine::build(Vec::new(), today, Options { names: false });
    let mut samples: Vec<Line> = Vec::new();
    let mut failed = None;
    let every = (lines / 3).max(1);
    let mut seen = 0u64;
    screen::screen_stream(
        &empty,
        &screen::ReadOptions {
            format: Some(Format::Csv),
            mapping: None,
        },
        screen::file_chunks(
            std::fs::File::open(&path).map_err(|e| e.to_string())?,
            1 << 20,
        ),
        1,
        |_, mut r| {
            let parsed = std::mem::take(&mut r.parsed);
            for l in &parsed {
                seen += 1;
                if seen % every == every / 2 {
                    samples.push(l.clone());
                }
            }
            if let Err(e) = retro::hold_block(&store, 3, &parsed, today) {
                failed = Some(e.to_string());
                return false;
            }
            true
        },
    )
    .map_err(|e| e.to_string())?;
    if let Some(e) = failed {
        return Err(e);
    }
    store.flush_blocking().map_err(|e| e.to_string())?;
    let hold_seconds = t0.elapsed().as_secs_f64();
    let mut alerts = Vec::new();
    for l in &samples {
        let Subject::Cargo(c) = &l.subject else {
            continue;
        };
        if let Some(n) = c.container_numbers.first() {
            alerts.push((
                format!("container {}", n.as_str()),
                cargo_alert(
                    &format!(
                        r#"{{"route": "sea-container", "container_numbers": ["{}"]}}"#,
                        n.as_str()
                    ),
                    today,
                )?,
            ));
        }
        if let Some(name) = &c.consignee.name {
            alerts.push((
                format!("consignee {name}"),
                cargo_alert(
                    &format!(
                        r#"{{"route": "express", "consignee": {{"name": {}}}}}"#,
                        serde_json::Value::String(name.clone())
                    ),
                    today,
                )?,
            ));
        }
    }
    // A profile names no one: every held line that can fit it is screened against it, up to
    // retro::MAX_CANDIDATES.
    alerts.push((
        "profile: express from TH, HS 3004".into(),
        cargo_profile(today)?,
    ));
    alerts.push((
        "container not held (MSKU 907032-3)".into(),
        cargo_alert(
            r#"{"route": "sea-container", "container_numbers": ["MSKU 907032-3"]}"#,
            today,
        )?,
    ));
    let origin = kdesk::record::Origin::parse("TH/bkk").map_err(|e| e.to_string())?;
    let mut probes = Vec::new();
    for (i, (what, alert)) in alerts.into_iter().enumerate() {
        let candidates =
            retro::candidates(&store, &retro::alert_keys(&alert), retro::MAX_CANDIDATES)
                .map_err(|e| e.to_string())?
                .len();
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let t = Instant::now();
        let (_, hits) = retro::screen_held(
            &store,
            ScreenAlert {
                id: kdesk::record::RecordId(id),
                origin: origin.clone(),
                alert,
            },
            today,
        )
        .map_err(|e| e.to_string())?;
        probes.push(Probe {
            alert: what,
            candidates,
            hits: hits.len(),
            ms: t.elapsed().as_secs_f64() * 1000.0,
        });
    }
    Ok(RetroReport {
        held: store.held_count(),
        segments: store.held_segment_count(),
        hold_seconds,
        database_mib: store.size_on_disk() as f64 / (1024.0 * 1024.0),
        probes,
    })
}
