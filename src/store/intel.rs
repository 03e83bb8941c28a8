//! Local intelligence: registered sources, intelligence items, and the hits screening found
//! on them with their outcomes (docs/INTEL.md). Nothing here is signed, logged or replicated:
//! these trees are the desk's own, and the exchange never reads them.
//!
//! | tree            | key                  | value                                   |
//! |-----------------|----------------------|-----------------------------------------|
//! | `intel_sources` | source id (UTF-8)    | [`StoredSource`] JSON                   |
//! | `intel_items`   | item id (8, BE)      | [`StoredItem`] JSON                     |
//! | `intel_hits`    | 0x00 ‖ hit id (8, BE) | [`IntelHit`] JSON (outcomes inside)    |
//! | `intel_hits`    | 0x01 ‖ item id (8) ‖ screening date ‖ 0x00 ‖ line reference | hit id (8): a line screened again on the same day is the same hit |
//!
//! Ids are numbers from 1, the next being the last key plus one (no counter to drift). Each
//! change is one `sled::Batch` on one tree, so an import is stored whole or not at all; callers
//! make it durable with [`Store::flush`] before they answer.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::model::intel::{Grading, IntelItem, Source, SourceId};
use crate::model::{OutcomeResult, Substance};

const SOURCES: &str = "intel_sources";
const ITEMS: &str = "intel_items";
const HITS: &str = "intel_hits";

/// One writer of intelligence trees at a time in this process (ids are last key + 1).
static WRITER: Mutex<()> = Mutex::new(());

/// A registered source and when it was registered.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredSource {
    /// The source.
    pub source: Source,
    /// Registered at (ms since the epoch).
    pub added_at_ms: i64,
}

/// An item with what the node records beside it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredItem {
    /// Its id on this node.
    pub id: u64,
    /// The source it came from.
    pub source: SourceId,
    /// The item.
    pub item: IntelItem,
    /// Imported at (ms since the epoch).
    pub imported_at_ms: i64,
    /// The import it came in (file name and format), for the record.
    #[serde(default)]
    pub import: String,
    /// Alerts promoted from it (record ids, hex).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promoted_to: Vec<String>,
}

/// The outcome of an inspection after an intelligence hit.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IntelOutcome {
    /// What inspection found.
    pub result: OutcomeResult,
    /// The substance seized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substance: Option<Substance>,
    /// Quantity seized (grams).
    #[serde(default)]
    pub quantity_grams: u64,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Recorded at (ms since the epoch).
    pub at_ms: i64,
}

/// A screened line that matched an intelligence item. Kept on this node only.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IntelHit {
    /// Its id on this node.
    pub id: u64,
    /// The item matched.
    pub item: u64,
    /// The item's source.
    pub source: SourceId,
    /// The item's grading when it matched.
    pub grading: Grading,
    /// The screened line's reference.
    pub reference: String,
    /// Score (0-1000).
    pub score: u32,
    /// The fields that matched: (field, value, reason).
    pub matched: Vec<(String, String, String)>,
    /// Screening date.
    pub screened_on: String,
    /// Found at (ms since the epoch).
    pub at_ms: i64,
    /// Outcomes recorded, oldest first.
    #[serde(default)]
    pub outcomes: Vec<IntelOutcome>,
}

fn lock() -> Result<std::sync::MutexGuard<'static, ()>, StoreError> {
    WRITER
        .lock()
        .map_err(|_| StoreError::Poisoned("intelligence writer"))
}

fn decode<T: for<'de> Deserialize<'de>>(tree: &str, v: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt(format!("{tree}: {e}")))
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(format!("encoding: {e}")))
}

fn hit_key(id: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[1..].copy_from_slice(&id.to_be_bytes());
    k
}

fn hit_index_key(h: &IntelHit) -> Vec<u8> {
    let mut k = vec![1u8];
    k.extend_from_slice(&h.item.to_be_bytes());
    k.extend_from_slice(h.screened_on.as_bytes());
    k.push(0);
    k.extend_from_slice(h.reference.as_bytes());
    k
}

/// The next hit id: the last hit key (prefix 0x00) plus one.
fn next_hit_id(tree: &sled::Tree) -> Result<u64, StoreError> {
    Ok(
        match tree
            .range(hit_key(0).as_slice()..[1u8].as_slice())
            .next_back()
        {
            Some(r) => {
                let (k, _) = r?;
                let b: [u8; 8] = k.get(1..).and_then(|b| b.try_into().ok()).ok_or_else(|| {
                    StoreError::Corrupt("intelligence hit key is not 9 bytes".into())
                })?;
                u64::from_be_bytes(b) + 1
            }
            None => 1,
        },
    )
}

fn next_id(tree: &sled::Tree) -> Result<u64, StoreError> {
    Ok(match tree.last()? {
        Some((k, _)) => {
            let b: [u8; 8] = k
                .as_ref()
                .try_into()
                .map_err(|_| StoreError::Corrupt("intelligence key is not 8 bytes".into()))?;
            u64::from_be_bytes(b) + 1
        }
        None => 1,
    })
}

impl Store {
    fn intel_tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(name)?)
    }

    /// Registers a source. Not flushed: call [`Store::flush`].
    ///
    /// # Errors
    /// `Ok(false)` when a source with that id exists (nothing changed); storage failure.
    pub fn intel_add_source(&self, s: &StoredSource) -> Result<bool, StoreError> {
        let t = self.intel_tree(SOURCES)?;
        let r = t.compare_and_swap(
            s.source.id.as_str().as_bytes(),
            None as Option<&[u8]>,
            Some(encode(s)?),
        )?;
        Ok(r.is_ok())
    }

    /// One source.
    ///
    /// # Errors
    /// Storage failure.
    pub fn intel_source(&self, id: &SourceId) -> Result<Option<StoredSource>, StoreError> {
        let t = self.intel_tree(SOURCES)?;
        t.get(id.as_str().as_bytes())?
            .map(|v| decode(SOURCES, &v))
            .transpose()
    }

    /// Every source, by id.
    ///
    /// # Errors
    /// Storage failure.
    pub fn intel_sources(&self) -> Result<Vec<StoredSource>, StoreError> {
        let t = self.intel_tree(SOURCES)?;
        t.iter()
            .map(|r| {
                let (_, v) = r?;
                decode(SOURCES, &v)
            })
            .collect()
    }

    /// Stores items from one import, all or nothing, numbering them from the next free id.
    /// Returns the ids. Not flushed: call [`Store::flush`].
    ///
    /// `make` builds each stored item from its id. Links naming an item of the same import
    /// by its position are the caller's business.
    ///
    /// # Errors
    /// Storage failure (nothing stored).
    pub fn intel_store_items(&self, items: Vec<StoredItem>) -> Result<Vec<u64>, StoreError> {
        let _w = lock()?;
        let t = self.intel_tree(ITEMS)?;
        let first = next_id(&t)?;
        let mut batch = sled::Batch::default();
        let mut ids = Vec::with_capacity(items.len());
        for (i, mut item) in items.into_iter().enumerate() {
            let id = first + i as u64;
            item.id = id;
            batch.insert(&id.to_be_bytes(), encode(&item)?);
            ids.push(id);
        }
        t.apply_batch(batch)?;
        Ok(ids)
    }

    /// The id the next stored item gets (for resolving links within an import).
    ///
    /// # Errors
    /// Storage failure.
    pub fn intel_next_item_id(&self) -> Result<u64, StoreError> {
        next_id(&self.intel_tree(ITEMS)?)
    }

    /// One item.
    ///
    /// # Errors
    /// Storage failure.
    pub fn intel_item(&self, id: u64) -> Result<Option<StoredItem>, StoreError> {
        let t = self.intel_tree(ITEMS)?;
        t.get(id.to_be_bytes())?
            .map(|v| decode(ITEMS, &v))
            .transpose()
    }

    /// Items with an id above `after`, at most `limit`, in id order.
    ///
    /// # Errors
    /// Storage failure.
    pub fn intel_items(&self, after: u64, limit: usize) -> Result<Vec<StoredItem>, StoreError> {
        let t = self.intel_tree(ITEMS)?;
        let start = after.saturating_add(1).to_be_bytes();
        t.range(start..)
            .take(limit)
            .map(|r| {
                let (_, v) = r?;
                decode(ITEMS, &v)
            })
            .collect()
    }

    /// Calls `f` with every item, in id order.
    ///
    /// # Errors
    /// Storage failure.
    pub fn intel_each_item(&self, mut f: impl FnMut(StoredItem)) -> Result<(), StoreError> {
        let t = self.intel_tree(ITEMS)?;
        for r in t.iter() {
            let (_, v) = r?;
            f(decode(ITEMS, &v)?);
        }
        Ok(())
    }

    /// Changes items in one batch: `f` is given each named item and returns whether it
    /// changed. Not flushed.
    ///
    /// # Errors
    /// An unknown id (nothing changed), storage failure.
    pub fn intel_update_items(
        &self,
        ids: &[u64],
        mut f: impl FnMut(&mut StoredItem) -> Result<(), String>,
    ) -> Result<Result<Vec<StoredItem>, String>, StoreError> {
        let _w = lock()?;
        let t = self.intel_tree(ITEMS)?;
        let mut batch = sled::Batch::default();
        let mut out = Vec::new();
        for id in ids {
            let Some(v) = t.get(id.to_be_bytes())? else {
                return Ok(Err(format!("no intelligence item {id}")));
            };
            let mut item: StoredItem = decode(ITEMS, &v)?;
            if let Err(e) = f(&mut item) {
                return Ok(Err(e));
            }
            batch.insert(&id.to_be_bytes(), encode(&item)?);
            out.push(item);
        }
        t.apply_batch(batch)?;
        Ok(Ok(out))
    }

    /// Stores hits, numbering them from the next free id; a hit on an item for a line
    /// reference already stored for the same screening date is that hit (not stored twice).
    /// Returns them with their ids. Not flushed.
    ///
    /// # Errors
    /// Storage failure (nothing stored).
    pub fn intel_store_hits(&self, hits: Vec<IntelHit>) -> Result<Vec<IntelHit>, StoreError> {
        let _w = lock()?;
        let t = self.intel_tree(HITS)?;
        let mut next = next_hit_id(&t)?;
        let mut batch = sled::Batch::default();
        let mut out: Vec<IntelHit> = Vec::with_capacity(hits.len());
        let mut fresh: std::collections::HashMap<Vec<u8>, usize> = Default::default();
        for mut h in hits {
            let ik = hit_index_key(&h);
            if let Some(&i) = fresh.get(&ik) {
                out.push(out[i].clone());
                continue;
            }
            if let Some(v) = t.get(&ik)? {
                let id: [u8; 8] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("intelligence hit index".into()))?;
                if let Some(old) = t.get(hit_key(u64::from_be_bytes(id)))? {
                    out.push(decode(HITS, &old)?);
                    continue;
                }
            }
            h.id = next;
            next += 1;
            batch.insert(&hit_key(h.id), encode(&h)?);
            batch.insert(ik.clone(), &h.id.to_be_bytes());
            fresh.insert(ik, out.len());
            out.push(h);
        }
        t.apply_batch(batch)?;
        Ok(out)
    }

    /// Every intelligence hit, in id order.
    ///
    /// # Errors
    /// Storage failure.
    pub fn intel_hits(&self) -> Result<Vec<IntelHit>, StoreError> {
        let t = self.intel_tree(HITS)?;
        t.range(hit_key(0).as_slice()..[1u8].as_slice())
            .map(|r| {
                let (_, v) = r?;
                decode(HITS, &v)
            })
            .collect()
    }

    /// Adds an outcome to a hit. Not flushed.
    ///
    /// # Errors
    /// `Ok(None)` for an unknown hit; storage failure.
    pub fn intel_add_outcome(
        &self,
        hit: u64,
        outcome: IntelOutcome,
    ) -> Result<Option<IntelHit>, StoreError> {
        let _w = lock()?;
        let t = self.intel_tree(HITS)?;
        let Some(v) = t.get(hit_key(hit))? else {
            return Ok(None);
        };
        let mut h: IntelHit = decode(HITS, &v)?;
        h.outcomes.push(outcome);
        t.insert(hit_key(hit), encode(&h)?)?;
        Ok(Some(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::intel::{Grading, IntelItem};

    fn item(title: &str) -> StoredItem {
        let json = format!(
            r#"{{"title":"{title}","selectors":{{"emails":["a@b.kr"]}},"grading":{{"reliability":"B","credibility":"2","handling":"H3"}},"validity":{{"valid_from":"2026-11-01","valid_until":"2027-01-01"}}}}"#
        );
        StoredItem {
            id: 0,
            source: SourceId::parse("police-kr").unwrap(),
            item: IntelItem::from_json(&json).unwrap(),
            imported_at_ms: 1,
            import: "test".into(),
            promoted_to: vec![],
        }
    }

    fn hit(item: u64, reference: &str) -> IntelHit {
        IntelHit {
            id: 0,
            item,
            source: SourceId::parse("police-kr").unwrap(),
            grading: Grading::parse("B2 H3").unwrap(),
            reference: reference.into(),
            score: 900,
            matched: vec![],
            screened_on: "2026-12-01".into(),
            at_ms: 1,
            outcomes: vec![],
        }
    }

    #[test]
    fn items_are_numbered_from_the_last_and_hits_are_stored_once_per_line_and_day() {
        let d = tempfile::tempdir().unwrap();
        let st = Store::open(d.path()).unwrap();
        assert_eq!(st.intel_next_item_id().unwrap(), 1);
        let ids = st.intel_store_items(vec![item("a"), item("b")]).unwrap();
        assert_eq!(ids, vec![1, 2]);
        assert_eq!(st.intel_store_items(vec![item("c")]).unwrap(), vec![3]);
        let page = st.intel_items(1, 1).unwrap();
        assert_eq!((page.len(), page[0].id), (1, 2));
        let bad = st.intel_update_items(&[1, 99], |_| Ok(())).unwrap();
        assert_eq!(bad.unwrap_err(), "no intelligence item 99");
        let h = st
            .intel_store_hits(vec![hit(1, "L1"), hit(1, "L1"), hit(2, "L1")])
            .unwrap();
        assert_eq!(h.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 1, 2]);
        let again = st
            .intel_store_hits(vec![hit(1, "L1"), hit(3, "L9")])
            .unwrap();
        assert_eq!(again.iter().map(|h| h.id).collect::<Vec<_>>(), vec![1, 3]);
        assert_eq!(st.intel_hits().unwrap().len(), 3);
        let o = IntelOutcome {
            result: OutcomeResult::Seized,
            substance: None,
            quantity_grams: 5,
            note: None,
            at_ms: 2,
        };
        assert!(st.intel_add_outcome(9, o.clone()).unwrap().is_none());
        assert_eq!(
            st.intel_add_outcome(3, o).unwrap().unwrap().outcomes.len(),
            1
        );
    }
}
