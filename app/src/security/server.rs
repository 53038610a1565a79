//! The queries behind the security view and the audit-trail search. Read-only, except for the
//! audit entry that records each look. Written once for SQLite and PostgreSQL (`$1` placeholders,
//! standard SQL only).

use super::{
    AccountRef, AddressFailures, AuditEntryView, AuditResults, AuditSearch, BreakGlassAccess, ChainStatus, FailedSignIns, SecurityOverview, TerminatedAccount,
    ThrottledAccount, AUDIT_PAGE_SIZE, BREAK_GLASS_WINDOW_MS, FAILURE_WINDOW_MS, SECTION_LIMIT, THROTTLE_WINDOW_MS,
};
use crate::audit::{self, AuditAction, AuditEvent, ChainReport};
use crate::platform::db::Db;
use crate::types::UserId;
use std::net::IpAddr;

/// An account named by its login and display name, when the query found one.
fn account(login: Option<String>, name: Option<String>) -> Option<AccountRef> {
    login.map(|login| AccountRef { login, display_name: name.unwrap_or_default() })
}

/// Sign-ins counted per account (failed or refused as throttled): the account when the typed
/// user ID matched one, how many, how many different user IDs, and the last.
#[derive(sqlx::FromRow)]
struct AccountCountRow {
    login: Option<String>,
    display_name: Option<String>,
    n: i64,
    ids: i64,
    last_at: i64,
}

/// Failed sign-ins counted per client address.
#[derive(sqlx::FromRow)]
struct AddressCountRow {
    client_addr: Option<String>,
    n: i64,
    ids: i64,
    last_at: i64,
}

/// A terminated account, with who ended its access when that is known.
#[derive(sqlx::FromRow)]
struct TerminatedRow {
    login: String,
    display_name: String,
    access_changed_at: Option<i64>,
    access_reason: Option<String>,
    by_login: Option<String>,
    by_name: Option<String>,
}

/// A break-the-glass access, with who opened which record.
#[derive(sqlx::FromRow)]
struct BreakGlassRow {
    login: String,
    display_name: String,
    mrn: String,
    at: i64,
    reason: String,
}

/// An audit entry with the logins of its actor and subject, when they name an account.
#[derive(sqlx::FromRow)]
struct AuditEntryRow {
    seq: i64,
    at: i64,
    action: String,
    actor_login: Option<String>,
    actor_id: Option<String>,
    subject_login: Option<String>,
    subject_id: Option<String>,
    record_type: Option<String>,
    record_id: Option<String>,
    client_addr: Option<String>,
    detail: Option<String>,
}

/// Failed sign-ins since `since`, one row per account; attempts whose typed user ID matched no
/// account (`user_id` is NULL) come back as one row without an account.
async fn failures_by_account(db: &Db, since: i64) -> Result<Vec<FailedSignIns>, sqlx::Error> {
    let rows: Vec<AccountCountRow> = sqlx::query_as(
        "SELECT u.login, u.display_name, COUNT(*) AS n, COUNT(DISTINCT a.login_key) AS ids, MAX(a.at) AS last_at \
         FROM sign_in_attempts a LEFT JOIN users u ON u.id = a.user_id \
         WHERE a.outcome = 'failed' AND a.at > $1 \
         GROUP BY a.user_id, u.login, u.display_name \
         ORDER BY n DESC, last_at DESC LIMIT $2",
    )
    .bind(since)
    .bind(SECTION_LIMIT)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| FailedSignIns { account: account(r.login, r.display_name), failures: r.n, user_ids: r.ids, last_at: r.last_at }).collect())
}

/// Accounts whose sign-ins were refused as throttled since `since`: throttled attempts are
/// counted per account, device and throttle window (`sign_in_refusals`), not kept one by one.
async fn throttled_accounts(db: &Db, since: i64) -> Result<Vec<ThrottledAccount>, sqlx::Error> {
    let rows: Vec<AccountCountRow> = sqlx::query_as(
        "SELECT u.login, u.display_name, CAST(SUM(r.refusals) AS BIGINT) AS n, COUNT(DISTINCT r.login_key) AS ids, MAX(r.last_at) AS last_at \
         FROM sign_in_refusals r LEFT JOIN users u ON u.id = r.user_id \
         WHERE r.scope = 'account' AND r.last_at > $1 \
         GROUP BY r.user_id, u.login, u.display_name \
         ORDER BY n DESC, last_at DESC LIMIT $2",
    )
    .bind(since)
    .bind(SECTION_LIMIT)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| ThrottledAccount { account: account(r.login, r.display_name), refusals: r.n, user_ids: r.ids, last_at: r.last_at }).collect())
}

pub async fn overview(db: &Db, now: i64) -> Result<SecurityOverview, sqlx::Error> {
    let since = now - FAILURE_WINDOW_MS;
    let failures_by_account = failures_by_account(db, since).await?;

    // By the address the throttle counts (an IPv6 /64 as one); rows from before that was kept
    // show their address as it was.
    let rows: Vec<AddressCountRow> = sqlx::query_as(
        "SELECT COALESCE(address_key, client_addr) AS client_addr, COUNT(*) AS n, COUNT(DISTINCT login_key) AS ids, MAX(at) AS last_at \
         FROM sign_in_attempts WHERE outcome = 'failed' AND at > $1 \
         GROUP BY COALESCE(address_key, client_addr) ORDER BY n DESC, last_at DESC LIMIT $2",
    )
    .bind(since)
    .bind(SECTION_LIMIT)
    .fetch_all(&db.pool)
    .await?;
    let failures_by_address =
        rows.into_iter().map(|r| AddressFailures { client_addr: r.client_addr, failures: r.n, user_ids: r.ids, last_at: r.last_at }).collect();

    let throttled = throttled_accounts(db, now - THROTTLE_WINDOW_MS).await?;

    let rows: Vec<TerminatedRow> = sqlx::query_as(
        "SELECT u.login, u.display_name, u.access_changed_at, u.access_reason, b.login AS by_login, b.display_name AS by_name \
         FROM users u LEFT JOIN users b ON b.id = u.access_changed_by \
         WHERE u.access = 'terminated' ORDER BY COALESCE(u.access_changed_at, 0) DESC, u.login LIMIT $1",
    )
    .bind(SECTION_LIMIT)
    .fetch_all(&db.pool)
    .await?;
    let terminated = rows
        .into_iter()
        .map(|r| TerminatedAccount {
            account: AccountRef { login: r.login, display_name: r.display_name },
            at: r.access_changed_at,
            by: account(r.by_login, r.by_name),
            reason: r.access_reason,
        })
        .collect();

    let rows: Vec<BreakGlassRow> = sqlx::query_as(
        "SELECT u.login, u.display_name, p.mrn, b.at, b.reason FROM break_glass_accesses b \
         JOIN users u ON u.id = b.user_id JOIN patients p ON p.id = b.patient_id \
         WHERE b.at > $1 ORDER BY b.at DESC, b.id LIMIT $2",
    )
    .bind(now - BREAK_GLASS_WINDOW_MS)
    .bind(SECTION_LIMIT)
    .fetch_all(&db.pool)
    .await?;
    let break_glass = rows
        .into_iter()
        .map(|r| BreakGlassAccess { by: AccountRef { login: r.login, display_name: r.display_name }, mrn: r.mrn, at: r.at, reason: r.reason })
        .collect();

    let notices_given_up = crate::outbox::given_up(db, now - BREAK_GLASS_WINDOW_MS, SECTION_LIMIT).await?;

    Ok(SecurityOverview { now, failures_by_account, failures_by_address, throttled, terminated, break_glass, notices_given_up })
}

enum Param {
    Text(String),
    Int(i64),
}

/// The newest entries matching the search (at most a page), newest first, and whether there are
/// older ones. `user` is the account the user ID names, already looked up.
pub async fn search(db: &Db, search: &AuditSearch, user: Option<&UserId>) -> Result<AuditResults, sqlx::Error> {
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    // Adds a parameter and names its placeholder.
    fn next(p: Param, params: &mut Vec<Param>) -> String {
        params.push(p);
        format!("${}", params.len())
    }
    if let Some(user) = user {
        let n = next(Param::Text(user.to_string()), &mut params);
        conditions.push(format!("(a.actor_id = {n} OR a.subject_id = {n})"));
    }
    if let Some(action) = &search.action {
        let n = next(Param::Text(action.clone()), &mut params);
        conditions.push(format!("a.action = {n}"));
    }
    if let Some(from) = search.from {
        let n = next(Param::Int(from.start_ms()), &mut params);
        conditions.push(format!("a.at >= {n}"));
    }
    if let Some(to) = search.to {
        // The whole of the last day, UTC.
        let n = next(Param::Int(to.start_ms() + 86_400_000), &mut params);
        conditions.push(format!("a.at < {n}"));
    }
    if let Some(before) = search.before {
        let n = next(Param::Int(before), &mut params);
        conditions.push(format!("a.seq < {n}"));
    }
    let limit = next(Param::Int(AUDIT_PAGE_SIZE + 1), &mut params);
    let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
    let sql = format!(
        "SELECT a.seq, a.at, a.action, ua.login AS actor_login, a.actor_id, us.login AS subject_login, a.subject_id, \
         a.record_type, a.record_id, a.client_addr, a.detail \
         FROM audit_log a LEFT JOIN users ua ON ua.id = a.actor_id LEFT JOIN users us ON us.id = a.subject_id \
         {filter} ORDER BY a.seq DESC LIMIT {limit}"
    );
    let mut query = sqlx::query_as::<_, AuditEntryRow>(&sql);
    for p in params {
        query = match p {
            Param::Text(s) => query.bind(s),
            Param::Int(i) => query.bind(i),
        };
    }
    let rows = query.fetch_all(&db.pool).await?;
    let mut entries: Vec<AuditEntryView> = rows
        .into_iter()
        .map(|r| AuditEntryView {
            seq: r.seq,
            at: r.at,
            action: r.action,
            // An id that names no account (there should be none) is still shown, as it is.
            actor: r.actor_login.or(r.actor_id),
            subject: r.subject_login.or(r.subject_id),
            record_type: r.record_type,
            record_id: r.record_id,
            client_addr: r.client_addr,
            detail: r.detail,
        })
        .collect();
    let older = if entries.len() as i64 > AUDIT_PAGE_SIZE {
        entries.truncate(AUDIT_PAGE_SIZE as usize);
        entries.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(AuditResults { search: search.clone(), unknown_user: false, entries, older, chain: None })
}

/// Walks the whole chain (SPEC R-AUD-1: tampering is detectable).
pub async fn verify_chain(db: &Db, key: &audit::ChainKey) -> Result<ChainStatus, sqlx::Error> {
    Ok(match audit::verify(db, key).await? {
        ChainReport::Intact { entries, keyed_from } => ChainStatus::Intact { entries, keyed_from },
        ChainReport::Broken { seq, problem } => ChainStatus::Broken { seq, problem: problem.to_string() },
    })
}

/// Records that a member of staff looked: who, at whose trail (when the search named an
/// account), from where.
pub async fn record_look(
    db: &Db,
    action: AuditAction,
    viewer: &UserId,
    subject: Option<&UserId>,
    detail: Option<&str>,
    client_addr: Option<IpAddr>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    audit::record(&mut tx, AuditEvent { actor: Some(viewer), subject, client_addr, detail, ..AuditEvent::of(action) }, now).await?;
    tx.commit().await
}
