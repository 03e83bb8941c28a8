//! Local intelligence on the node (docs/INTEL.md): sources, items, links, promotion to alerts,
//! the screening engine over items, their hits and outcomes, and each source's track record.
//!
//! Everything here stays on this node: the trees are read by nobody else, hits on items are
//! never signed or shared. What auditors need (a source registered, an import, a link, a
//! promotion) is recorded as an admin event in the node's own signed log, which partners
//! never receive.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Value};
use tonic::Status;
use tracing::info;

use super::Node;
use crate::model::intel::{intel_reference, Grading, IntelItem, Source, SourceId};
use crate::model::{
    Alert, CountryCode, Date, Distribution, FieldError, Handling, Note, OutcomeResult, RiskLevel,
    ShortText, Substance, Tlp,
};
use crate::pb;
use crate::record::{now_ms, AdminAction, AdminEvent, RecordId, RecordKind};
use crate::screen::report;
use crate::screen::{Engine, LineHit, Options, ScreenAlert};
use crate::store::{IntelHit, IntelOutcome, StoreError, StoredItem, StoredSource};

/// Most items one `ImportIntel` request may carry.
pub const MAX_INTEL_PER_IMPORT: usize = 5_000;
/// Most items one `ListIntel` page may hold.
pub const MAX_INTEL_PAGE: usize = 10_000;
/// Most JSON one answer holding items or hits carries (the Admin API's messages are at most
/// 4 MiB).
pub const MAX_INTEL_ANSWER_BYTES: usize = 3 << 20;

/// Serialises `v` while the total stays within [`MAX_INTEL_ANSWER_BYTES`]; whether some were
/// left out.
fn bounded<T: serde::Serialize>(v: &[T], more: bool) -> Result<(Vec<String>, bool), Status> {
    let mut out = Vec::new();
    let mut bytes = 0;
    for x in v {
        let j = to_json(x)?;
        bytes += j.len();
        if bytes > MAX_INTEL_ANSWER_BYTES && !out.is_empty() {
            return Ok((out, true));
        }
        out.push(j);
    }
    Ok((out, more))
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

fn invalid(e: FieldError) -> Status {
    Status::invalid_argument(e.to_string())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, Status> {
    serde_json::to_string(v).map_err(internal)
}

/// The engine's id for an item: the item id (8, BE) then a fixed tag, so it never equals a
/// record id (a SHA-256) in practice and maps back without a table.
fn engine_id(item: u64) -> RecordId {
    let mut b = [0u8; 32];
    b[..8].copy_from_slice(&item.to_be_bytes());
    b[8..].copy_from_slice(b"kdesk/intel-item/local\0\0");
    RecordId(b)
}

fn item_of_engine_id(id: &RecordId) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&id.0[..8]);
    u64::from_be_bytes(b)
}

/// "B2 (usually reliable, probably true), source carrier-dhl, handling H3 (...)".
pub fn explain(grading: &Grading, source: &SourceId) -> String {
    format!(
        "{}{} ({}, {}), source {source}, handling {} ({})",
        grading.reliability,
        grading.credibility,
        grading.reliability.meaning(),
        grading.credibility.meaning(),
        grading.handling,
        grading.handling.meaning()
    )
}

/// The screening engine over the items valid on a date, with what each hit is explained by.
pub struct IntelEngine {
    /// The engine (the alert screening engine, over items made into local pseudo-alerts).
    pub engine: Engine,
    /// Item id → (source, grading, title).
    pub items: HashMap<u64, (SourceId, Grading, String)>,
}

impl IntelEngine {
    /// Builds the engine over every item with a subject (the selectors do not appear in
    /// manifests) valid on `date`.
    ///
    /// # Errors
    /// Storage failure.
    pub fn build(
        store: &crate::store::Store,
        origin: &crate::record::Origin,
        date: Date,
        names: bool,
    ) -> Result<Self, StoreError> {
        let mut alerts = Vec::new();
        let mut items = HashMap::new();
        let own: CountryCode = origin.country;
        store.intel_each_item(|s| {
            let Some(subject) = s.item.subject.clone() else {
                return;
            };
            items.insert(
                s.id,
                (s.source.clone(), s.item.grading, s.item.title.to_string()),
            );
            alerts.push(ScreenAlert {
                id: engine_id(s.id),
                origin: origin.clone(),
                alert: Alert {
                    title: s.item.title.clone(),
                    subject,
                    substances: if s.item.substances.is_empty() {
                        vec![Substance::Other]
                    } else {
                        s.item.substances.clone()
                    },
                    risk: RiskLevel::Medium,
                    indicators: vec![],
                    validity: s.item.validity,
                    distribution: Distribution::Countries([own].into_iter().collect()),
                    handling: Handling {
                        tlp: Tlp::Red,
                        no_onward_sharing: true,
                    },
                    case_reference: None,
                    intel_reference: None,
                },
            });
        })?;
        Ok(Self {
            engine: Engine::build(alerts, date, Options { names }),
            items,
        })
    }

    /// The item a hit of this engine is on.
    pub fn item_of(&self, hit: &LineHit) -> u64 {
        item_of_engine_id(&self.engine.alert_id(hit.hit.alert))
    }

    /// Turns the engine's hits into intelligence hits to store.
    pub fn hits(&self, hits: &[LineHit]) -> Vec<IntelHit> {
        let at = now_ms();
        hits.iter()
            .filter_map(|h| {
                let item = self.item_of(h);
                let (source, grading, _) = self.items.get(&item)?;
                Some(IntelHit {
                    id: 0,
                    item,
                    source: source.clone(),
                    grading: *grading,
                    reference: h.reference.clone(),
                    score: h.hit.score.min(1000),
                    matched: h
                        .hit
                        .matched
                        .iter()
                        .map(|e| (e.field.to_owned(), e.value.clone(), e.reason.clone()))
                        .collect(),
                    screened_on: self.engine.date().to_string(),
                    at_ms: at,
                    outcomes: vec![],
                })
            })
            .collect()
    }
}

/// A source's track record: its items, their hits and outcomes, and the precision they give
/// (seizures / hits with an outcome, as `kdesk report` gives it for partner desks).
pub fn track_record(source: &StoredSource, items: u64, hits: &[&IntelHit]) -> Value {
    let with_outcome = hits.iter().filter(|h| !h.outcomes.is_empty()).count() as u64;
    let seizures = hits
        .iter()
        .filter(|h| h.outcomes.iter().any(|o| o.result == OutcomeResult::Seized))
        .count() as u64;
    let false_positives = hits
        .iter()
        .filter(|h| {
            h.outcomes
                .last()
                .is_some_and(|o| o.result == OutcomeResult::FalsePositive)
        })
        .count() as u64;
    let s = report::Source::new(
        source.source.id.as_str(),
        hits.len() as u64,
        with_outcome,
        seizures,
    );
    json!({
        "source": source.source,
        "added_at_ms": source.added_at_ms,
        "items": items,
        "hits": hits.len(),
        "with_outcome": with_outcome,
        "seizures": seizures,
        "false_positives": false_positives,
        "precision": s.precision,
        "precision_text": report::precision_text(&s),
    })
}

impl Node {
    /// Records an intelligence action as an admin event in this node's own log.
    async fn intel_event(&self, action: AdminAction, detail: String) -> Result<(), Status> {
        let detail: String = detail.chars().take(512).collect();
        let detail = Note::parse(&detail).map_err(|e| internal(e.at("detail")))?;
        self.record_trust_change(RecordKind::AdminEvent(AdminEvent {
            action,
            country: self.origin().country,
            key_ids: vec![],
            ca_sha256: None,
            detail,
        }))
        .await
        .map_err(|e| {
            Status::internal(format!(
                "the change was stored, but recording it in the audit log failed: {e}"
            ))
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(crate::store::Store) -> Result<T, Status> + Send + 'static,
    ) -> Result<T, Status> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store))
            .await
            .map_err(internal)?
    }

    /// Registers a source (JSON form of [`Source`]), durable before it returns.
    ///
    /// # Errors
    /// Invalid fields; a source with that id exists (`ALREADY_EXISTS`); storage failure.
    pub async fn intel_add_source(&self, json: &str) -> Result<Value, Status> {
        let source: Source = crate::model::intel::from_json_doc(json, "source").map_err(invalid)?;
        let stored = StoredSource {
            source,
            added_at_ms: now_ms(),
        };
        let s2 = stored.clone();
        let added = self
            .blocking(move |st| st.intel_add_source(&s2).map_err(internal))
            .await?;
        if !added {
            return Err(Status::already_exists(format!(
                "source {} is already registered",
                stored.source.id
            )));
        }
        self.store.flush().await.map_err(internal)?;
        self.intel_event(
            AdminAction::IntelSourceAdded,
            format!(
                "intelligence source {} ({}) registered",
                stored.source.id,
                stored.source.kind.as_str()
            ),
        )
        .await?;
        info!(source = %stored.source.id, "intelligence source registered");
        Ok(track_record(&stored, 0, &[]))
    }

    /// Every source with its track record.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn intel_sources(&self) -> Result<Vec<Value>, Status> {
        self.blocking(|st| {
            let sources = st.intel_sources().map_err(internal)?;
            let mut items: HashMap<SourceId, u64> = HashMap::new();
            st.intel_each_item(|i| *items.entry(i.source).or_default() += 1)
                .map_err(internal)?;
            let hits = st.intel_hits().map_err(internal)?;
            Ok(sources
                .iter()
                .map(|s| {
                    let mine: Vec<&IntelHit> =
                        hits.iter().filter(|h| h.source == s.source.id).collect();
                    track_record(s, items.get(&s.source.id).copied().unwrap_or(0), &mine)
                })
                .collect())
        })
        .await
    }

    /// Stores a batch of items from a registered source, all or nothing, durable before it
    /// returns. Every item is parsed and checked again; links must name stored items.
    ///
    /// # Errors
    /// Unknown source, too many items, an invalid item (its index and field), storage.
    pub async fn intel_import(
        &self,
        source: &str,
        items: &[String],
        import: &str,
    ) -> Result<Vec<u64>, Status> {
        let source = SourceId::parse(source).map_err(|e| invalid(e.at("source")))?;
        if items.len() > MAX_INTEL_PER_IMPORT {
            return Err(Status::invalid_argument(format!(
                "items: {} items in one request; at most {MAX_INTEL_PER_IMPORT}",
                items.len()
            )));
        }
        let sid = source.clone();
        self.blocking(move |st| st.intel_source(&sid).map_err(internal))
            .await?
            .ok_or_else(|| {
                Status::failed_precondition(format!(
                    "source: {source} is not a registered source (kdesk intel source add)"
                ))
            })?;
        let parsed = items
            .iter()
            .enumerate()
            .map(|(i, j)| {
                IntelItem::from_json(j).map_err(|e| invalid(e.within(&format!("items[{i}]"))))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let import: String = import.chars().take(200).collect();
        let at = now_ms();
        let src = source.clone();
        let imp = import.clone();
        let ids = self
            .blocking(move |st| {
                let next = st.intel_next_item_id().map_err(internal)?;
                for (i, it) in parsed.iter().enumerate() {
                    for (j, l) in it.links.iter().enumerate() {
                        if *l >= next || st.intel_item(*l).map_err(internal)?.is_none() {
                            return Err(Status::invalid_argument(format!(
                                "items[{i}].links[{j}]: {l} is not a stored intelligence item"
                            )));
                        }
                    }
                }
                let stored = parsed
                    .into_iter()
                    .map(|item| StoredItem {
                        id: 0,
                        source: src.clone(),
                        item,
                        imported_at_ms: at,
                        import: imp.clone(),
                        promoted_to: vec![],
                    })
                    .collect();
                st.intel_store_items(stored).map_err(internal)
            })
            .await?;
        self.store.flush().await.map_err(internal)?;
        if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
            self.intel_event(
                AdminAction::IntelImported,
                format!(
                    "{} intelligence items {first}-{last} imported from source {source} ({import})",
                    ids.len()
                ),
            )
            .await?;
            info!(source = %source, items = ids.len(), first, last, "intelligence imported");
        }
        Ok(ids)
    }

    /// A page of items (JSON of [`StoredItem`]), ids above `after`, and whether more follow.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn intel_list(&self, after: u64, limit: u32) -> Result<(Vec<String>, bool), Status> {
        let limit = match limit {
            0 => 100,
            n => (n as usize).min(MAX_INTEL_PAGE),
        };
        self.blocking(move |st| {
            let mut items = st.intel_items(after, limit + 1).map_err(internal)?;
            let more = items.len() > limit;
            items.truncate(limit);
            bounded(&items, more)
        })
        .await
    }

    /// One item with its source, linked items, hits and promotions.
    ///
    /// # Errors
    /// Unknown item (`NOT_FOUND`), storage failure.
    pub async fn intel_show(&self, id: u64) -> Result<Value, Status> {
        self.blocking(move |st| {
            let item = st
                .intel_item(id)
                .map_err(internal)?
                .ok_or_else(|| Status::not_found(format!("no intelligence item {id}")))?;
            let source = st.intel_source(&item.source).map_err(internal)?;
            let hits: Vec<IntelHit> = st
                .intel_hits()
                .map_err(internal)?
                .into_iter()
                .filter(|h| h.item == id)
                .collect();
            let links: Vec<Value> = item
                .item
                .links
                .iter()
                .map(|l| {
                    let t = st
                        .intel_item(*l)
                        .ok()
                        .flatten()
                        .map(|i| i.item.title.to_string())
                        .unwrap_or_default();
                    json!({"id": l, "title": t})
                })
                .collect();
            Ok(json!({
                "item": item,
                "source": source.map(|s| s.source),
                "explanation": explain(&item.item.grading, &item.source),
                "linked": links,
                "hits": hits,
            }))
        })
        .await
    }

    /// Links two items, both ways (durable before it returns).
    ///
    /// # Errors
    /// The same item twice, an unknown item, too many links, storage failure.
    pub async fn intel_link(&self, a: u64, b: u64) -> Result<Value, Status> {
        if a == b {
            return Err(Status::invalid_argument(format!(
                "b: {b} is the same item as a; an item is not linked to itself"
            )));
        }
        let changed = self
            .blocking(move |st| {
                st.intel_update_items(&[a, b], |it| {
                    let other = if it.id == a { b } else { a };
                    if !it.item.links.contains(&other) {
                        if it.item.links.len() >= crate::model::intel::MAX_LINKS {
                            return Err(format!(
                                "item {}: already {} links, at most {}",
                                it.id,
                                it.item.links.len(),
                                crate::model::intel::MAX_LINKS
                            ));
                        }
                        it.item.links.push(other);
                    }
                    Ok(())
                })
                .map_err(internal)
            })
            .await?
            .map_err(|e| {
                if e.starts_with("no intelligence item") {
                    Status::not_found(e)
                } else {
                    Status::failed_precondition(e)
                }
            })?;
        self.store.flush().await.map_err(internal)?;
        self.intel_event(
            AdminAction::IntelLinked,
            format!("intelligence items {a} and {b} linked"),
        )
        .await?;
        Ok(json!({"linked": [a, b], "items": changed}))
    }

    /// The alert an item becomes when promoted with the officer's choices.
    ///
    /// # Errors
    /// Unknown item; an item without a subject or substance; a handling code that forbids
    /// sharing abroad; invalid distribution, handling, risk or indicators; an item no longer
    /// valid.
    pub async fn intel_alert(&self, r: &pb::PromoteIntelRequest) -> Result<Alert, Status> {
        let id = r.id;
        let item = self
            .blocking(move |st| st.intel_item(id).map_err(internal))
            .await?
            .ok_or_else(|| Status::not_found(format!("no intelligence item {id}")))?;
        let code = item.item.grading.handling;
        if !code.may_be_shared_abroad() {
            return Err(Status::failed_precondition(format!(
                "item {id} has handling code {code} ({}): it may not become an alert shared \
                 with partner desks; ask the source to regrade it",
                code.meaning()
            )));
        }
        let subject = item.item.subject.clone().ok_or_else(|| {
            Status::failed_precondition(format!(
                "item {id} has no subject (only selectors): an alert needs a traveler, a \
                 consignment or a profile"
            ))
        })?;
        if item.item.substances.is_empty() {
            return Err(Status::failed_precondition(format!(
                "item {id} names no substance: an alert needs at least one"
            )));
        }
        let distribution =
            Distribution::from_pb(r.distribution.as_ref(), "distribution").map_err(invalid)?;
        let h = r
            .handling
            .ok_or_else(|| Status::invalid_argument("handling: is required"))?;
        let handling = Handling {
            tlp: Tlp::from_pb(h.tlp, "handling.tlp").map_err(invalid)?,
            no_onward_sharing: h.no_onward_sharing,
        };
        let risk = RiskLevel::parse(&r.risk).map_err(|e| invalid(e.at("risk")))?;
        let indicators = r
            .indicators
            .iter()
            .enumerate()
            .map(|(i, v)| Note::parse(v).map_err(|e| invalid(e.at(format!("indicators[{i}]")))))
            .collect::<Result<Vec<_>, _>>()?;
        let case_reference = match r.case_reference.as_str() {
            "" => None,
            c => Some(ShortText::parse(c).map_err(|e| invalid(e.at("case_reference")))?),
        };
        let today = Date::today_utc();
        if item.item.validity.valid_until() < today {
            return Err(Status::failed_precondition(format!(
                "item {id} was valid until {}: an alert must still be valid when issued",
                item.item.validity.valid_until()
            )));
        }
        let alert = Alert {
            title: item.item.title.clone(),
            subject,
            substances: item.item.substances.clone(),
            risk,
            indicators,
            validity: item.item.validity,
            distribution,
            handling,
            case_reference,
            intel_reference: Some(
                ShortText::parse(&intel_reference(id)).map_err(|e| internal(e.at("id")))?,
            ),
        };
        alert.check().map_err(invalid)?;
        Ok(alert)
    }

    /// Notes on the item that it became alert `record`, and records the promotion for
    /// auditors.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn intel_promoted(&self, item: u64, record: RecordId) -> Result<(), Status> {
        let hex = record.to_hex();
        let h2 = hex.clone();
        let mut known = false;
        let already = self
            .blocking(move |st| {
                st.intel_update_items(&[item], |it| {
                    if it.promoted_to.contains(&h2) {
                        known = true;
                    } else {
                        it.promoted_to.push(h2.clone());
                    }
                    Ok(())
                })
                .map_err(internal)?
                .map_err(Status::not_found)?;
                Ok(known)
            })
            .await?;
        if already {
            // A retried request: recorded the first time.
            return Ok(());
        }
        self.store.flush().await.map_err(internal)?;
        self.intel_event(
            AdminAction::IntelPromoted,
            format!("intelligence item {item} promoted to alert {hex}"),
        )
        .await
    }

    /// The engine over items valid on `date`.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn intel_engine(&self, names: bool, date: Date) -> Result<Arc<IntelEngine>, Status> {
        let origin = self.origin().clone();
        let next = self
            .blocking(|st| st.intel_next_item_id().map_err(internal))
            .await?;
        if let Ok(c) = self.intel_cache.lock() {
            if let Some((n, d, nm, e)) = c.as_ref() {
                if *n == next && *d == date && *nm == names {
                    return Ok(e.clone());
                }
            }
        }
        let engine = self
            .blocking(move |st| {
                IntelEngine::build(&st, &origin, date, names)
                    .map(Arc::new)
                    .map_err(internal)
            })
            .await?;
        if let Ok(mut c) = self.intel_cache.lock() {
            *c = Some((next, date, names, engine.clone()));
        }
        Ok(engine)
    }

    /// Intelligence hits (JSON of [`IntelHit`]), newest first, as many as fit in one answer,
    /// and whether older ones were left out.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn intel_hits(&self) -> Result<(Vec<String>, bool), Status> {
        self.blocking(|st| {
            let mut h = st.intel_hits().map_err(internal)?;
            h.reverse();
            bounded(&h, false)
        })
        .await
    }

    /// Records the outcome of an inspection after an intelligence hit, durable before it
    /// returns.
    ///
    /// # Errors
    /// Unknown hit, invalid fields, storage failure.
    pub async fn intel_record_outcome(
        &self,
        r: &pb::RecordIntelOutcomeRequest,
    ) -> Result<Value, Status> {
        let result = OutcomeResult::parse(&r.result).map_err(|e| {
            Status::invalid_argument(format!("result: {e} (one of {})", OutcomeResult::names()))
        })?;
        let substance = match r.substance.as_str() {
            "" => None,
            s => Some(Substance::parse(s).map_err(|e| {
                Status::invalid_argument(format!("substance: {e} (one of {})", Substance::names()))
            })?),
        };
        if result == OutcomeResult::Seized && (substance.is_none() || r.quantity_grams == 0) {
            return Err(Status::invalid_argument(
                "substance, quantity: a seizure names the substance and a quantity above 0",
            ));
        }
        if result != OutcomeResult::Seized && r.quantity_grams != 0 {
            return Err(Status::invalid_argument(
                "quantity: only a seizure has a quantity",
            ));
        }
        if r.quantity_grams > crate::model::MAX_WEIGHT_GRAMS {
            return Err(Status::invalid_argument("quantity: at most 1,000,000 kg"));
        }
        let note = match r.note.as_str() {
            "" => None,
            n => Some(
                Note::parse(n)
                    .map_err(|e| Status::invalid_argument(format!("note: {e}")))?
                    .to_string(),
            ),
        };
        let outcome = IntelOutcome {
            result,
            substance,
            quantity_grams: r.quantity_grams,
            note,
            at_ms: now_ms(),
        };
        let hit = r.hit;
        let h = self
            .blocking(move |st| st.intel_add_outcome(hit, outcome).map_err(internal))
            .await?
            .ok_or_else(|| Status::not_found(format!("no intelligence hit {hit}")))?;
        self.store.flush().await.map_err(internal)?;
        serde_json::to_value(&h).map_err(internal)
    }
}

impl Node {
    /// The STIX objects of every alert version, retraction and hit this node holds, in the
    /// order it stored them; with `for_country`, only what the exchange would send that
    /// partner (`federation::rules::may_send`).
    ///
    /// # Errors
    /// Storage failure.
    pub async fn stix_objects(
        &self,
        for_country: Option<CountryCode>,
    ) -> Result<Vec<crate::intel::stix::StixObject>, Status> {
        let me = self.origin().clone();
        let end = self.log.durable_len();
        self.blocking(move |st| {
            let mut inputs = Vec::new();
            for at in st.log_range(0, end) {
                let (_, id) = at.map_err(internal)?;
                let Some(e) = st.get(&id).map_err(internal)? else {
                    continue;
                };
                let record = e.record().map_err(internal)?;
                if matches!(
                    record.kind,
                    RecordKind::Alert(_)
                        | RecordKind::Amendment(_)
                        | RecordKind::Retraction(_)
                        | RecordKind::Hit(_)
                ) {
                    inputs.push(crate::intel::stix::Input {
                        id,
                        record,
                        stored_at_ms: e.stored_at_ms,
                    });
                }
            }
            let visible = |r: &crate::record::Record| match for_country {
                None => true,
                Some(c) => crate::federation::rules::may_send(r, c, &me),
            };
            Ok(crate::intel::stix::objects(&inputs, &me, &visible))
        })
        .await
    }
}
