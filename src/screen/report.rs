//! The desk chief's report: alerts, hits and seizures by partner, route and substance, and
//! the precision of each source's alerts, as a terminal table and an SVG chart.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::model::{Date, OutcomeResult, Substance};
use crate::record::{Record, RecordId, RecordKind};

/// One row of a breakdown.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    /// Partner country, route or substance.
    pub key: String,
    /// Alerts issued (first versions).
    pub alerts: u64,
    /// Hits.
    pub hits: u64,
    /// Hits with an inspection outcome.
    pub outcomes: u64,
    /// Seizures.
    pub seizures: u64,
    /// Grams seized.
    pub seized_grams: u64,
}

/// How often a source's alerts led to seizures.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Source {
    /// The desk that raised the alerts (country).
    pub source: String,
    /// Hits on its alerts.
    pub hits: u64,
    /// Of which with an outcome.
    pub with_outcome: u64,
    /// Of which led to a seizure.
    pub seizures: u64,
}

impl Source {
    /// Seizures per hit with an outcome, if any outcome is known.
    pub fn precision(&self) -> Option<f64> {
        (self.with_outcome > 0).then(|| self.seizures as f64 / self.with_outcome as f64)
    }
}

/// The report.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    /// First day counted (None: everything).
    pub since: Option<String>,
    /// By the alert's origin country.
    pub by_partner: Vec<Row>,
    /// By route (`traveler`, cargo routes).
    pub by_route: Vec<Row>,
    /// By substance.
    pub by_substance: Vec<Row>,
    /// Precision by source.
    pub sources: Vec<Source>,
}

fn day_of(ms: i64) -> Option<Date> {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).ok()?;
    Date::parse(&t.date().to_string()).ok()
}

/// Builds the report from every stored record (`records` in any order).
pub fn build(records: &[(RecordId, Record)], since: Option<Date>) -> Report {
    let in_range =
        |r: &Record| since.is_none_or(|s| day_of(r.created_at_ms).is_some_and(|d| d >= s));
    // Alert versions by id: (origin country, route, substances).
    let mut alert_of: HashMap<RecordId, (String, String, Vec<Substance>)> = HashMap::new();
    for (id, r) in records {
        if let Some(a) = r.kind.alert() {
            alert_of.insert(
                *id,
                (
                    r.origin.country.to_string(),
                    a.route_name().to_owned(),
                    a.substances.clone(),
                ),
            );
        }
    }
    // Outcomes by hit (the last one recorded counts).
    let mut outcome_of: HashMap<RecordId, (i64, OutcomeResult, Option<Substance>, u64)> =
        HashMap::new();
    for (_, r) in records {
        if let RecordKind::Outcome(o) = &r.kind {
            let e = outcome_of.entry(o.hit_id).or_insert((
                r.created_at_ms,
                o.result,
                o.substance,
                o.quantity_grams,
            ));
            if r.created_at_ms >= e.0 {
                *e = (r.created_at_ms, o.result, o.substance, o.quantity_grams);
            }
        }
    }
    let mut partner: BTreeMap<String, Row> = BTreeMap::new();
    let mut route: BTreeMap<String, Row> = BTreeMap::new();
    let mut substance: BTreeMap<String, Row> = BTreeMap::new();
    let mut sources: BTreeMap<String, Source> = BTreeMap::new();
    fn bump(m: &mut BTreeMap<String, Row>, k: &str, f: impl Fn(&mut Row)) {
        let r = m.entry(k.to_owned()).or_insert_with(|| Row {
            key: k.to_owned(),
            ..Default::default()
        });
        f(r);
    }
    for (id, r) in records {
        if !in_range(r) {
            continue;
        }
        match &r.kind {
            RecordKind::Alert(a) => {
                bump(&mut partner, r.origin.country.as_str(), |x| x.alerts += 1);
                bump(&mut route, a.route_name(), |x| x.alerts += 1);
                for s in &a.substances {
                    bump(&mut substance, s.as_str(), |x| x.alerts += 1);
                }
            }
            RecordKind::Hit(h) => {
                let Some((cc, rt, subs)) = alert_of.get(&h.alert_id) else {
                    continue;
                };
                let out = outcome_of.get(id);
                let seized = out.filter(|o| o.1 == OutcomeResult::Seized);
                let grams = seized.map_or(0, |o| o.3);
                let count = |x: &mut Row| {
                    x.hits += 1;
                    x.outcomes += u64::from(out.is_some());
                    x.seizures += u64::from(seized.is_some());
                    x.seized_grams += grams;
                };
                bump(&mut partner, cc, count);
                bump(&mut route, rt, count);
                // A seizure counts under the substance found; otherwise the alert's.
                match seized.and_then(|o| o.2) {
                    Some(s) => bump(&mut substance, s.as_str(), count),
                    None => {
                        for s in subs {
                            bump(&mut substance, s.as_str(), count);
                        }
                    }
                }
                let src = sources.entry(cc.clone()).or_insert_with(|| Source {
                    source: cc.clone(),
                    ..Default::default()
                });
                src.hits += 1;
                src.with_outcome += u64::from(out.is_some());
                src.seizures += u64::from(seized.is_some());
            }
            _ => {}
        }
    }
    Report {
        since: since.map(|d| d.to_string()),
        by_partner: partner.into_values().collect(),
        by_route: route.into_values().collect(),
        by_substance: substance.into_values().collect(),
        sources: sources.into_values().collect(),
    }
}

fn kg(grams: u64) -> String {
    format!("{:.3}", grams as f64 / 1000.0)
}

/// The report as plain text tables.
pub fn to_table(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "kdesk report{}",
        r.since
            .as_ref()
            .map(|d| format!(" since {d}"))
            .unwrap_or_else(|| " (all records)".into())
    );
    for (title, rows) in [
        ("by partner (alert origin)", &r.by_partner),
        ("by route", &r.by_route),
        ("by substance", &r.by_substance),
    ] {
        let _ = writeln!(s, "\n{title}");
        let _ = writeln!(
            s,
            "  {:<26} {:>7} {:>7} {:>9} {:>9} {:>12}",
            "", "alerts", "hits", "outcomes", "seizures", "seized kg"
        );
        for x in rows {
            let _ = writeln!(
                s,
                "  {:<26} {:>7} {:>7} {:>9} {:>9} {:>12}",
                x.key,
                x.alerts,
                x.hits,
                x.outcomes,
                x.seizures,
                kg(x.seized_grams)
            );
        }
        if rows.is_empty() {
            let _ = writeln!(s, "  (nothing)");
        }
    }
    let _ = writeln!(
        s,
        "\nprecision of each source (hits that led to seizures / hits with an outcome)"
    );
    for x in &r.sources {
        let p = x
            .precision()
            .map_or("n/a (no outcome yet)".to_owned(), |p| {
                format!("{:.0}%", p * 100.0)
            });
        let _ = writeln!(
            s,
            "  {:<6} {:>4} hits, {:>4} with outcome, {:>4} seizures: {}",
            x.source, x.hits, x.with_outcome, x.seizures, p
        );
    }
    if r.sources.is_empty() {
        let _ = writeln!(s, "  (no hits)");
    }
    s
}

fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as a self-contained SVG chart: alerts, hits and seizures per partner, and
/// seized kilograms per substance.
pub fn to_svg(r: &Report) -> String {
    let bar_w = 18.0;
    let group_w = 3.0 * bar_w + 24.0;
    let left = 60.0;
    let top = 70.0;
    let h = 220.0;
    let n1 = r.by_partner.len().max(1) as f64;
    let n2 = r.by_substance.len().max(1) as f64;
    let width = (left + n1 * group_w + 60.0)
        .max(left + n2 * (bar_w * 2.0 + 40.0) + 60.0)
        .max(560.0);
    let height = top + h + 90.0 + h + 90.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{left}" y="28" font-size="18" font-weight="bold">Korean Desk: alerts, hits and seizures by partner</text>
<text x="{left}" y="48" fill="#555">{}</text>
"##,
        esc(&r
            .since
            .as_ref()
            .map(|d| format!("since {d}"))
            .unwrap_or_else(|| "all records".into()))
    );
    let colors = [
        ("alerts", "#4e79a7"),
        ("hits", "#f28e2b"),
        ("seizures", "#e15759"),
    ];
    let max1 = r
        .by_partner
        .iter()
        .flat_map(|x| [x.alerts, x.hits, x.seizures])
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let base = top + h;
    let _ = writeln!(
        s,
        r##"<line x1="{left}" y1="{base}" x2="{:.0}" y2="{base}" stroke="#333"/>"##,
        width - 30.0
    );
    for (i, x) in r.by_partner.iter().enumerate() {
        let gx = left + 12.0 + i as f64 * group_w;
        for (j, (v, (name, c))) in [x.alerts, x.hits, x.seizures]
            .iter()
            .zip(colors)
            .enumerate()
        {
            let bh = *v as f64 / max1 * h;
            let bx = gx + j as f64 * bar_w;
            let _ = writeln!(
                s,
                r#"<rect x="{bx:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{c}"><title>{} {name}: {v}</title></rect>"#,
                base - bh,
                bar_w - 2.0,
                esc(&x.key)
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{v}</text>"#,
                bx + bar_w / 2.0 - 1.0,
                base - bh - 3.0
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-weight="bold">{}</text>"#,
            gx + 1.5 * bar_w,
            base + 16.0,
            esc(&x.key)
        );
    }
    for (j, (name, c)) in colors.iter().enumerate() {
        let lx = left + j as f64 * 90.0;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{:.0}" width="12" height="12" fill="{c}"/><text x="{:.0}" y="{:.0}">{name}</text>"#,
            base + 30.0,
            lx + 16.0,
            base + 40.0
        );
    }
    // Seized kg by substance.
    let top2 = base + 90.0;
    let _ = writeln!(
        s,
        r#"<text x="{left}" y="{:.0}" font-size="16" font-weight="bold">Seized (kg) by substance</text>"#,
        top2 - 20.0
    );
    let max2 = r
        .by_substance
        .iter()
        .map(|x| x.seized_grams)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let base2 = top2 + h;
    let _ = writeln!(
        s,
        r##"<line x1="{left}" y1="{base2}" x2="{:.0}" y2="{base2}" stroke="#333"/>"##,
        width - 30.0
    );
    for (i, x) in r.by_substance.iter().enumerate() {
        let bx = left + 12.0 + i as f64 * (bar_w * 2.0 + 40.0);
        let bh = x.seized_grams as f64 / max2 * h;
        let _ = writeln!(
            s,
            r##"<rect x="{bx:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="#59a14f"><title>{}: {} kg</title></rect>"##,
            base2 - bh,
            bar_w * 2.0,
            esc(&x.key),
            kg(x.seized_grams)
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
            bx + bar_w,
            base2 - bh - 3.0,
            kg(x.seized_grams)
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
            bx + bar_w,
            base2 + 16.0,
            esc(&x.key)
        );
    }
    s.push_str("</svg>\n");
    s
}
