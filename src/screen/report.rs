//! The desk chief's report: alerts, hits and seizures by ISO week, partner, route and
//! substance, and the precision of each source's alerts, as a terminal table (the chart is
//! drawn by [`super::chart`]).
//!
//! [`build`] is a pure function of the records, the desk and the period: the node calls it
//! over its store, tests call it over records they make.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::model::{Date, OutcomeResult, Substance, Tlp};
use crate::record::{Origin, Record, RecordId, RecordKind};

/// One row of a breakdown (or the totals).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Row {
    /// Partner country, route or substance (`total` for the totals).
    pub key: String,
    /// Alerts issued (first versions) in the period.
    pub alerts: u64,
    /// Hits in the period.
    pub hits: u64,
    /// Of which with an inspection outcome.
    pub outcomes: u64,
    /// Of which led to a seizure.
    pub seizures: u64,
    /// Grams seized: the exact figure, kept for the readers of earlier reports.
    pub seized_grams: u64,
    /// Kilograms seized (`seized_grams` / 1000).
    pub seized_kg: f64,
}

impl Row {
    fn new(key: &str) -> Self {
        Self {
            key: key.to_owned(),
            ..Default::default()
        }
    }
    fn add(&mut self, o: &Row) {
        self.alerts += o.alerts;
        self.hits += o.hits;
        self.outcomes += o.outcomes;
        self.seizures += o.seizures;
        self.seized_grams += o.seized_grams;
        self.seized_kg = kg(self.seized_grams);
    }
}

/// Alerts, hits and seizures of one ISO 8601 week (Monday to Sunday, UTC).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Week {
    /// The ISO week, `2026-W01`.
    pub week: String,
    /// Its Monday, `YYYY-MM-DD`.
    pub starts: String,
    /// Alerts issued (first versions) that week.
    pub alerts: u64,
    /// Hits that week.
    pub hits: u64,
    /// Seizures after the hits of that week (counted in the week of the hit, so that the
    /// weeks add up to the totals).
    pub seizures: u64,
    /// Kilograms seized after the hits of that week.
    pub seized_kg: f64,
    /// Grams seized (exact; carried over the Admin API, not printed).
    #[serde(skip)]
    pub seized_grams: u64,
}

/// How often a source's alerts led to seizures.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Source {
    /// The desk that raised the alerts (country).
    pub source: String,
    /// Hits on its alerts.
    pub hits: u64,
    /// Of which with an outcome (the `n` of the precision).
    pub with_outcome: u64,
    /// Of which led to a seizure.
    pub seizures: u64,
    /// `seizures / with_outcome`; None (printed `–`) while no outcome is known.
    pub precision: Option<f64>,
}

impl Source {
    /// A source with its counts and the precision they give.
    pub fn new(source: &str, hits: u64, with_outcome: u64, seizures: u64) -> Self {
        Self {
            source: source.to_owned(),
            hits,
            with_outcome,
            seizures,
            precision: precision(seizures, with_outcome),
        }
    }
}

/// Seizures per hit with an outcome, if any outcome is known.
pub fn precision(seizures: u64, with_outcome: u64) -> Option<f64> {
    (with_outcome > 0).then(|| seizures as f64 / with_outcome as f64)
}

/// The days counted: records created on or after `since` and on or before `until` (UTC);
/// None on either side leaves it open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Period {
    /// First day counted.
    pub since: Option<Date>,
    /// Last day counted.
    pub until: Option<Date>,
}

impl Period {
    /// A period, refused when `until` is before `since`.
    ///
    /// # Errors
    /// The two dates in the wrong order, named.
    pub fn new(since: Option<Date>, until: Option<Date>) -> Result<Self, String> {
        if let (Some(s), Some(u)) = (since, until) {
            if u < s {
                return Err(format!(
                    "until: {u} is before since {s}; the period would be empty"
                ));
            }
        }
        Ok(Self { since, until })
    }
    fn contains(&self, d: time::Date) -> bool {
        self.since.is_none_or(|s| d >= day(s)) && self.until.is_none_or(|u| d <= day(u))
    }
}

/// The report.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Report {
    /// The desk the report is for, `COUNTRY/node` (the node's identity).
    pub desk: String,
    /// First day counted, as asked (None: from the first record).
    pub since: Option<String>,
    /// Last day counted, as asked (None: to the last record).
    pub until: Option<String>,
    /// First day of the period shown: `since`, else the day of the first record counted
    /// (None: nothing counted and no `since`).
    pub period_start: Option<String>,
    /// Last day of the period shown: `until`, else the day of the last record counted.
    pub period_end: Option<String>,
    /// The strictest TLP 2.0 label of the alerts counted and of the alerts behind the hits
    /// counted (`TLP:CLEAR` when there is none).
    #[serde(serialize_with = "ser_tlp")]
    pub tlp: Option<Tlp>,
    /// Everything in the period.
    pub totals: Row,
    /// Every ISO week of the period, empty weeks included.
    pub weeks: Vec<Week>,
    /// By the alert's origin country.
    pub by_partner: Vec<Row>,
    /// By route (`traveler`, cargo routes).
    pub by_route: Vec<Row>,
    /// By substance (a seizure counts under the substance found, otherwise under each of
    /// the alert's substances).
    pub by_substance: Vec<Row>,
    /// Precision by source desk.
    pub sources: Vec<Source>,
}

fn ser_tlp<S: serde::Serializer>(t: &Option<Tlp>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tlp_label(*t))
}

/// How strict a TLP label is: CLEAR 0 < GREEN < AMBER < AMBER+STRICT < RED 4.
pub fn strictness(t: Tlp) -> u8 {
    match t {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

/// The stricter of two labels.
pub fn stricter(a: Option<Tlp>, b: Tlp) -> Tlp {
    match a {
        Some(a) if strictness(a) >= strictness(b) => a,
        _ => b,
    }
}

/// The TLP 2.0 label as printed, `TLP:AMBER+STRICT`; `TLP:CLEAR` for None (no alert).
pub fn tlp_label(t: Option<Tlp>) -> &'static str {
    match t.unwrap_or(Tlp::Clear) {
        Tlp::Clear => "TLP:CLEAR",
        Tlp::Green => "TLP:GREEN",
        Tlp::Amber => "TLP:AMBER",
        Tlp::AmberStrict => "TLP:AMBER+STRICT",
        Tlp::Red => "TLP:RED",
    }
}

fn day(d: Date) -> time::Date {
    d.midnight_utc().date()
}

fn day_of(ms: i64) -> Option<time::Date> {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .map(|t| t.date())
}

fn ymd(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The ISO 8601 week of a day: (ISO year, week 1-53). The ISO year differs from the
/// calendar year around New Year (2027-01-01 is in 2026-W53, 2024-12-30 in 2025-W01).
pub fn iso_week(d: time::Date) -> (i32, u8) {
    let (y, w, _) = d.to_iso_week_date();
    (y, w)
}

/// `2026-W01`.
pub fn week_label((y, w): (i32, u8)) -> String {
    format!("{y:04}-W{w:02}")
}

/// The Monday starting a day's ISO week.
pub fn week_monday(d: time::Date) -> time::Date {
    d - time::Duration::days(i64::from(d.weekday().number_days_from_monday()))
}

/// The ISO weeks from the one holding `first` to the one holding `last`, in order, each
/// with its Monday.
pub fn weeks_between(first: time::Date, last: time::Date) -> Vec<((i32, u8), time::Date)> {
    let mut out = Vec::new();
    let mut m = week_monday(first);
    let end = week_monday(last);
    while m <= end {
        out.push((iso_week(m), m));
        match m.checked_add(time::Duration::days(7)) {
            Some(n) => m = n,
            None => break,
        }
    }
    out
}

fn kg(grams: u64) -> f64 {
    grams as f64 / 1000.0
}

/// Builds the report for `desk` from every stored record (`records` in any order), counting
/// the alerts and hits created in `period`.
pub fn build(records: &[(RecordId, Record)], desk: &Origin, period: Period) -> Report {
    // Alert versions by id: (origin country, route, substances, TLP).
    let mut alert_of: HashMap<RecordId, (String, &'static str, &[Substance], Tlp)> = HashMap::new();
    for (id, r) in records {
        if let Some(a) = r.kind.alert() {
            alert_of.insert(
                *id,
                (
                    r.origin.country.to_string(),
                    a.route_name(),
                    &a.substances,
                    a.handling.tlp,
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
    let mut sources: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut weeks: BTreeMap<(i32, u8), Week> = BTreeMap::new();
    let mut totals = Row::new("total");
    let mut tlp: Option<Tlp> = None;
    let mut first: Option<time::Date> = None;
    let mut last: Option<time::Date> = None;
    fn bump(m: &mut BTreeMap<String, Row>, k: &str, f: impl Fn(&mut Row)) {
        f(m.entry(k.to_owned()).or_insert_with(|| Row::new(k)));
    }
    fn week_of(m: &mut BTreeMap<(i32, u8), Week>, d: time::Date) -> &mut Week {
        let w = iso_week(d);
        m.entry(w).or_insert_with(|| Week {
            week: week_label(w),
            starts: ymd(week_monday(d)),
            ..Default::default()
        })
    }
    for (id, r) in records {
        let Some(d) = day_of(r.created_at_ms) else {
            continue;
        };
        if !period.contains(d) {
            continue;
        }
        match &r.kind {
            RecordKind::Alert(a) => {
                bump(&mut partner, r.origin.country.as_str(), |x| x.alerts += 1);
                bump(&mut route, a.route_name(), |x| x.alerts += 1);
                for s in &a.substances {
                    bump(&mut substance, s.as_str(), |x| x.alerts += 1);
                }
                totals.alerts += 1;
                week_of(&mut weeks, d).alerts += 1;
                tlp = Some(stricter(tlp, a.handling.tlp));
            }
            RecordKind::Hit(h) => {
                let Some((cc, rt, subs, alert_tlp)) = alert_of.get(&h.alert_id) else {
                    continue;
                };
                tlp = Some(stricter(tlp, *alert_tlp));
                let out = outcome_of.get(id);
                let seized = out.filter(|o| o.1 == OutcomeResult::Seized);
                let grams = seized.map_or(0, |o| o.3);
                let count = |x: &mut Row| {
                    x.hits += 1;
                    x.outcomes += u64::from(out.is_some());
                    x.seizures += u64::from(seized.is_some());
                    x.seized_grams += grams;
                };
                count(&mut totals);
                bump(&mut partner, cc, count);
                bump(&mut route, rt, count);
                // A seizure counts under the substance found; otherwise the alert's.
                match seized.and_then(|o| o.2) {
                    Some(s) => bump(&mut substance, s.as_str(), count),
                    None => {
                        for s in subs.iter() {
                            bump(&mut substance, s.as_str(), count);
                        }
                    }
                }
                let src = sources.entry(cc.clone()).or_default();
                src.0 += 1;
                src.1 += u64::from(out.is_some());
                src.2 += u64::from(seized.is_some());
                let w = week_of(&mut weeks, d);
                w.hits += 1;
                w.seizures += u64::from(seized.is_some());
                w.seized_grams += grams;
            }
            _ => continue,
        }
        first = Some(first.map_or(d, |f| f.min(d)));
        last = Some(last.map_or(d, |l| l.max(d)));
    }
    let start = period.since.map(day).or(first);
    let end = period.until.map(day).or(last);
    // Every week of the period, the empty ones too.
    let weeks: Vec<Week> = match (start, end) {
        (Some(s), Some(e)) if s <= e => weeks_between(s, e)
            .into_iter()
            .map(|(w, monday)| {
                let mut x = weeks.remove(&w).unwrap_or_else(|| Week {
                    week: week_label(w),
                    starts: ymd(monday),
                    ..Default::default()
                });
                x.seized_kg = kg(x.seized_grams);
                x
            })
            .collect(),
        _ => Vec::new(),
    };
    let finish = |m: BTreeMap<String, Row>| -> Vec<Row> {
        m.into_values()
            .map(|mut r| {
                r.seized_kg = kg(r.seized_grams);
                r
            })
            .collect()
    };
    totals.seized_kg = kg(totals.seized_grams);
    Report {
        desk: desk.to_string(),
        since: period.since.map(|d| d.to_string()),
        until: period.until.map(|d| d.to_string()),
        period_start: start.map(ymd),
        period_end: end.map(ymd),
        tlp,
        totals,
        weeks,
        by_partner: finish(partner),
        by_route: finish(route),
        by_substance: finish(substance),
        sources: sources
            .into_iter()
            .map(|(k, (h, o, s))| Source::new(&k, h, o, s))
            .collect(),
    }
}

/// The first `n - 1` items by `rank` (highest first; ties keep their order) and one more
/// made by `merge`-ing the rest into `other(k)` (k: how many), so that at most `n` are
/// shown; all of them when they are `n` or fewer.
pub fn top_n<T: Clone, K: Ord>(
    items: &[T],
    n: usize,
    rank: impl Fn(&T) -> K,
    other: impl Fn(usize) -> T,
    merge: impl Fn(&mut T, &T),
) -> Vec<T> {
    let mut v: Vec<T> = items.to_vec();
    v.sort_by_key(|x| std::cmp::Reverse(rank(x)));
    if v.len() <= n {
        return v;
    }
    if n == 0 {
        return Vec::new();
    }
    let rest = v.split_off(n - 1);
    let mut o = other(rest.len());
    for x in &rest {
        merge(&mut o, x);
    }
    v.push(o);
    v
}

/// The name of the row that sums `k` rows left out.
pub fn other_label(k: usize) -> String {
    format!("other ({k})")
}

/// [`top_n`] for breakdown rows.
pub fn top_rows<K: Ord>(rows: &[Row], n: usize, rank: impl Fn(&Row) -> K) -> Vec<Row> {
    top_n(
        rows,
        n,
        rank,
        |k| Row::new(&other_label(k)),
        |o, x| o.add(x),
    )
}

/// [`top_n`] for sources, by hits with an outcome then hits; the precision of the merged
/// row is that of its summed counts.
pub fn top_sources(sources: &[Source], n: usize) -> Vec<Source> {
    top_n(
        sources,
        n,
        |s| (s.with_outcome, s.hits),
        |k| Source::new(&other_label(k), 0, 0, 0),
        |o, x| {
            *o = Source::new(
                &o.source,
                o.hits + x.hits,
                o.with_outcome + x.with_outcome,
                o.seizures + x.seizures,
            )
        },
    )
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `43% (3/7)`, or `– (no outcome yet)` when nothing is known.
pub fn precision_text(s: &Source) -> String {
    match s.precision {
        Some(p) => format!("{:.0}% ({}/{})", p * 100.0, s.seizures, s.with_outcome),
        None => "– (no outcome yet)".to_owned(),
    }
}

/// `2025-11-03 to 2026-02-22`, or `no records` when the period is unknown.
pub fn period_text(r: &Report) -> String {
    match (&r.period_start, &r.period_end) {
        (Some(s), Some(e)) if s == e => s.clone(),
        (Some(s), Some(e)) => format!("{s} to {e}"),
        (Some(s), None) => format!("since {s}"),
        (None, Some(e)) => format!("until {e}"),
        (None, None) => "no records".to_owned(),
    }
}

/// The report as plain text tables.
pub fn to_table(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "kdesk report: {}, {} ({} ISO week{})   {}",
        r.desk,
        period_text(r),
        r.weeks.len(),
        if r.weeks.len() == 1 { "" } else { "s" },
        tlp_label(r.tlp)
    );
    let t = &r.totals;
    let _ = writeln!(
        s,
        "totals: {} alerts, {} hits, {} outcomes, {} seizures, {:.3} seized kg",
        t.alerts, t.hits, t.outcomes, t.seizures, t.seized_kg
    );
    let _ = writeln!(
        s,
        "\nby ISO week (seizures in the week of their hit)\n  {:<10} {:<10} {:>7} {:>7} {:>9} {:>12}",
        "week", "starts", "alerts", "hits", "seizures", "seized kg"
    );
    for w in &r.weeks {
        let _ = writeln!(
            s,
            "  {:<10} {:<10} {:>7} {:>7} {:>9} {:>12.3}",
            w.week, w.starts, w.alerts, w.hits, w.seizures, w.seized_kg
        );
    }
    if r.weeks.is_empty() {
        let _ = writeln!(s, "  (nothing)");
    }
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
                "  {:<26} {:>7} {:>7} {:>9} {:>9} {:>12.3}",
                x.key, x.alerts, x.hits, x.outcomes, x.seizures, x.seized_kg
            );
        }
        if rows.is_empty() {
            let _ = writeln!(s, "  (nothing)");
        }
    }
    let _ = writeln!(
        s,
        "\nprecision of each source (seizures / hits with an outcome; n = hits with an outcome)"
    );
    for x in &r.sources {
        let _ = writeln!(
            s,
            "  {:<6} {:>5} hits, {:>5} with outcome, {:>5} seizures: precision {} n={}",
            x.source,
            x.hits,
            x.with_outcome,
            x.seizures,
            x.precision
                .map_or("–".to_owned(), |p| format!("{:.0}%", p * 100.0)),
            x.with_outcome
        );
    }
    if r.sources.is_empty() {
        let _ = writeln!(s, "  (no hits)");
    }
    s
}

/// Converts a report received over the Admin API back for rendering. An unknown TLP name
/// (from a newer node) is shown as the strictest, TLP:RED.
pub fn from_pb(r: &crate::pb::ReportResponse) -> Report {
    let row = |x: &crate::pb::ReportRow| Row {
        key: x.key.clone(),
        alerts: x.alerts,
        hits: x.hits,
        outcomes: x.outcomes,
        seizures: x.seizures,
        seized_grams: x.seized_grams,
        seized_kg: x.seized_grams as f64 / 1000.0,
    };
    let rows = |v: &[crate::pb::ReportRow]| -> Vec<Row> { v.iter().map(row).collect() };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let desk = match (r.desk_country.as_str(), r.desk_node.as_str()) {
        ("", _) => String::new(),
        (c, "") => c.to_owned(),
        (c, n) => format!("{c}/{n}"),
    };
    Report {
        desk,
        since: opt(&r.since),
        until: opt(&r.until),
        period_start: opt(&r.period_start),
        period_end: opt(&r.period_end),
        tlp: match r.tlp.as_str() {
            "" => None,
            t => Some(crate::model::Tlp::parse(t).unwrap_or(crate::model::Tlp::Red)),
        },
        totals: r.totals.as_ref().map(row).unwrap_or_else(|| Row {
            key: "total".into(),
            ..Default::default()
        }),
        weeks: r
            .weeks
            .iter()
            .map(|w| Week {
                week: w.week.clone(),
                starts: w.starts.clone(),
                alerts: w.alerts,
                hits: w.hits,
                seizures: w.seizures,
                seized_kg: w.seized_grams as f64 / 1000.0,
                seized_grams: w.seized_grams,
            })
            .collect(),
        by_partner: rows(&r.by_partner),
        by_route: rows(&r.by_route),
        by_substance: rows(&r.by_substance),
        sources: r
            .sources
            .iter()
            .map(|s| Source::new(&s.source, s.hits, s.with_outcome, s.seizures))
            .collect(),
    }
}

/// Synthetic stores for tests: partners' alerts over weeks either side of New Year, a few
/// hits among them, outcomes for some, seizures among those.
#[cfg(test)]
pub(crate) mod fixture {
    use super::*;
    use crate::model::{Alert, ShortText};
    use crate::record::{Hit, Outcome};

    const TEMPLATES: [&str; 9] = [
        include_str!("../../examples/alerts/cargo-air-cargo-precursor.json"),
        include_str!("../../examples/alerts/cargo-express-methamphetamine.json"),
        include_str!("../../examples/alerts/cargo-port-entrant-methamphetamine.json"),
        include_str!("../../examples/alerts/cargo-postal-ketamine.json"),
        include_str!("../../examples/alerts/cargo-sea-container-cocaine.json"),
        include_str!("../../examples/alerts/cargo-ship-cocaine.json"),
        include_str!("../../examples/alerts/profile-express-kratom.json"),
        include_str!("../../examples/alerts/traveler-air-ketamine.json"),
        include_str!("../../examples/alerts/traveler-air-methamphetamine.json"),
    ];

    /// The example alerts, every one TLP:AMBER or GREEN but the postal one
    /// (AMBER+STRICT) and the ship one (RED).
    pub fn templates() -> Vec<Alert> {
        TEMPLATES
            .iter()
            .map(|t| Alert::from_json(t).expect("example alert"))
            .collect()
    }

    /// Monday 2025-12-01 00:00 UTC, in ms.
    pub const START_MS: i64 = 1_764_547_200_000;
    const DAY_MS: i64 = 86_400_000;

    /// A record id from a number.
    pub fn id(n: u64) -> RecordId {
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&n.to_be_bytes());
        RecordId(b)
    }

    /// An origin.
    pub fn origin(s: &str) -> Origin {
        Origin::parse(s).expect("origin")
    }

    /// `alerts` alerts over 10 weeks from [`START_MS`] by 14 partner desks (KR most, then
    /// fewer and fewer), one hit per 40 alerts (at least 3), outcomes for two hits in three,
    /// a seizure for every other outcome. Deterministic. TLP:RED alerts are left out (the
    /// ship template is issued as AMBER).
    pub fn store(alerts: usize) -> Vec<(RecordId, Record)> {
        let partners = [
            "KR/seoul",
            "TH/bangkok",
            "VN/hanoi",
            "MY/klia",
            "NL/rotterdam",
            "US/lax",
            "JP/narita",
            "PH/manila",
            "ID/jakarta",
            "AU/sydney",
            "CA/vancouver",
            "MX/manzanillo",
            "CO/cartagena",
            "DE/frankfurt",
        ];
        let mut t = templates();
        for a in &mut t {
            if a.handling.tlp == Tlp::Red {
                a.handling.tlp = Tlp::Amber;
            }
        }
        let mut out = Vec::new();
        let mut n = 0u64;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m.max(1)
        };
        let mut alert_ids = Vec::new();
        for i in 0..alerts {
            // Skewed: partner k gets about 1/(k+1) of the alerts.
            let mut k = 0;
            while k + 1 < partners.len() && rnd(100) < 45 {
                k += 1;
            }
            let a = t[i % t.len()].clone();
            let at = START_MS + (i as i64 * 70 * DAY_MS) / alerts.max(1) as i64;
            n += 1;
            out.push((
                id(n),
                Record {
                    origin: origin(partners[k]),
                    seq: n,
                    created_at_ms: at,
                    kind: RecordKind::Alert(a),
                },
            ));
            alert_ids.push((id(n), origin(partners[k]), at));
        }
        let hits = (alerts / 40).max(3).min(alerts);
        for h in 0..hits {
            let (alert, o, at) = alert_ids[(h * 7919) % alert_ids.len()].clone();
            let hit_at = at + (1 + rnd(6) as i64) * DAY_MS;
            n += 1;
            let hit_id = id(n);
            out.push((
                hit_id,
                Record {
                    origin: origin("KR/seoul"),
                    seq: n,
                    created_at_ms: hit_at,
                    kind: RecordKind::Hit(Hit {
                        alert_id: alert,
                        alert_origin: o.clone(),
                        score: 900,
                        matched: vec![],
                        subject_reference: ShortText::parse(&format!("LINE-{h}")).expect("ref"),
                        screened_on: Date::parse("2026-01-05").expect("date"),
                    }),
                },
            ));
            if h % 3 != 2 {
                let seized = h % 2 == 0;
                n += 1;
                out.push((
                    id(n),
                    Record {
                        origin: origin("KR/seoul"),
                        seq: n,
                        created_at_ms: hit_at + DAY_MS,
                        kind: RecordKind::Outcome(Outcome {
                            hit_id,
                            alert_origin: o,
                            result: if seized {
                                OutcomeResult::Seized
                            } else {
                                OutcomeResult::NothingFound
                            },
                            substance: seized.then_some(Substance::Methamphetamine),
                            quantity_grams: if seized { 250 + 1000 * rnd(40) } else { 0 },
                            note: None,
                        }),
                    },
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use super::*;
    use crate::model::ShortText;
    use crate::record::{Hit, Outcome};

    fn date(s: &str) -> time::Date {
        day(Date::parse(s).unwrap())
    }

    #[test]
    fn iso_weeks_at_year_boundaries() {
        // 2026-01-01 is a Thursday: its week is 2026-W01, starting Monday 2025-12-29.
        assert_eq!(iso_week(date("2026-01-01")), (2026, 1));
        assert_eq!(iso_week(date("2025-12-29")), (2026, 1));
        assert_eq!(week_monday(date("2026-01-01")), date("2025-12-29"));
        // 2027-01-01 (Friday) still belongs to 2026's 53rd week.
        assert_eq!(iso_week(date("2027-01-01")), (2026, 53));
        assert_eq!(iso_week(date("2027-01-03")), (2026, 53));
        assert_eq!(iso_week(date("2027-01-04")), (2027, 1));
        // 2024-12-30 (Monday) starts 2025-W01.
        assert_eq!(iso_week(date("2024-12-30")), (2025, 1));
        assert_eq!(week_label((2026, 1)), "2026-W01");
        // Weeks between two days: every Monday, the year's 53rd week included.
        let w = weeks_between(date("2026-12-25"), date("2027-01-12"));
        let labels: Vec<String> = w.iter().map(|(k, _)| week_label(*k)).collect();
        assert_eq!(labels, ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]);
        assert_eq!(w[1].1, date("2026-12-28"));
    }

    fn alert_at(t: &crate::model::Alert, o: &str, ms: i64, n: u64) -> (RecordId, Record) {
        (
            id(n),
            Record {
                origin: origin(o),
                seq: n,
                created_at_ms: ms,
                kind: RecordKind::Alert(t.clone()),
            },
        )
    }

    fn hit_at(alert: u64, o: &str, ms: i64, n: u64) -> (RecordId, Record) {
        (
            id(n),
            Record {
                origin: origin("KR/seoul"),
                seq: n,
                created_at_ms: ms,
                kind: RecordKind::Hit(Hit {
                    alert_id: id(alert),
                    alert_origin: origin(o),
                    score: 900,
                    matched: vec![],
                    subject_reference: ShortText::parse("L1").unwrap(),
                    screened_on: Date::parse("2026-01-01").unwrap(),
                }),
            },
        )
    }

    fn outcome_at(hit: u64, o: &str, ms: i64, n: u64, grams: Option<u64>) -> (RecordId, Record) {
        (
            id(n),
            Record {
                origin: origin("KR/seoul"),
                seq: n,
                created_at_ms: ms,
                kind: RecordKind::Outcome(Outcome {
                    hit_id: id(hit),
                    alert_origin: origin(o),
                    result: if grams.is_some() {
                        OutcomeResult::Seized
                    } else {
                        OutcomeResult::FalsePositive
                    },
                    substance: grams.map(|_| Substance::Cocaine),
                    quantity_grams: grams.unwrap_or(0),
                    note: None,
                }),
            },
        )
    }

    const DAY: i64 = 86_400_000;
    /// 2025-12-31 12:00 UTC (Wednesday of 2026-W01).
    const NYE: i64 = 1_767_182_400_000;

    #[test]
    fn weeks_buckets_precision_and_the_period() {
        let t = templates();
        let records = vec![
            alert_at(&t[0], "TH/bangkok", NYE - 7 * DAY, 1), // 2025-W52
            alert_at(&t[1], "TH/bangkok", NYE, 2),           // 2026-W01
            alert_at(&t[4], "VN/hanoi", NYE + 2 * DAY, 3),   // 2026-W01 (Friday 2026-01-02)
            hit_at(1, "TH/bangkok", NYE, 4),                 // 2026-W01
            outcome_at(4, "TH/bangkok", NYE + 20 * DAY, 5, Some(2350)),
            hit_at(3, "VN/hanoi", NYE + 14 * DAY, 6), // 2026-W03, no outcome
        ];
        let desk = origin("KR/seoul");
        let r = build(&records, &desk, Period::default());
        assert_eq!(r.desk, "KR/seoul");
        assert_eq!(r.period_start.as_deref(), Some("2025-12-24"));
        assert_eq!(r.period_end.as_deref(), Some("2026-01-14"));
        let weeks: Vec<(&str, u64, u64, u64)> = r
            .weeks
            .iter()
            .map(|w| (w.week.as_str(), w.alerts, w.hits, w.seizures))
            .collect();
        assert_eq!(
            weeks,
            [
                ("2025-W52", 1, 0, 0),
                ("2026-W01", 2, 1, 1),
                ("2026-W02", 0, 0, 0),
                ("2026-W03", 0, 1, 0)
            ]
        );
        assert_eq!(r.weeks[1].starts, "2025-12-29");
        assert_eq!(r.weeks[1].seized_kg, 2.35);
        assert_eq!(
            (
                r.totals.alerts,
                r.totals.hits,
                r.totals.outcomes,
                r.totals.seizures
            ),
            (3, 2, 1, 1)
        );
        assert_eq!(r.totals.seized_grams, 2350);
        // Precision: TH 1 of 1; VN no outcome yet (None, printed "–", never 0).
        let th = r.sources.iter().find(|s| s.source == "TH").unwrap();
        assert_eq!(
            (th.with_outcome, th.seizures, th.precision),
            (1, 1, Some(1.0))
        );
        let vn = r.sources.iter().find(|s| s.source == "VN").unwrap();
        assert_eq!((vn.hits, vn.with_outcome, vn.precision), (1, 0, None));
        assert_eq!(precision_text(vn), "– (no outcome yet)");
        assert!(to_table(&r).contains("precision – n=0"), "{}", to_table(&r));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["sources"][1]["precision"], serde_json::Value::Null);
        assert_eq!(json["weeks"][1]["seized_kg"], 2.35);
        assert!(json["weeks"][1].get("seized_grams").is_none());
        // TLP: the strictest of the alerts counted (t[4]: sea container, AMBER).
        assert_eq!(json["tlp"], "TLP:AMBER");

        // A period: only 2026-W01's days; the weeks follow the period, not the records.
        let p = Period::new(
            Some(Date::parse("2025-12-29").unwrap()),
            Some(Date::parse("2026-01-04").unwrap()),
        )
        .unwrap();
        let r = build(&records, &desk, p);
        assert_eq!(r.totals.alerts, 2);
        assert_eq!(r.totals.hits, 1);
        assert_eq!(r.weeks.len(), 1);
        assert_eq!(
            (r.period_start.as_deref(), r.period_end.as_deref()),
            (Some("2025-12-29"), Some("2026-01-04"))
        );
        let e = Period::new(p.until, p.since).unwrap_err();
        assert!(
            e.contains("until: 2025-12-29 is before since 2026-01-04"),
            "{e}"
        );

        // Nothing at all: no weeks, no period, TLP:CLEAR.
        let r = build(&[], &desk, Period::default());
        assert!(r.weeks.is_empty());
        assert_eq!(period_text(&r), "no records");
        assert_eq!(tlp_label(r.tlp), "TLP:CLEAR");
    }

    #[test]
    fn tlp_is_the_strictest_counted_including_alerts_behind_hits() {
        let t = templates();
        let mut red = t[5].clone();
        red.handling.tlp = Tlp::Red;
        let mut strict = t[0].clone();
        strict.handling.tlp = Tlp::AmberStrict;
        let mut green = t[0].clone();
        green.handling.tlp = Tlp::Green;
        let desk = origin("KR/seoul");
        // A RED alert from before the period, hit inside it: the report says RED.
        let records = vec![
            alert_at(&red, "TH/bangkok", NYE - 30 * DAY, 1),
            alert_at(&green, "TH/bangkok", NYE, 2),
            hit_at(1, "TH/bangkok", NYE, 3),
        ];
        let p = Period::new(Some(Date::parse("2025-12-30").unwrap()), None).unwrap();
        assert_eq!(build(&records, &desk, p).tlp, Some(Tlp::Red));
        // Without the hit: only the GREEN alert is counted.
        assert_eq!(build(&records[..2], &desk, p).tlp, Some(Tlp::Green));
        let records = vec![
            alert_at(&green, "TH/bangkok", NYE, 1),
            alert_at(&strict, "VN/hanoi", NYE, 2),
        ];
        let r = build(&records, &desk, Period::default());
        assert_eq!(tlp_label(r.tlp), "TLP:AMBER+STRICT");
        assert_eq!(
            stricter(Some(Tlp::AmberStrict), Tlp::Amber),
            Tlp::AmberStrict
        );
        assert_eq!(stricter(Some(Tlp::Amber), Tlp::Red), Tlp::Red);
        assert_eq!(stricter(None, Tlp::Clear), Tlp::Clear);
    }

    #[test]
    fn top_n_keeps_the_largest_and_sums_the_rest_into_other() {
        let rows: Vec<Row> = (1..=5u64)
            .map(|i| Row {
                key: format!("P{i}"),
                alerts: i * 10,
                hits: i,
                seized_grams: i * 1000,
                seized_kg: i as f64,
                ..Default::default()
            })
            .collect();
        let top = top_rows(&rows, 3, |r| r.alerts);
        let keys: Vec<&str> = top.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["P5", "P4", "other (3)"]);
        assert_eq!(top[2].alerts, 10 + 20 + 30);
        assert_eq!(top[2].seized_grams, 6000);
        assert_eq!(top[2].seized_kg, 6.0);
        // Enough room: all rows, largest first, no "other".
        assert_eq!(top_rows(&rows, 5, |r| r.alerts).len(), 5);
        assert_eq!(top_rows(&rows, 9, |r| r.alerts)[0].key, "P5");
        assert!(top_rows(&rows, 0, |r| r.alerts).is_empty());
        assert_eq!(top_rows(&rows, 1, |r| r.alerts)[0].key, "other (5)");
        // Sources: the merged row's precision is that of its summed counts.
        let s = vec![
            Source::new("TH", 10, 5, 2),
            Source::new("VN", 8, 4, 1),
            Source::new("MY", 3, 0, 0),
            Source::new("NL", 2, 1, 1),
        ];
        let top = top_sources(&s, 3);
        assert_eq!(top[2].source, "other (2)");
        assert_eq!(
            (top[2].hits, top[2].with_outcome, top[2].seizures),
            (5, 1, 1)
        );
        assert_eq!(top[2].precision, Some(1.0));
    }

    #[test]
    fn synthetic_stores_add_up() {
        for n in [10, 10_000] {
            let records = store(n);
            let r = build(&records, &origin("KR/seoul"), Period::default());
            assert_eq!(r.totals.alerts, n as u64);
            let by_week: u64 = r.weeks.iter().map(|w| w.alerts).sum();
            let hits_by_week: u64 = r.weeks.iter().map(|w| w.hits).sum();
            let seizures_by_week: u64 = r.weeks.iter().map(|w| w.seizures).sum();
            assert_eq!(by_week, r.totals.alerts);
            assert_eq!(hits_by_week, r.totals.hits);
            assert_eq!(seizures_by_week, r.totals.seizures);
            let by_partner: u64 = r.by_partner.iter().map(|x| x.alerts).sum();
            assert_eq!(by_partner, r.totals.alerts);
            assert!(r.totals.seizures > 0 && r.totals.hits > r.totals.outcomes);
            // 10 weeks of alerts plus the days after for hits: every week present once.
            assert!((10..=12).contains(&r.weeks.len()), "{}", r.weeks.len());
        }
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
