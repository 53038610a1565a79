//! Delivering the outbox: a worker claims due notices, renders them, and hands each to the SMTP
//! relay (or, in development, writes it to a folder). A notice that fails is retried with
//! back-off, a bounded number of times (then given up, its secret wiped, and listed on the
//! security page); one that was sent is marked so and never sent again. Each claim is renewed
//! just before its notice is sent and a send is cut off after `outbox::SEND_TIME_LIMIT`, so no
//! other app server can claim a notice while it is being sent. Each e-mail has
//! a Message-ID derived from its outbox row, so that if a crash falls between the relay's
//! acceptance and the mark, the relay and mail clients see the second copy as the same message.

use crate::config::{MailConfig, SmtpTls};
use app::outbox::{self, AfterFailure, Claimed, Failure};
use app::state::AppState;
use lettre::message::{header::ContentType, Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::time::Duration;
use tokio::sync::watch;

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Drop(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn new(config: &MailConfig) -> Result<Mailer, lettre::transport::smtp::Error> {
        match config {
            MailConfig::Drop(dir) => {
                std::fs::create_dir_all(dir).ok();
                Ok(Mailer::Drop(AsyncFileTransport::new(dir)))
            }
            MailConfig::Smtp(smtp) => {
                let builder = match smtp.tls {
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
                    SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
                };
                let mut builder = builder.port(smtp.port).timeout(Some(Duration::from_secs(20)));
                if let (Some(user), Some(pass)) = (&smtp.username, &smtp.password) {
                    builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
                }
                Ok(Mailer::Smtp(builder.build()))
            }
        }
    }

    async fn send(&self, message: Message) -> Result<(), Failure> {
        let sent = async {
            match self {
                Mailer::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| {
                    if e.is_permanent() {
                        Failure::ForGood("relay refused permanently")
                    } else if e.is_transient() {
                        Failure::ForNow("relay refused for now")
                    } else {
                        Failure::ForNow("relay unreachable")
                    }
                }),
                Mailer::Drop(t) => t.send(message).await.map(|_| ()).map_err(|_| Failure::ForNow("could not write mail file")),
            }
        };
        tokio::time::timeout(outbox::SEND_TIME_LIMIT, sent).await.unwrap_or(Err(Failure::ForNow("relay did not answer in time")))
    }
}

fn build(state: &AppState, claimed: &Claimed) -> Result<Message, Failure> {
    let notice = claimed.notice.as_ref().ok_or(Failure::ForGood("unknown or already-sent notice"))?;
    let settings = &state.settings;
    let mail = notice.render(&settings.organisation, &settings.public_url);
    // The sender is the portal's setting: fixed by the operator, the notice can go then.
    let from: Mailbox = settings.mail_from.parse().map_err(|_| Failure::ForNow("bad sender address"))?;
    let to: Mailbox = claimed.recipient.parse().map_err(|_| Failure::ForGood("bad recipient address"))?;
    let domain = settings.public_url.host_str().unwrap_or("localhost");
    Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject)
        .message_id(Some(format!("<{}@{}>", claimed.id, domain)))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body)
        .map_err(|_| Failure::ForGood("could not build message"))
}

/// Delivers what is due once; returns how many were sent.
#[tracing::instrument(skip_all)]
pub async fn deliver_due(state: &AppState, mailer: &Mailer, worker: &str) -> Result<usize, sqlx::Error> {
    let now = state.clock.now_ms();
    let claimed = outbox::claim(&state.db, worker, now, now + outbox::LEASE_MS, 20).await?;
    let mut sent = 0;
    for item in claimed {
        // The sends before this one may have used up the batch's lease: renewed now, it covers
        // this send (cut off well within it); lost, the notice is another worker's or free.
        let now = state.clock.now_ms();
        if !outbox::renew(&state.db, &item.id, worker, now, now + outbox::LEASE_MS).await? {
            continue;
        }
        let result = match build(state, &item) {
            Ok(message) => mailer.send(message).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                outbox::mark_sent(&state.db, &item.id, worker, state.clock.now_ms()).await?;
                sent += 1;
            }
            Err(failure) => match outbox::mark_failed(&state.db, &item.id, worker, item.attempts, failure, state.clock.now_ms()).await? {
                AfterFailure::Retried => {
                    tracing::warn!(outbox_id = %item.id, attempts = item.attempts, error = failure.describe(), "notice not delivered; will retry")
                }
                AfterFailure::GaveUp => tracing::error!(
                    outbox_id = %item.id,
                    attempts = item.attempts,
                    error = failure.describe(),
                    "notice not delivered and given up; listed on the security page"
                ),
            },
        }
    }
    Ok(sent)
}

/// Runs until `stop` turns true, then gives back what it had claimed: a notice it claimed but
/// did not get to (its lease would otherwise keep it for two minutes) is at once free for
/// the workers of the other app servers.
pub async fn run_worker(state: AppState, mailer: Mailer, mut stop: watch::Receiver<bool>) {
    let worker = format!("{}-{}", hostname(), app::platform::tokens::new_id());
    'work: loop {
        loop {
            // A stopping server does not wait for a slow relay: the batch is dropped where it
            // is and its notices released below. (One the relay accepted just before would be
            // sent again by another server, with the same Message-ID; see the module notes.)
            let round = tokio::select! {
                r = deliver_due(&state, &mailer, &worker) => r,
                _ = stop.wait_for(|s| *s) => break 'work,
            };
            match round {
                Ok(n) if n > 0 => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(error = %e, "outbox worker could not reach the database");
                    break;
                }
            }
        }
        tokio::select! {
            _ = state.outbox_wakeup.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    if let Err(e) = outbox::release(&state.db, &worker).await {
        tracing::error!(error = %e, "could not release claimed notices");
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "portal".into())
}
