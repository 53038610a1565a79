//! Writing and verifying the chain. Each entry's hash covers its own fields and the previous
//! entry's hash, so changing or removing any entry breaks every link after it. The head of the
//! chain (`audit_head`, one row) is updated in the same transaction as the entry: that row lock
//! serialises writers on PostgreSQL, and on SQLite the write lock does.

use super::AuditAction;
use crate::platform::db::{Db, Tx};
use crate::types::UserId;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::net::IpAddr;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Clone, Debug)]
pub struct AuditEvent<'a> {
    pub action: AuditAction,
    /// Who did it (none for an anonymous attempt).
    pub actor: Option<&'a UserId>,
    /// Whose record or account it concerns.
    pub subject: Option<&'a UserId>,
    pub record_type: Option<&'a str>,
    pub record_id: Option<&'a str>,
    pub client_addr: Option<IpAddr>,
    /// A short, fixed phrase; never free text typed by a user, never health information.
    pub detail: Option<&'a str>,
}

impl AuditEvent<'_> {
    /// An event of `action` with nothing else filled in; callers add who, whom and where.
    /// (No `Default`: an entry must never be recorded under an action nobody chose.)
    pub fn of(action: AuditAction) -> Self {
        AuditEvent { action, actor: None, subject: None, record_type: None, record_id: None, client_addr: None, detail: None }
    }
}

/// One stored entry, as the chain sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub action: String,
    pub actor_id: Option<String>,
    pub subject_id: Option<String>,
    pub record_type: Option<String>,
    pub record_id: Option<String>,
    pub client_addr: Option<String>,
    pub detail: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        let fields: [&str; 10] = [
            &self.prev_hash,
            &self.seq.to_string(),
            &self.at.to_string(),
            &self.action,
            self.actor_id.as_deref().unwrap_or(""),
            self.subject_id.as_deref().unwrap_or(""),
            self.record_type.as_deref().unwrap_or(""),
            self.record_id.as_deref().unwrap_or(""),
            self.client_addr.as_deref().unwrap_or(""),
            self.detail.as_deref().unwrap_or(""),
        ];
        for f in fields {
            // Length-prefixed, so that no two different entries hash the same bytes.
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// Appends an entry that stands alone (a page viewed, a file downloaded: nothing else is
/// written), in a write transaction of its own.
pub async fn record_alone(db: &crate::platform::db::Db, event: AuditEvent<'_>, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    record(&mut tx, event, now).await?;
    tx.commit().await
}

/// Appends an entry in the caller's transaction, so the entry exists if and only if the action
/// it records was committed.
pub async fn record(tx: &mut Tx, event: AuditEvent<'_>, now: i64) -> Result<(), sqlx::Error> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await?;
    let mut entry = AuditEntry {
        seq: head.try_get("seq")?,
        at: now,
        action: event.action.as_str().to_string(),
        actor_id: event.actor.map(|u| u.0.clone()),
        subject_id: event.subject.map(|u| u.0.clone()),
        record_type: event.record_type.map(str::to_owned),
        record_id: event.record_id.map(str::to_owned),
        client_addr: event.client_addr.map(|a| a.to_string()),
        detail: event.detail.map(str::to_owned),
        prev_hash: head.try_get("hash")?,
        hash: String::new(),
    };
    entry.hash = entry.compute_hash();
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&entry.hash)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO audit_log (seq, at, action, actor_id, subject_id, record_type, record_id, client_addr, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(entry.seq)
    .bind(entry.at)
    .bind(&entry.action)
    .bind(&entry.actor_id)
    .bind(&entry.subject_id)
    .bind(&entry.record_type)
    .bind(&entry.record_id)
    .bind(&entry.client_addr)
    .bind(&entry.detail)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The outcome of walking the chain.
#[derive(Debug, PartialEq)]
pub enum ChainReport {
    Intact { entries: i64 },
    /// The first entry whose link does not hold, and why.
    Broken { seq: i64, problem: &'static str },
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEntry, sqlx::Error> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        action: row.try_get("action")?,
        actor_id: row.try_get("actor_id")?,
        subject_id: row.try_get("subject_id")?,
        record_type: row.try_get("record_type")?,
        record_id: row.try_get("record_id")?,
        client_addr: row.try_get("client_addr")?,
        detail: row.try_get("detail")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

/// Walks the whole chain in order and reports the first broken link.
pub async fn verify(db: &Db) -> Result<ChainReport, sqlx::Error> {
    let mut expected_prev = GENESIS_HASH.to_string();
    let mut expected_seq = 1;
    let mut after = 0i64;
    // In pages, so that a long trail does not sit in memory at once.
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, action, actor_id, subject_id, record_type, record_id, client_addr, detail, prev_hash, hash \
             FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000",
        )
        .bind(after)
        .fetch_all(&db.pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let entry = entry_from_row(row)?;
            if entry.seq != expected_seq {
                return Ok(ChainReport::Broken { seq: expected_seq, problem: "entry missing" });
            }
            if entry.prev_hash != expected_prev {
                return Ok(ChainReport::Broken { seq: entry.seq, problem: "does not link to the entry before it" });
            }
            if entry.compute_hash() != entry.hash {
                return Ok(ChainReport::Broken { seq: entry.seq, problem: "contents changed" });
            }
            expected_prev = entry.hash;
            expected_seq += 1;
            after = entry.seq;
        }
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&db.pool).await?;
    let head_seq: i64 = head.try_get("seq")?;
    let head_hash: String = head.try_get("hash")?;
    if head_seq != expected_seq - 1 || head_hash != expected_prev {
        return Ok(ChainReport::Broken { seq: expected_seq, problem: "latest entries missing" });
    }
    Ok(ChainReport::Intact { entries: expected_seq - 1 })
}

/// A patient's own sign-in history (the "Account activity" page).
/// What the patient sees of their own account's history: sign-ins and sign-outs, and every
/// change to how they sign in.
pub const ACCOUNT_HISTORY: &[AuditAction] = &[
    AuditAction::SignInSucceeded,
    AuditAction::SignInFailed,
    AuditAction::SignInThrottled,
    AuditAction::SignOut,
    AuditAction::SessionTimeout,
    AuditAction::SessionEnded,
    AuditAction::OtherSessionsEnded,
    AuditAction::AccountActivated,
    AuditAction::TermsAccepted,
    AuditAction::PasswordChanged,
    AuditAction::PasswordReset,
    AuditAction::PasswordResetRequested,
    AuditAction::UserIdReminderRequested,
    AuditAction::EmailChangeRequested,
    AuditAction::EmailChanged,
    AuditAction::AccessTerminated,
    AuditAction::AccessRestored,
];

pub async fn sign_in_history(db: &Db, user: &UserId, limit: i64) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let placeholders: Vec<String> = (0..ACCOUNT_HISTORY.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT seq, at, action, actor_id, subject_id, record_type, record_id, client_addr, detail, prev_hash, hash \
         FROM audit_log WHERE subject_id = $1 AND action IN ({}) ORDER BY seq DESC LIMIT ${}",
        placeholders.join(", "),
        ACCOUNT_HISTORY.len() + 2
    );
    let mut query = sqlx::query(&sql).bind(&user.0);
    for action in ACCOUNT_HISTORY {
        query = query.bind(action.as_str());
    }
    let rows = query.bind(limit).fetch_all(&db.pool).await?;
    rows.iter().map(entry_from_row).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        AuditEntry {
            seq: 1,
            at: 1_700_000_000_000,
            action: "sign-in.succeeded".into(),
            actor_id: Some("a".into()),
            subject_id: Some("a".into()),
            record_type: None,
            record_id: None,
            client_addr: Some("127.0.0.1".into()),
            detail: None,
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = entry().compute_hash();
        let mut e = entry();
        e.at += 1;
        assert_ne!(e.compute_hash(), base);
        let mut e = entry();
        e.client_addr = None;
        assert_ne!(e.compute_hash(), base);
        let mut e = entry();
        e.prev_hash = "1".repeat(64);
        assert_ne!(e.compute_hash(), base);
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        let mut a = entry();
        a.actor_id = Some("ab".into());
        a.subject_id = Some("c".into());
        let mut b = entry();
        b.actor_id = Some("a".into());
        b.subject_id = Some("bc".into());
        assert_ne!(a.compute_hash(), b.compute_hash());
    }
}
