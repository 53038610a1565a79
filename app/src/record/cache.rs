//! The embedded record between page views (issue 16): reading and parsing a patient's whole
//! record cost every record page ~8 ms of CPU (Alice: ~800 resources), far more than the page
//! itself. What `embedded.rs` gave for a patient and a set of types is kept here, parsed and
//! indexed, for the next page of the same visit.
//!
//! Rules:
//! - Never stale: every use compares the version of the embedded store (`record_store.version`,
//!   which every import raises in its own transaction) with the one the entry was read at. On
//!   several app servers each asks the shared database, so an import through any of them is
//!   seen by all on their next read.
//! - Before the release rules: what the rules withhold is decided per request
//!   (`server::read`), so a result released at 14:00 shows at 14:00.
//! - Bounded: at most `capacity` bytes (roughly: the texts and their parsed form), the least
//!   recently used dropped first, and nothing kept longer than [`IDLE_MS`] after its last use
//!   (a visit's length: health information does not stay in memory for a day).
//! - Memory only, this process only; never written anywhere. The remote source is not cached:
//!   the EHR is the record, read when the patient looks.

use super::convert::Resources;
use super::fhir::ResourceType;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long an unused entry is kept: about a visit.
pub const IDLE_MS: i64 = 10 * 60 * 1000;

#[derive(Debug)]
pub struct RecordCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<Key, Cached>,
    weight: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    patient: String,
    types: Vec<ResourceType>,
}

#[derive(Debug)]
struct Cached {
    version: i64,
    resources: Arc<Resources>,
    weight: usize,
    used_ms: i64,
}

impl RecordCache {
    /// A cache of at most `capacity` bytes; 0 keeps nothing.
    pub fn new(capacity: usize) -> RecordCache {
        RecordCache { capacity, inner: Mutex::new(Inner::default()) }
    }

    fn key(patient: &str, types: &[ResourceType]) -> Key {
        let mut types = types.to_vec();
        types.sort();
        types.dedup();
        Key { patient: patient.to_string(), types }
    }

    /// The patient's resources of `types` as read at `version`, if kept; an entry of another
    /// version is dropped.
    pub fn get(&self, patient: &str, types: &[ResourceType], version: i64, now_ms: i64) -> Option<Arc<Resources>> {
        if self.capacity == 0 {
            return None;
        }
        let key = Self::key(patient, types);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match inner.entries.get_mut(&key) {
            Some(c) if c.version == version && now_ms - c.used_ms <= IDLE_MS => {
                c.used_ms = now_ms;
                Some(c.resources.clone())
            }
            Some(_) => {
                inner.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Keeps what was read at `version`, making room by dropping what idled too long, then the
    /// least recently used. A record larger than a quarter of the cache is not kept (it would
    /// push out everyone else's).
    pub fn put(&self, patient: &str, types: &[ResourceType], version: i64, resources: Arc<Resources>, now_ms: i64) {
        let weight = resources.weight();
        if self.capacity == 0 || weight > self.capacity / 4 {
            return;
        }
        let key = Self::key(patient, types);
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.remove(&key);
        let idle: Vec<Key> = inner.entries.iter().filter(|(_, c)| now_ms - c.used_ms > IDLE_MS).map(|(k, _)| k.clone()).collect();
        for k in idle {
            inner.remove(&k);
        }
        while inner.weight + weight > self.capacity {
            let Some(oldest) = inner.entries.iter().min_by_key(|(_, c)| c.used_ms).map(|(k, _)| k.clone()) else { break };
            inner.remove(&oldest);
        }
        inner.weight += weight;
        inner.entries.insert(key, Cached { version, resources, weight, used_ms: now_ms });
    }

    /// How many records are kept, and their weight (for tests and the metrics).
    pub fn size(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        (inner.entries.len(), inner.weight)
    }
}

impl Inner {
    fn remove(&mut self, key: &Key) {
        if let Some(c) = self.entries.remove(key) {
            self.weight -= c.weight;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::convert::ItemKey;
    use ResourceType::*;

    fn record(patient: &str, results: usize) -> Arc<Resources> {
        let mut texts = vec![format!(r#"{{"resourceType":"Patient","id":"{patient}"}}"#)];
        for i in 0..results {
            texts.push(format!(
                r#"{{"resourceType":"Observation","id":"{patient}-{i}","status":"final","code":{{"text":"A1c"}},"subject":{{"reference":"Patient/{patient}"}}}}"#
            ));
        }
        Arc::new(Resources::build(patient, texts, None, &ItemKey::new([7; 32])))
    }

    #[test]
    fn a_kept_record_is_given_only_at_the_version_it_was_read() {
        let cache = RecordCache::new(1 << 20);
        cache.put("p1", &[Observation, Encounter], 3, record("p1", 2), 0);
        assert!(cache.get("p1", &[Encounter, Observation], 3, 1_000).is_some(), "the same types in another order are the same read");
        assert!(cache.get("p1", &[Observation], 3, 1_000).is_none(), "other types are another read");
        assert!(cache.get("p2", &[Observation, Encounter], 3, 1_000).is_none(), "never another patient's");
        assert!(cache.get("p1", &[Observation, Encounter], 4, 1_000).is_none(), "after an import the store is read again");
        assert_eq!(cache.size().0, 0, "and the stale entry is gone");
    }

    #[test]
    fn nothing_is_kept_past_a_visit_or_past_the_capacity() {
        let one = record("p1", 10).weight();
        let cache = RecordCache::new(one * 4);
        cache.put("p1", &[Observation], 1, record("p1", 10), 0);
        assert!(cache.get("p1", &[Observation], 1, IDLE_MS).is_some(), "used within the visit");
        assert!(cache.get("p1", &[Observation], 1, 2 * IDLE_MS + 1).is_none(), "idle longer than a visit");

        for (i, p) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            cache.put(p, &[Observation], 1, record(p, 10), i as i64);
        }
        let (count, weight) = cache.size();
        assert_eq!(count, 4, "the least recently used made room");
        assert!(weight <= one * 4);
        assert!(cache.get("a", &[Observation], 1, 10).is_none(), "the oldest went first");
        assert!(cache.get("e", &[Observation], 1, 10).is_some());

        cache.put("big", &[Observation], 1, record("big", 60), 20);
        assert!(cache.get("big", &[Observation], 1, 21).is_none(), "a record over a quarter of the cache is not kept");
        let off = RecordCache::new(0);
        off.put("p1", &[Observation], 1, record("p1", 1), 0);
        assert!(off.get("p1", &[Observation], 1, 0).is_none(), "a capacity of 0 keeps nothing");
    }
}
