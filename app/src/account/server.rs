//! Creating accounts directly (the `staff add` and `demo` commands; patients enrol through
//! `crate::enrolment`).

use crate::audit::{self, AuditAction, AuditEvent};
use crate::platform::db::Db;
use crate::platform::passwords::PasswordHasher;
use crate::sign_in::server::normalise_login;
use crate::types::{AccountKind, UserId};

pub struct NewAccount {
    pub login: String,
    pub display_name: String,
    pub kind: AccountKind,
    pub email: Option<String>,
    /// The clinic's record of a patient account.
    pub patient_id: Option<crate::patients::PatientId>,
    pub password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    #[error("that user ID is taken")]
    LoginTaken,
    #[error("{0}")]
    Invalid(&'static str),
    #[error("database error")]
    Db(#[from] sqlx::Error),
}

/// Creates an account; refuses a user ID that exists already (in any letter case).
pub async fn create_account(db: &Db, hasher: &PasswordHasher, new: NewAccount, actor: Option<&UserId>, now: i64) -> Result<UserId, CreateAccountError> {
    let login = normalise_login(&new.login);
    if login.is_empty() || login.len() > 64 {
        return Err(CreateAccountError::Invalid("a user ID has 1 to 64 characters"));
    }
    if new.display_name.trim().is_empty() {
        return Err(CreateAccountError::Invalid("a name is required"));
    }
    if new.password.chars().count() < 8 {
        return Err(CreateAccountError::Invalid("a password has at least 8 characters"));
    }
    let hash = hasher.hash(new.password).await;
    let id = UserId::new_random();
    let (kind, role) = match new.kind {
        AccountKind::Patient => ("patient", None),
        AccountKind::Staff(role) => ("staff", Some(role.as_str())),
    };
    let mut tx = db.begin_write().await?;
    if crate::users::login_taken(&mut *tx, &login).await? {
        return Err(CreateAccountError::LoginTaken);
    }
    sqlx::query(
        "INSERT INTO users (id, login, display_name, kind, staff_role, email, email_confirmed_at, patient_id, password_hash, password_changed_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(id.as_str())
    .bind(&login)
    .bind(new.display_name.trim())
    .bind(kind)
    .bind(role)
    .bind(&new.email)
    // An address given by whoever runs the command (the clinic's own records) counts as
    // confirmed; a patient's own choice at activation is confirmed by a link.
    .bind(new.email.as_ref().map(|_| now))
    .bind(new.patient_id.as_ref().map(|p| p.as_str()))
    .bind(&hash)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    audit::record(&mut tx, AuditEvent { actor, subject: Some(&id), detail: Some(kind), ..AuditEvent::of(AuditAction::AccountCreated) }, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// The id of the account with this user ID, if any.
pub async fn find_by_login(db: &Db, login: &str) -> Result<Option<UserId>, sqlx::Error> {
    crate::users::id_by_login(&db.pool, &normalise_login(login)).await
}
