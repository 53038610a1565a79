//! Terms versions and acceptances in the database.

use super::{Acceptance, TermsDocument, TermsVersionSummary, SAMPLE_BODY, SAMPLE_TITLE};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::platform::db::{Db, Tx};
use crate::platform::tokens;
use crate::types::UserId;
use std::net::IpAddr;

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: String,
    version: i64,
    title: String,
    body: String,
    effective_at: i64,
    published_at: i64,
}

impl From<DocumentRow> for TermsDocument {
    fn from(r: DocumentRow) -> TermsDocument {
        TermsDocument { id: r.id, version: r.version, title: r.title, body: r.body, effective_at: r.effective_at, published_at: r.published_at }
    }
}

/// The version in force at `now`: the newest one whose effective time has come.
pub async fn in_force(db: &Db, now: i64) -> Result<Option<TermsDocument>, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    in_force_on(&mut conn, now).await
}

/// [`in_force`] on a connection already held, e.g. a transaction's: code that holds a
/// transaction must not wait for a second connection of the pool (with every connection held
/// by requests doing the same, none would ever come free).
pub async fn in_force_on(conn: &mut sqlx::AnyConnection, now: i64) -> Result<Option<TermsDocument>, sqlx::Error> {
    let row = sqlx::query_as::<_, DocumentRow>(
        "SELECT id, version, title, body, effective_at, published_at FROM terms_versions \
         WHERE effective_at <= $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(TermsDocument::from))
}

/// Publishes the sample text as version 1 when no version exists (a new installation).
pub async fn ensure_published(db: &Db, now: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let any: Option<String> = sqlx::query_scalar("SELECT id FROM terms_versions LIMIT 1").fetch_optional(&mut *tx).await?;
    if any.is_none() {
        publish(&mut tx, SAMPLE_TITLE, SAMPLE_BODY.trim(), now, None, None, now).await?;
    }
    tx.commit().await
}

/// Adds a version; returns its number.
pub async fn publish(
    tx: &mut Tx,
    title: &str,
    body: &str,
    effective_at: i64,
    by: Option<&UserId>,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let version: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 AS next FROM terms_versions").fetch_one(&mut **tx).await?;
    let id = tokens::new_id();
    sqlx::query(
        "INSERT INTO terms_versions (id, version, title, body, effective_at, published_at, published_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(version)
    .bind(title)
    .bind(body)
    .bind(effective_at)
    .bind(now)
    .bind(by.map(|u| u.as_str()))
    .execute(&mut **tx)
    .await?;
    audit::record(
        tx,
        AuditEvent { actor: by, record_type: Some("terms"), record_id: Some(&id), client_addr, ..AuditEvent::of(AuditAction::TermsPublished) },
        now,
    )
    .await?;
    Ok(version)
}

/// Records that `user` accepted `terms` (once per version).
pub async fn accept(tx: &mut Tx, user: &UserId, terms: &TermsDocument, client_addr: Option<IpAddr>, now: i64) -> Result<(), sqlx::Error> {
    // A double submit must not fail: the second acceptance of a version is simply not stored.
    let inserted = sqlx::query(
        "INSERT INTO terms_acceptances (user_id, terms_version_id, accepted_at, client_addr) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, terms_version_id) DO NOTHING",
    )
    .bind(user.as_str())
    .bind(&terms.id)
    .bind(now)
    .bind(client_addr.map(|a| a.to_string()))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(());
    }
    let version = terms.version.to_string();
    audit::record(
        tx,
        AuditEvent {
            actor: Some(user),
            subject: Some(user),
            record_type: Some("terms"),
            record_id: Some(&terms.id),
            client_addr,
            detail: Some(&version),
            ..AuditEvent::of(AuditAction::TermsAccepted)
        },
        now,
    )
    .await
}

/// Whether `user` must still accept the version in force.
pub async fn pending_for(tx: &mut Tx, user: &UserId, now: i64) -> Result<bool, sqlx::Error> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT t.id, a.user_id AS accepted FROM terms_versions t \
         LEFT JOIN terms_acceptances a ON a.terms_version_id = t.id AND a.user_id = $1 \
         WHERE t.effective_at <= $2 ORDER BY t.version DESC LIMIT 1",
    )
    .bind(user.as_str())
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some((_, accepted)) => accepted.is_none(),
        None => false,
    })
}

#[derive(sqlx::FromRow)]
struct AcceptanceRow {
    version: i64,
    title: String,
    accepted_at: i64,
    client_addr: Option<String>,
}

pub async fn acceptances_of(db: &Db, user: &UserId) -> Result<Vec<Acceptance>, sqlx::Error> {
    let rows = sqlx::query_as::<_, AcceptanceRow>(
        "SELECT t.version, t.title, a.accepted_at, a.client_addr FROM terms_acceptances a \
         JOIN terms_versions t ON t.id = a.terms_version_id WHERE a.user_id = $1 ORDER BY a.accepted_at DESC",
    )
    .bind(user.as_str())
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| Acceptance { version: r.version, title: r.title, accepted_at: r.accepted_at, client_addr: r.client_addr }).collect())
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i64,
    title: String,
    effective_at: i64,
    published_at: i64,
    published_by: Option<String>,
    acceptances: i64,
}

pub async fn versions(db: &Db, now: i64) -> Result<Vec<TermsVersionSummary>, sqlx::Error> {
    let in_force = in_force(db, now).await?.map(|t| t.version);
    let rows = sqlx::query_as::<_, VersionRow>(
        "SELECT t.version, t.title, t.effective_at, t.published_at, u.display_name AS published_by, \
                (SELECT COUNT(*) FROM terms_acceptances a WHERE a.terms_version_id = t.id) AS acceptances \
         FROM terms_versions t LEFT JOIN users u ON u.id = t.published_by ORDER BY t.version DESC",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TermsVersionSummary {
            version: r.version,
            title: r.title,
            effective_at: r.effective_at,
            published_at: r.published_at,
            published_by: r.published_by,
            acceptances: r.acceptances,
            in_force: Some(r.version) == in_force,
        })
        .collect())
}
