//! What the patient has seen of their record (`record_seen`, migration 0019): opaque item ids
//! and when each was first seen, nothing clinical (R-REC-2). Test Results marks as "New" what
//! is not here, then remembers what it showed.

use super::model::ItemId;
use crate::patients::PatientId;
use crate::platform::db::Db;
use std::collections::HashSet;

/// The items of `ids` the patient has not seen yet.
pub async fn unseen(db: &Db, patient: &PatientId, ids: &[&ItemId]) -> Result<HashSet<ItemId>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let seen: HashSet<String> =
        sqlx::query_scalar("SELECT item_id FROM record_seen WHERE patient_id = $1").bind(patient.as_str()).fetch_all(&db.pool).await?.into_iter().collect();
    Ok(ids.iter().filter(|id| !seen.contains(id.as_str())).map(|id| (*id).clone()).collect())
}

/// Remembers that the patient has seen `ids` (now, unless seen before). Two pages loading at
/// once both succeed: the first time seen is kept.
pub async fn mark_seen(db: &Db, patient: &PatientId, ids: &[&ItemId], now: i64) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    // A few rows per statement keeps the statement small on both databases.
    for chunk in ids.chunks(50) {
        let rows: Vec<String> = (0..chunk.len()).map(|i| format!("($1, ${}, $2)", i + 3)).collect();
        let sql = format!("INSERT INTO record_seen (patient_id, item_id, seen_at) VALUES {} ON CONFLICT DO NOTHING", rows.join(", "));
        let mut q = sqlx::query(&sql).bind(patient.as_str()).bind(now);
        for id in chunk {
            q = q.bind(id.as_str());
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await
}
