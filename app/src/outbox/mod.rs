//! The e-mail outbox (infrastructure for SPEC R-MSG-6). A notice is written to the `outbox`
//! table in the same transaction as its cause; the server's background worker delivers it.
//! Every notice says only that something is waiting in the portal: no health information, no
//! subject line of a message, no amount, one recipient per e-mail.

use crate::platform::db::{Db, Tx};
use crate::platform::settings::Organisation;
use crate::platform::tokens;
use sqlx::Row;

/// The kinds of notice. Each renders from fixed text; none takes free text or record data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Someone signed in to the account from a browser that had not been used for it before.
    NewDeviceSignIn,
}

impl Notice {
    pub const ALL: [Notice; 1] = [Notice::NewDeviceSignIn];

    pub fn as_str(self) -> &'static str {
        match self {
            Notice::NewDeviceSignIn => "new-device-sign-in",
        }
    }

    pub fn parse(s: &str) -> Option<Notice> {
        Notice::ALL.into_iter().find(|n| n.as_str() == s)
    }

    pub fn render(self, org: &Organisation, portal_url: &url::Url) -> RenderedMail {
        let sign_in = portal_url.join("/sign-in").map(|u| u.to_string()).unwrap_or_else(|_| portal_url.to_string());
        match self {
            Notice::NewDeviceSignIn => RenderedMail {
                subject: format!("{}: new sign-in to your patient portal", org.name),
                body: format!(
                    "Hello,\n\n\
                     Your {org} patient portal account was just signed in to from a browser or device \
                     that had not been used for it before.\n\n\
                     If this was you, there is nothing to do.\n\n\
                     If it was not you, sign in at {sign_in} and change your password, or call us at {phone}.\n\n\
                     This message was sent automatically; replies are not read.\n\
                     {org}\n",
                    org = org.name,
                    phone = org.phone,
                ),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RenderedMail {
    pub subject: String,
    pub body: String,
}

/// A notice claimed for delivery.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: String,
    pub recipient: String,
    pub notice: Option<Notice>,
    pub attempts: i64,
}

pub async fn enqueue(tx: &mut Tx, recipient: &str, notice: Notice, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, recipient, notice, created_at, next_attempt_at, attempts) VALUES ($1, $2, $3, $4, $4, 0)",
    )
    .bind(tokens::new_id())
    .bind(recipient)
    .bind(notice.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Claims up to `limit` due notices for `worker` until `lease_until`. Safe with several workers
/// on several app servers: a row is claimed only while unclaimed (or its lease has run out), and
/// the condition is checked again on the row itself, so two workers never hold the same row.
pub async fn claim(db: &Db, worker: &str, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Claimed>, sqlx::Error> {
    let rows = sqlx::query(
        "UPDATE outbox SET claimed_by = $1, claimed_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $3 \
                      AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY next_attempt_at LIMIT $4) \
           AND sent_at IS NULL AND (claimed_until IS NULL OR claimed_until < $3) \
         RETURNING id, recipient, notice, attempts",
    )
    .bind(worker)
    .bind(lease_until)
    .bind(now)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                recipient: r.try_get("recipient")?,
                notice: Notice::parse(&r.try_get::<String, _>("notice")?),
                attempts: r.try_get("attempts")?,
            })
        })
        .collect()
}

pub async fn mark_sent(db: &Db, id: &str, worker: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET sent_at = $1, claimed_until = NULL, last_error = NULL WHERE id = $2 AND claimed_by = $3")
        .bind(now)
        .bind(id)
        .bind(worker)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Puts a notice back for a later try. `error` is a short description of the failure kind,
/// never the message.
pub async fn mark_failed(db: &Db, id: &str, worker: &str, next_attempt_at: i64, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET claimed_until = NULL, next_attempt_at = $1, last_error = $2 WHERE id = $3 AND claimed_by = $4",
    )
    .bind(next_attempt_at)
    .bind(error)
    .bind(id)
    .bind(worker)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Releases this worker's claims (at shutdown), so another worker can send them at once.
pub async fn release(db: &Db, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox SET claimed_until = NULL WHERE claimed_by = $1 AND sent_at IS NULL")
        .bind(worker)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The wait before the next try after `attempts` failed ones: 1, 2, 4 … minutes, at most an
/// hour. Delivery is retried until it succeeds: a notice is never dropped.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let minutes = 1i64 << attempts.clamp(1, 7).saturating_sub(1);
    minutes.min(60) * 60_000
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words and figures that would mean a notice carries health or billing information.
    const FORBIDDEN: &[&str] = &[
        "diagnos", "result", "medication", "prescription", "condition", "symptom", "appointment with",
        "balance", "amount", "$", "subject:", "dr.", "test", "lab",
    ];

    #[test]
    fn every_notice_is_free_of_health_information() {
        let org = Organisation { name: "Riverside Clinic".into(), phone: "555-0100".into() };
        let url = url::Url::parse("https://portal.example.org").unwrap();
        for notice in Notice::ALL {
            let mail = notice.render(&org, &url);
            let text = format!("{}\n{}", mail.subject, mail.body).to_lowercase();
            for word in FORBIDDEN {
                assert!(!text.contains(word), "{notice:?} contains {word:?}");
            }
            assert!(text.contains("https://portal.example.org/sign-in"), "{notice:?} links to sign-in");
            assert_eq!(Notice::parse(notice.as_str()), Some(notice));
        }
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(retry_delay_ms(1), 60_000);
        assert_eq!(retry_delay_ms(2), 120_000);
        assert_eq!(retry_delay_ms(4), 480_000);
        assert_eq!(retry_delay_ms(100), 3_600_000);
    }
}
