//! The `users` table's common reads: one account per row, patient or staff. Every feature asks
//! these same questions (whose account is this patient's, what is this user's address), so they
//! are written once here. Writes stay with the feature that makes them (enrolment creates
//! accounts, `patients` ends and restores access, `recovery` changes the address): each is a
//! step of that feature's own transaction.
//!
//! Each function takes any executor (`&db.pool`, `&mut *tx`, `&mut **tx`, `&mut *conn`), so it
//! reads inside the caller's transaction when there is one.

use crate::ids::PatientId;
use crate::types::UserId;
use sqlx::{Any, Executor};

/// Who a user is, as sign-in and the session see it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: UserId,
    pub login: String,
    /// `patient` or `staff`.
    pub kind: String,
    /// The staff role's stored value (`StaffRole::as_str`); none for patients.
    pub staff_role: Option<String>,
    /// `active` or `terminated`.
    pub access: String,
    pub email: Option<String>,
}

/// The account with this id, if any.
pub async fn by_id<'e>(db: impl Executor<'e, Database = Any>, user: &UserId) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, login, kind, staff_role, access, email FROM users WHERE id = $1").bind(user.as_str()).fetch_optional(db).await
}

/// The id of the account signed in as `login` (already normalised by the caller).
pub async fn id_by_login<'e>(db: impl Executor<'e, Database = Any>, login: &str) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM users WHERE login = $1").bind(login).fetch_optional(db).await
}

/// Whether some account already has this login.
pub async fn login_taken<'e>(db: impl Executor<'e, Database = Any>, login: &str) -> Result<bool, sqlx::Error> {
    Ok(id_by_login(db, login).await?.is_some())
}

/// The patient's account, whatever its access (a patient has at most one).
pub async fn for_patient<'e>(db: impl Executor<'e, Database = Any>, patient: &PatientId) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM users WHERE patient_id = $1").bind(patient.as_str()).fetch_optional(db).await
}

/// The patient record of a patient account; none for staff.
pub async fn patient_of<'e>(db: impl Executor<'e, Database = Any>, user: &UserId) -> Result<Option<PatientId>, sqlx::Error> {
    let patient: Option<Option<PatientId>> =
        sqlx::query_scalar("SELECT patient_id FROM users WHERE id = $1 AND kind = 'patient'").bind(user.as_str()).fetch_optional(db).await?;
    Ok(patient.flatten())
}

/// The user's login. The account must exist.
pub async fn login<'e>(db: impl Executor<'e, Database = Any>, user: &UserId) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT login FROM users WHERE id = $1").bind(user.as_str()).fetch_one(db).await
}

/// The user's e-mail address, if they gave one. The account must exist.
pub async fn email<'e>(db: impl Executor<'e, Database = Any>, user: &UserId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT email FROM users WHERE id = $1").bind(user.as_str()).fetch_one(db).await
}

/// The name the portal shows for the user. The account must exist.
pub async fn display_name<'e>(db: impl Executor<'e, Database = Any>, user: &UserId) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT display_name FROM users WHERE id = $1").bind(user.as_str()).fetch_one(db).await
}

/// The user's password hash, if they have a password. The account must exist.
pub async fn password_hash<'e>(db: impl Executor<'e, Database = Any>, user: &UserId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(user.as_str()).fetch_one(db).await
}
