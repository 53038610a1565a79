//! New-result notices (SPEC R-REC-4, R-MSG-6; issue 15): a PHI-free e-mail ("Something new is
//! in your medical record. Sign in …": no test, value, date or clinician) through the outbox
//! (retried, logged without content), at most one per patient per day (the clinic's calendar
//! day), only for results the patient can see under the release rules (`server::read` applies
//! them), and only to a patient with an active account and a confirmed address (one who chose
//! a single daily e-mail for everything new, on the Messages page, gets it in that e-mail).
//!
//! Found by a periodic job ([`run`], started by the server's background loop) for the
//! embedded source: a result is *new to tell* when it became visible after `told_through`
//! (table `record_notices`) and the patient has not seen it (`record_seen`). It became visible
//! when it was loaded (`record_resources.loaded_at`) or, under a delay the patient chose, when
//! the delay ran out, whichever is later; so a result released later by the patient's delay is
//! told when it is released. The first time the job meets a patient it only notes the time
//! (nothing loaded before, by `loaded_at`, is "new").
//!
//! The remote source keeps no record, so each pass first reads the EHR's feed of changed
//! results ([`follow_feed`]: one search per result type, `_lastUpdated` at or after where the
//! last pass stopped, every patient at once, ids and times only) and notes, for patients linked
//! to a portal account, which result changed and when the portal learned of it
//! (`record_changes`): that time plays `loaded_at`'s part and the rest is the same. Patients not
//! linked yet are not looked up in the EHR by this job (they are linked when they first open
//! their record); a patient who chose a delay has their results read from the EHR on each pass,
//! since a delay can run out without anything changing.

use super::convert::PatientRecord;
use super::fhir::ResourceType;
use super::model::ItemId;
use super::release::{self, ReleaseChoice};
use super::remote::{Changed, Remote};
use super::server::{self, Section};
use super::source::RecordError;
use crate::outbox::{self, Notice};
use crate::patients::PatientId;
use crate::state::AppState;
use std::collections::{HashMap, HashSet};

/// How often the background loop runs [`run`].
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(120);

fn day_of(ms: i64, tz: &jiff::tz::TimeZone) -> Option<jiff::civil::Date> {
    jiff::Timestamp::from_millisecond(ms).ok().map(|t| t.to_zoned(tz.clone()).date())
}

/// A patient who could be told, with where their notices stand.
#[derive(sqlx::FromRow)]
struct CandidateRow {
    patient_id: PatientId,
    email: String,
    /// Results loaded up to here have been told of; none the first time the patient is met.
    told_through: Option<i64>,
    last_sent_at: Option<i64>,
}

/// A result loaded for the patient: which resource, and when it was loaded.
#[derive(sqlx::FromRow)]
struct LoadedRow {
    resource_type: String,
    resource_id: String,
    loaded_at: i64,
}

/// One pass over the patients who could be told: queues the notices due. Answers how many
/// were queued. A patient whose record cannot be read now is tried again next time.
#[tracing::instrument(skip_all)]
pub async fn run(state: &AppState) -> Result<usize, sqlx::Error> {
    let now = state.clock.now_ms();
    if let Some(remote) = state.record.remote() {
        follow_feed(state, remote, now).await?;
    }
    let tz = &state.settings.messaging.time_zone;
    // Only the patients who could have something to be told: met for the first time, not linked
    // to a record yet, with a result loaded since their mark, or with a delay that may run out.
    // Everyone else costs nothing, however many patients the portal has.
    let rows: Vec<CandidateRow> = sqlx::query_as(
        "SELECT u.patient_id, u.email, n.told_through, n.last_sent_at FROM users u \
         LEFT JOIN record_notices n ON n.patient_id = u.patient_id \
         LEFT JOIN record_links l ON l.patient_id = u.patient_id \
         WHERE u.patient_id IS NOT NULL AND u.access = 'active' AND u.email IS NOT NULL AND u.email <> '' \
         AND u.email_confirmed_at IS NOT NULL \
         AND (n.patient_id IS NULL OR (l.patient_id IS NULL AND $1) \
              OR EXISTS (SELECT 1 FROM record_release r WHERE r.patient_id = u.patient_id AND r.delay_days IS NOT NULL) \
              OR EXISTS (SELECT 1 FROM record_resources x WHERE x.fhir_patient_id = l.fhir_patient_id \
                         AND x.resource_type IN ('Observation', 'DiagnosticReport') AND x.loaded_at > n.told_through) \
              OR EXISTS (SELECT 1 FROM record_changes c WHERE c.fhir_patient_id = l.fhir_patient_id AND c.changed_at > n.told_through)) \
         ORDER BY u.patient_id",
    )
    // Unlinked patients are matched by record number in the embedded record only (a lookup in
    // the database); the EHR is not asked about each of them on every pass.
    .bind(!state.record.is_remote())
    .fetch_all(&state.db.pool)
    .await?;
    // The first time a patient is met, everything loaded so far is old news.
    let mut baseline: Option<i64> = None;
    let mut queued = 0;
    for row in rows {
        let CandidateRow { patient_id: patient, email, told_through: told, last_sent_at: last } = row;
        let Some(told) = told else {
            // First meeting: from now on (and after anything already loaded, whatever the
            // clock of whoever loaded it said).
            let from = match baseline {
                Some(b) => b,
                None => {
                    let latest: Option<i64> = sqlx::query_scalar("SELECT MAX(loaded_at) FROM record_resources").fetch_one(&state.db.pool).await?;
                    *baseline.insert(latest.unwrap_or(now).max(now))
                }
            };
            sqlx::query("INSERT INTO record_notices (patient_id, told_through, last_sent_at) VALUES ($1, $2, NULL) ON CONFLICT DO NOTHING")
                .bind(patient.as_str())
                .bind(from)
                .execute(&state.db.pool)
                .await?;
            continue;
        };
        if last.is_some_and(|l| day_of(l, tz) == day_of(now, tz)) {
            // Told today already: what is new waits for tomorrow's pass.
            continue;
        }
        match tell(state, &patient, &email, told, now).await {
            Ok(true) => queued += 1,
            Ok(false) | Err(RecordError::NotLinked) => {}
            Err(RecordError::Db(e)) => return Err(e),
            Err(RecordError::Unavailable(_)) => tracing::warn!("a record could not be read for new-result notices; tried again later"),
        }
    }
    Ok(queued)
}

/// The result types whose arrival is told.
const TOLD: [ResourceType; 2] = [ResourceType::Observation, ResourceType::DiagnosticReport];

/// How long the portal remembers that the EHR changed a result: long past any notice it could
/// still cause (a delay is at most 14 days).
const CHANGES_KEPT_MS: i64 = 90 * 86_400_000;

/// Remote source: reads what the EHR changed since the last pass, per result type, and notes
/// the changes to results of linked patients in `record_changes` (ids and times; a change to
/// a patient with no portal account is not kept). The first pass only notes where the feed
/// starts (now). Two servers may read the same changes: the notes are the same, and the mark
/// moves once (compare-and-set); the notices themselves are sent once by [`tell`]'s own
/// compare-and-set. An EHR that does not answer is asked again on the next pass, from the
/// same mark.
async fn follow_feed(state: &AppState, remote: &Remote, now: i64) -> Result<(), sqlx::Error> {
    let pool = &state.db.pool;
    for kind in TOLD {
        let through: Option<String> =
            sqlx::query_scalar("SELECT through FROM record_feed WHERE resource_type = $1").bind(kind.as_str()).fetch_optional(pool).await?;
        let Some(since) = through else {
            let start = jiff::Timestamp::from_millisecond(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_string();
            sqlx::query("INSERT INTO record_feed (resource_type, through) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(kind.as_str())
                .bind(start)
                .execute(pool)
                .await?;
            continue;
        };
        let (changes, capped) = match remote.changed_since(kind, &since).await {
            Ok(found) => found,
            Err(_) => {
                tracing::warn!(kind = kind.as_str(), "the record source's feed of changed results could not be read; tried again later");
                return Ok(());
            }
        };
        let (newest, stalled) = next_mark(&since, &changes, capped);
        if stalled {
            tracing::warn!(kind = kind.as_str(), "more results changed at one instant than the feed reads in a pass; those past the cap are not told");
        }
        let mut tx = state.db.begin_write().await?;
        for c in &changes {
            // `version` is the change's time: the same change read again (the search starts at
            // the mark, inclusive) is not news; a new one is.
            sqlx::query(
                "INSERT INTO record_changes (fhir_patient_id, resource_type, resource_id, version, changed_at) \
                 SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM record_links WHERE fhir_patient_id = $1) \
                 ON CONFLICT (fhir_patient_id, resource_type, resource_id) \
                 DO UPDATE SET version = excluded.version, changed_at = excluded.changed_at WHERE record_changes.version <> excluded.version",
            )
            .bind(&c.patient)
            .bind(kind.as_str())
            .bind(&c.id)
            .bind(&c.last_updated)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE record_feed SET through = $1 WHERE resource_type = $2 AND through = $3")
            .bind(&newest)
            .bind(kind.as_str())
            .bind(&since)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    sqlx::query("DELETE FROM record_changes WHERE changed_at < $1").bind(now - CHANGES_KEPT_MS).execute(pool).await?;
    Ok(())
}

/// Where the feed's next search starts: the newest change read (sorted oldest first, but a
/// server may not sort; a capped search continues from there). The search is inclusive, so a
/// capped search that read nothing newer than its start (more changes at one instant than a
/// pass reads) would return the same page for ever: then the mark moves one millisecond past
/// it, and says so (`true`): the changes beyond the cap at that instant are not told.
fn next_mark(since: &str, changes: &[Changed], capped: bool) -> (String, bool) {
    let at = |s: &str| s.parse::<jiff::Timestamp>().ok();
    let mut newest = since.to_string();
    for c in changes {
        if at(&c.last_updated) > at(&newest) {
            newest.clone_from(&c.last_updated);
        }
    }
    match at(&newest) {
        Some(t) if capped && newest == since => (t.checked_add(jiff::SignedDuration::from_millis(1)).unwrap_or(t).to_string(), true),
        _ => (newest, false),
    }
}

/// The results of `record` the patient can see that became visible after `told` (and by
/// `now`), given when each was loaded.
pub fn newly_visible(record: &PatientRecord, loaded: &HashMap<ItemId, i64>, choice: ReleaseChoice, told: i64, now: i64) -> Vec<ItemId> {
    let results = record.test_results();
    let shown: HashSet<&ItemId> = results.panels.iter().map(|p| &p.id).chain(results.single.iter().map(|r| &r.id)).collect();
    release::units(record)
        .into_iter()
        .filter(|e| shown.contains(&e.item))
        .filter_map(|e| {
            let released = release::released_at(record, e, choice)?;
            let at = loaded.get(&e.item).copied().unwrap_or(0).max(released);
            (at > told && at <= now).then(|| e.item.clone())
        })
        .collect()
}

async fn tell(state: &AppState, patient: &PatientId, email: &str, told: i64, now: i64) -> Result<bool, RecordError> {
    let fhir_patient = match server::link_of(&state.db, patient).await? {
        Some(link) => link.fhir_patient_id,
        None if state.record.is_remote() => return Ok(false),
        None => server::fhir_patient_of(state, patient, now).await?,
    };
    let choice = release::choice_of(&state.db, patient).await?;
    // When each result arrived: loaded into the embedded record, or learned of from the EHR's
    // feed.
    let rows: Vec<LoadedRow> = sqlx::query_as(if state.record.is_remote() {
        "SELECT resource_type, resource_id, changed_at AS loaded_at FROM record_changes WHERE fhir_patient_id = $1"
    } else {
        "SELECT resource_type, resource_id, loaded_at FROM record_resources \
         WHERE fhir_patient_id = $1 AND resource_type IN ('Observation', 'DiagnosticReport')"
    })
    .bind(&fhir_patient)
    .fetch_all(&state.db.pool)
    .await?;
    let key = state.record.item_key();
    let mut loaded = HashMap::with_capacity(rows.len());
    let mut anything_new = false;
    for r in rows {
        anything_new |= r.loaded_at > told;
        if let Some(kind) = ResourceType::parse(&r.resource_type) {
            loaded.insert(key.id(kind, &r.resource_id), r.loaded_at);
        }
    }
    // Nothing loaded since the last notice, and no delay that could run out: nothing to read.
    if !anything_new && !matches!(choice, ReleaseChoice::AfterDays(_)) {
        return Ok(false);
    }
    let record = server::read(state, patient, Section::TestResults).await?;
    let fresh = newly_visible(&record, &loaded, choice, told, now);
    let ids: Vec<&ItemId> = fresh.iter().collect();
    let tell = !super::seen::unseen(&state.db, patient, &ids).await?.is_empty();
    let mut tx = state.db.begin_write().await?;
    // Another server may have done this pass meanwhile: only one of the two moves the mark.
    // Nothing unseen: the mark moves on without a notice (what was loaded is not read again).
    let moved = sqlx::query(if tell {
        "UPDATE record_notices SET told_through = $1, last_sent_at = $1 WHERE patient_id = $2 AND told_through = $3"
    } else {
        "UPDATE record_notices SET told_through = $1 WHERE patient_id = $2 AND told_through = $3"
    })
    .bind(now)
    .bind(patient.as_str())
    .bind(told)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 || !tell {
        tx.commit().await?;
        return Ok(false);
    }
    // A patient who chose one e-mail a day for everything new gets this in that one.
    let daily: Option<String> = sqlx::query_scalar("SELECT notices FROM users WHERE patient_id = $1").bind(patient.as_str()).fetch_optional(&mut *tx).await?;
    if daily.as_deref().and_then(crate::messaging::NoticeMode::parse) == Some(crate::messaging::NoticeMode::Daily) {
        outbox::notify_patient(&mut tx, &state.settings, patient, &Notice::NewInRecord, now).await?;
    } else {
        outbox::enqueue(&mut tx, email, &Notice::NewInRecord, now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(at: &str) -> Changed {
        Changed { patient: "p".into(), id: "o".into(), last_updated: at.into() }
    }

    #[test]
    fn the_feed_moves_to_the_newest_change_whatever_the_order() {
        let since = "2026-12-04T10:00:00Z";
        let changes = [change("2026-12-04T10:05:00.250Z"), change("2026-12-04T10:09:00+01:00"), change("2026-12-04T10:01:00Z")];
        // 10:09 at +01:00 is 09:09 UTC: older than the start, not the mark.
        assert_eq!(next_mark(since, &changes, false), ("2026-12-04T10:05:00.250Z".to_string(), false));
        assert_eq!(next_mark(since, &[], false), (since.to_string(), false), "nothing new: the mark stays");
        assert_eq!(next_mark(since, &[change("not a time")], true).0, "2026-12-04T10:00:00.001Z");
    }

    #[test]
    fn a_capped_search_that_read_only_its_start_does_not_stall_the_feed() {
        let since = "2026-12-04T10:00:00Z";
        let same = [change(since), change(since)];
        let (mark, stalled) = next_mark(since, &same, true);
        assert!(stalled);
        assert_eq!(mark, "2026-12-04T10:00:00.001Z", "one millisecond on");
        assert_eq!(next_mark(since, &same, false), (since.to_string(), false), "the whole search read: nothing is skipped");
    }
}
