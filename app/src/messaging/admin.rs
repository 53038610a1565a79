//! Care teams, pools, out-of-office periods and the holiday list: what the setup pages show
//! (the types, in both builds) and, on the server, the database. Every change is audited in
//! the same transaction.

use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {
    super::{AbsenceId, PoolId, Recipient},
    crate::audit::{self, AuditAction, AuditEvent},
    crate::patients::PatientId,
    crate::platform::db::{Db, Tx},
    crate::platform::tokens,
    crate::types::UserId,
    std::net::IpAddr,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pool {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Clinical work (a nurse line), not billing or front-desk work.
    pub clinical: bool,
    pub members: Vec<Person>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Absence {
    pub id: String,
    pub provider: String,
    pub starts_text: String,
    pub ends_text: String,
    pub cover: String,
    pub note: String,
    pub current: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Holiday {
    /// YYYY-MM-DD
    pub day: String,
    /// "Friday"
    pub weekday: String,
    pub name: String,
}

#[cfg(feature = "ssr")]
async fn audit_change(
    tx: &mut Tx,
    action: AuditAction,
    actor: &UserId,
    record_type: &str,
    record_id: &str,
    detail: &'static str,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut e = AuditEvent::of(action);
    e.actor = Some(actor);
    e.record_type = Some(record_type);
    e.record_id = Some(record_id);
    e.detail = Some(detail);
    e.client_addr = addr;
    audit::record(tx, e, now).await
}

#[cfg(feature = "ssr")]
/// Staff users of the given roles, by name.
pub async fn staff_with_roles(db: &Db, roles: &[&str]) -> Result<Vec<Person>, sqlx::Error> {
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT id, display_name, staff_role FROM users WHERE kind = 'staff' AND access = 'active' ORDER BY display_name")
            .fetch_all(&db.pool)
            .await?;
    Ok(rows.into_iter().filter(|(_, _, role)| role.as_deref().is_some_and(|role| roles.contains(&role))).map(|(id, name, _)| Person { id, name }).collect())
}

#[cfg(feature = "ssr")]
pub async fn pools(db: &Db) -> Result<Vec<Pool>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct PoolRow {
        id: String,
        name: String,
        description: String,
        /// `yes` or `no`.
        clinical: String,
    }
    #[derive(sqlx::FromRow)]
    struct MemberRow {
        pool_id: String,
        id: String,
        display_name: String,
    }
    let rows: Vec<PoolRow> = sqlx::query_as("SELECT id, name, description, clinical FROM care_pools ORDER BY name").fetch_all(&db.pool).await?;
    let members: Vec<MemberRow> =
        sqlx::query_as("SELECT m.pool_id, u.id, u.display_name FROM pool_members m JOIN users u ON u.id = m.user_id ORDER BY u.display_name")
            .fetch_all(&db.pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|r| Pool {
            members: members.iter().filter(|m| m.pool_id == r.id).map(|m| Person { id: m.id.clone(), name: m.display_name.clone() }).collect(),
            id: r.id,
            name: r.name,
            description: r.description,
            clinical: r.clinical == "yes",
        })
        .collect())
}

#[cfg(feature = "ssr")]
/// Creates a pool, clinical or not (see [`set_pool_clinical`]); false when the name is taken.
pub async fn create_pool(db: &Db, actor: &UserId, name: &str, description: &str, clinical: bool, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let taken = sqlx::query("SELECT id FROM care_pools WHERE lower(name) = lower($1)").bind(name).fetch_optional(&mut *tx).await?;
    if taken.is_some() {
        return Ok(false);
    }
    let id = tokens::new_id();
    sqlx::query("INSERT INTO care_pools (id, name, description, clinical, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&id)
        .bind(name)
        .bind(description)
        .bind(if clinical { "yes" } else { "no" })
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit_change(&mut tx, AuditAction::PoolChanged, actor, "pool", &id, if clinical { "clinical pool created" } else { "pool created" }, addr, now).await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(feature = "ssr")]
/// Says whether a pool does clinical work. Clinicians who work a clinical pool on a patient's
/// care team read the patient's clinical conversations, and a conversation addressed, routed or
/// forwarded to a clinical pool is clinical (`server::staff_reads_thread_sql`). False when
/// nothing changed.
pub async fn set_pool_clinical(db: &Db, actor: &UserId, pool: &PoolId, clinical: bool, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let value = if clinical { "yes" } else { "no" };
    let changed = sqlx::query("UPDATE care_pools SET clinical = $1 WHERE id = $2 AND clinical <> $1")
        .bind(value)
        .bind(pool.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if changed {
        audit_change(&mut tx, AuditAction::PoolChanged, actor, "pool", pool.as_str(), if clinical { "made clinical" } else { "made non-clinical" }, addr, now)
            .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

#[cfg(feature = "ssr")]
/// Adds or removes a member (a staff user who works inboxes); false when nothing changed.
pub async fn set_pool_member(db: &Db, actor: &UserId, pool: &PoolId, user: &str, member: bool, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let changed = if member {
        let eligible = sqlx::query("SELECT id FROM users WHERE id = $1 AND kind = 'staff' AND staff_role IN ('clinician', 'front-desk', 'billing')")
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        let exists = sqlx::query("SELECT id FROM care_pools WHERE id = $1").bind(pool.as_str()).fetch_optional(&mut *tx).await?.is_some();
        let already = sqlx::query("SELECT 1 AS x FROM pool_members WHERE pool_id = $1 AND user_id = $2")
            .bind(pool.as_str())
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !eligible || !exists || already {
            return Ok(false);
        }
        sqlx::query("INSERT INTO pool_members (pool_id, user_id) VALUES ($1, $2)").bind(pool.as_str()).bind(user).execute(&mut *tx).await?;
        true
    } else {
        sqlx::query("DELETE FROM pool_members WHERE pool_id = $1 AND user_id = $2").bind(pool.as_str()).bind(user).execute(&mut *tx).await?.rows_affected() == 1
    };
    if changed {
        audit_change(&mut tx, AuditAction::PoolChanged, actor, "pool", pool.as_str(), if member { "member added" } else { "member removed" }, addr, now)
            .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

#[cfg(feature = "ssr")]
/// A patient's care team, providers first.
pub async fn care_team(db: &Db, patient: &PatientId) -> Result<Vec<(Recipient, String)>, sqlx::Error> {
    Ok(super::server::recipients(db, patient).await?.into_iter().map(|o| (o.recipient, o.name)).collect())
}

#[cfg(feature = "ssr")]
/// Adds someone (a clinician or a pool) to a patient's care team, or removes them.
pub async fn set_care_team(
    db: &Db,
    actor: &UserId,
    patient: &PatientId,
    who: &Recipient,
    on: bool,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    if sqlx::query("SELECT id FROM patients WHERE id = $1").bind(patient.as_str()).fetch_optional(&mut *tx).await?.is_none() {
        return Ok(false);
    }
    let (provider, pool) = match who {
        Recipient::Provider(id) => (Some(id.as_str()), None),
        Recipient::Pool(id) => (None, Some(id.as_str())),
    };
    let present = sqlx::query("SELECT 1 AS x FROM care_team WHERE patient_id = $1 AND (provider_id = $2 OR pool_id = $3)")
        .bind(patient.as_str())
        .bind(provider)
        .bind(pool)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
    let changed = match (on, present) {
        (true, false) => {
            let valid = match who {
                Recipient::Provider(id) => {
                    sqlx::query("SELECT id FROM users WHERE id = $1 AND staff_role = 'clinician'").bind(id).fetch_optional(&mut *tx).await?.is_some()
                }
                Recipient::Pool(id) => sqlx::query("SELECT id FROM care_pools WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?.is_some(),
            };
            if !valid {
                return Ok(false);
            }
            sqlx::query("INSERT INTO care_team (patient_id, provider_id, pool_id, added_at, added_by) VALUES ($1, $2, $3, $4, $5)")
                .bind(patient.as_str())
                .bind(provider)
                .bind(pool)
                .bind(now)
                .bind(actor.as_str())
                .execute(&mut *tx)
                .await?;
            true
        }
        (false, true) => {
            sqlx::query("DELETE FROM care_team WHERE patient_id = $1 AND (provider_id = $2 OR pool_id = $3)")
                .bind(patient.as_str())
                .bind(provider)
                .bind(pool)
                .execute(&mut *tx)
                .await?;
            true
        }
        _ => false,
    };
    if changed {
        audit_change(
            &mut tx,
            AuditAction::CareTeamChanged,
            actor,
            "patient",
            patient.as_str(),
            if on { "added to care team" } else { "removed from care team" },
            addr,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(changed)
}

#[cfg(feature = "ssr")]
/// Out-of-office periods that have not ended, soonest first; of one provider or of all.
pub async fn absences(db: &Db, zone: &jiff::tz::TimeZone, provider: Option<&UserId>, now: i64) -> Result<Vec<Absence>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct AbsenceRow {
        id: String,
        provider_id: String,
        starts_at: i64,
        ends_at: i64,
        note: String,
        provider: String,
        cover: Option<String>,
    }
    let rows: Vec<AbsenceRow> = sqlx::query_as(
        "SELECT a.id, a.provider_id, a.starts_at, a.ends_at, a.note, u.display_name AS provider, COALESCE(cu.display_name, cp.name) AS cover \
         FROM absences a JOIN users u ON u.id = a.provider_id LEFT JOIN users cu ON cu.id = a.cover_provider_id \
           LEFT JOIN care_pools cp ON cp.id = a.cover_pool_id \
         WHERE a.cancelled_at IS NULL AND a.ends_at > $1 ORDER BY a.starts_at",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|r| provider.is_none_or(|p| r.provider_id == p.as_str()))
        .map(|r| Absence {
            id: r.id,
            provider: r.provider,
            starts_text: super::server::local_text(zone, r.starts_at),
            ends_text: super::server::local_text(zone, r.ends_at),
            cover: r.cover.unwrap_or_default(),
            note: r.note,
            current: r.starts_at <= now,
        })
        .collect())
}

#[cfg(feature = "ssr")]
/// Why a period could not be scheduled.
#[derive(Debug, thiserror::Error)]
pub enum AbsenceError {
    #[error("dates")]
    Dates,
    #[error("cover")]
    Cover,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Schedules a provider's out-of-office period with its cover.
#[allow(clippy::too_many_arguments)]
#[cfg(feature = "ssr")]
pub async fn schedule_absence(
    db: &Db,
    actor: &UserId,
    provider: Option<&UserId>,
    starts_at: i64,
    ends_at: i64,
    cover: &Recipient,
    note: &str,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<AbsenceId, AbsenceError> {
    if ends_at <= starts_at || ends_at <= now {
        return Err(AbsenceError::Dates);
    }
    // A provider id that does not parse names no clinician: the same answer as an unknown one.
    let Some(provider) = provider else { return Err(AbsenceError::Cover) };
    let mut tx = db.begin_write().await?;
    let is_clinician =
        sqlx::query("SELECT id FROM users WHERE id = $1 AND staff_role = 'clinician'").bind(provider.as_str()).fetch_optional(&mut *tx).await?.is_some();
    if !is_clinician {
        return Err(AbsenceError::Cover);
    }
    let (cover_provider, cover_pool) = match cover {
        Recipient::Provider(id) if *id != provider.as_str() => {
            let ok = sqlx::query("SELECT id FROM users WHERE id = $1 AND staff_role = 'clinician' AND access = 'active'")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if !ok {
                return Err(AbsenceError::Cover);
            }
            (Some(id.as_str()), None)
        }
        Recipient::Pool(id) => {
            if sqlx::query("SELECT id FROM care_pools WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?.is_none() {
                return Err(AbsenceError::Cover);
            }
            (None, Some(id.as_str()))
        }
        Recipient::Provider(_) => return Err(AbsenceError::Cover),
    };
    let id = AbsenceId::new_random();
    sqlx::query(
        "INSERT INTO absences (id, provider_id, starts_at, ends_at, cover_provider_id, cover_pool_id, note, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.as_str())
    .bind(provider.as_str())
    .bind(starts_at)
    .bind(ends_at)
    .bind(cover_provider)
    .bind(cover_pool)
    .bind(note)
    .bind(now)
    .bind(actor.as_str())
    .execute(&mut *tx)
    .await?;
    audit_change(&mut tx, AuditAction::AbsenceScheduled, actor, "absence", id.as_str(), "scheduled", addr, now).await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(feature = "ssr")]
/// Cancels a period (of `only_of`'s when given: a clinician cancels only their own).
pub async fn cancel_absence(db: &Db, actor: &UserId, id: &AbsenceId, only_of: Option<&UserId>, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query("UPDATE absences SET cancelled_at = $1 WHERE id = $2 AND cancelled_at IS NULL AND ($3 = '' OR provider_id = $3)")
        .bind(now)
        .bind(id.as_str())
        .bind(only_of.map(|u| u.as_str()).unwrap_or(""))
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if done {
        audit_change(&mut tx, AuditAction::AbsenceCancelled, actor, "absence", id.as_str(), "cancelled", addr, now).await?;
    }
    tx.commit().await?;
    Ok(done)
}

#[cfg(feature = "ssr")]
/// The holidays from `from` (YYYY-MM-DD) on, by date.
pub async fn holidays(db: &Db, from: &str) -> Result<Vec<Holiday>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT day, name FROM holidays WHERE day >= $1 ORDER BY day").bind(from).fetch_all(&db.pool).await?;
    Ok(rows
        .into_iter()
        .map(|(day, name)| {
            let weekday = day.parse::<jiff::civil::Date>().map(|d| d.strftime("%A").to_string()).unwrap_or_default();
            Holiday { day, weekday, name }
        })
        .collect())
}

#[cfg(feature = "ssr")]
pub async fn set_holiday(db: &Db, actor: &UserId, day: &str, name: Option<&str>, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let changed = match name {
        Some(name) => {
            if sqlx::query("SELECT day FROM holidays WHERE day = $1").bind(day).fetch_optional(&mut *tx).await?.is_some() {
                false
            } else {
                sqlx::query("INSERT INTO holidays (day, name, added_at, added_by) VALUES ($1, $2, $3, $4)")
                    .bind(day)
                    .bind(name)
                    .bind(now)
                    .bind(actor.as_str())
                    .execute(&mut *tx)
                    .await?;
                true
            }
        }
        None => sqlx::query("DELETE FROM holidays WHERE day = $1").bind(day).execute(&mut *tx).await?.rows_affected() == 1,
    };
    if changed {
        audit_change(&mut tx, AuditAction::HolidaysChanged, actor, "holiday", day, if name.is_some() { "added" } else { "removed" }, addr, now).await?;
    }
    tx.commit().await?;
    Ok(changed)
}
