//! The same form sent twice at once (a double click, parallel guesses): the limits of R-ENR-3
//! hold, and a request is decided once. On PostgreSQL the interleaving that breaks a
//! read-then-write is forced: the test holds the row the requests will write, waits until they
//! have all read it and are waiting for the lock, then lets go. (SQLite runs one writer at a time.)

use crate::enrolment::{issue_code, patient_by_mrn, request_access, request_id, staff, terms_in_force, DORA, FIONA};
use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal};
use std::time::Duration;

/// Holds a row lock (PostgreSQL only) until `release`.
pub struct RowHold(Option<sqlx::Transaction<'static, sqlx::Any>>);

impl RowHold {
    pub async fn take(portal: &TestPortal, sql: &str, id: &str) -> RowHold {
        if portal.backend != Backend::Postgres {
            return RowHold(None);
        }
        let mut tx = portal.state.db.pool.begin().await.unwrap();
        sqlx::query(sql).bind(id).execute(&mut *tx).await.unwrap();
        RowHold(Some(tx))
    }

    /// Waits until `n` of the portal's connections wait for a lock, then lets them go.
    pub async fn release_when_waiting(self, portal: &TestPortal, n: i64) {
        let Some(tx) = self.0 else { return };
        let mut waiting = 0;
        for _ in 0..400 {
            waiting = sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                .fetch_one(&portal.state.db.pool)
                .await
                .unwrap();
            if waiting >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(waiting, n, "the requests did not all reach the lock");
        tx.commit().await.unwrap();
    }

    /// Waits until each of `asks` either waits for a lock or has already been answered (refused
    /// before it reached the held row), then lets them go.
    pub async fn release_when_each_waits_or_is_answered<T>(self, portal: &TestPortal, asks: &[tokio::task::JoinHandle<T>]) {
        let Some(tx) = self.0 else { return };
        let mut seen = (0, 0);
        for _ in 0..400 {
            let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                .fetch_one(&portal.state.db.pool)
                .await
                .unwrap();
            let answered = asks.iter().filter(|a| a.is_finished()).count() as i64;
            seen = (waiting, answered);
            if waiting + answered >= asks.len() as i64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(seen.0 + seen.1, asks.len() as i64, "the requests neither all reached the lock nor were answered (waiting, answered): {seen:?}");
        tx.commit().await.unwrap();
    }
}

pub fn same_browser(c: &Client) -> Client {
    Client { http: c.http.clone(), base: c.base.clone(), jar: c.jar.clone() }
}

async fn wrong_birth_dates_sent_at_once_still_use_up_the_code(backend: Backend) {
    let portal = TestPortal::start_with(backend, |c| c.portal.accounts.activation_code_tries = 4).await;
    let pool = &portal.state.db.pool;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let code = issue_code(&desk, &dora).await;
    let hold = RowHold::take(&portal, "UPDATE activation_codes SET tries_left = tries_left WHERE patient_id = $1", &dora).await;
    let mut guesses = Vec::new();
    for wrong in ["1952-06-19", "1952-06-20", "1952-06-21", "1952-06-22"] {
        let c = portal.client();
        let code = code.clone();
        guesses.push(tokio::spawn(async move { crate::enrolment::verify(&c, &code, wrong).await.location().map(str::to_owned) }));
    }
    hold.release_when_waiting(&portal, 4).await;
    for g in guesses {
        assert_eq!(g.await.unwrap().as_deref(), Some("/activate?error=nomatch"));
    }
    let (state, tries_left): (String, i64) =
        sqlx::query_as("SELECT state, tries_left FROM activation_codes WHERE patient_id = $1").bind(&dora).fetch_one(pool).await.unwrap();
    assert_eq!((state.as_str(), tries_left), ("exhausted", 0), "four wrong birth dates use up a code of four tries, however they arrive");
    let right = crate::enrolment::verify(&portal.client(), &code, DORA.dob).await;
    assert_eq!(right.location(), Some("/activate?error=nomatch"));
    portal.stop().await;
}

async fn a_request_approved_twice_at_once_makes_one_record_and_one_code(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let terms = terms_in_force(&portal).await;
    request_access(&portal.client(), &FIONA, &terms).await;
    let request = request_id(&portal, FIONA.email).await;
    let desk = staff(&portal, "frontdesk").await;
    let hold = RowHold::take(&portal, "UPDATE enrolment_requests SET state = state WHERE id = $1", &request).await;
    let mut clicks = Vec::new();
    for _ in 0..2 {
        let c = same_browser(&desk);
        let request = request.clone();
        clicks.push(tokio::spawn(async move { crate::enrolment::approve(&c, &request, "new", true).await.location().map(str::to_owned) }));
    }
    hold.release_when_waiting(&portal, 2).await;
    let mut answers = Vec::new();
    for c in clicks {
        answers.push(c.await.unwrap().unwrap_or_default());
    }
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients WHERE date_of_birth = $1").bind(FIONA.dob).fetch_one(pool).await.unwrap();
    let codes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activation_codes").fetch_one(pool).await.unwrap();
    let approvals: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'enrolment.approved'").fetch_one(pool).await.unwrap();
    assert_eq!(records, 1, "one person, one record ({answers:?})");
    assert_eq!(codes, 1, "one code ({answers:?})");
    assert_eq!(approvals, 1, "decided once ({answers:?})");
    assert_eq!(answers.iter().filter(|a| a.contains("error=decided")).count(), 1, "{answers:?}");
    portal.stop().await;
}

/// R-ENR-6 and the limits of `platform::rate`: at most three recovery mails an hour to one
/// account, so that nobody can flood a patient's inbox, even with the requests sent at once. (On
/// PostgreSQL the test holds the audit trail's head, which every request writes last.)
async fn recovery_mail_to_one_account_stays_limited_when_asked_at_once(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let hold = RowHold::take(&portal, "UPDATE audit_head SET seq = seq WHERE id = 1 AND $1 = $1", "x").await;
    let mut asks = Vec::new();
    for _ in 0..6 {
        let c = portal.client();
        asks.push(tokio::spawn(async move {
            c.post_form("/api/recovery/forgot-password", &[("user_id", "alice"), ("email", "alice.johnson@example.org")]).await.location().map(str::to_owned)
        }));
    }
    hold.release_when_waiting(&portal, 6).await;
    for a in asks {
        assert_eq!(a.await.unwrap().as_deref(), Some("/recovery/sent"));
    }
    let links: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE notice = 'password-reset'").fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(links, 3, "at most three recovery mails an hour to one account");
    portal.stop().await;
}

/// Issue 14, point 4: the answers to "is this user ID free?" during one activation (the check
/// made as the patient types, and the form itself, which says when a user ID is taken) are
/// counted, each taking its place before it is answered: a burst sent at once gets no more
/// answers than the budget (60 an hour), and entering the code again opens no new budget.
async fn user_id_answers_of_one_activation_stay_capped_when_asked_at_once(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let code = issue_code(&desk, &dora).await;
    let person = portal.client();
    assert_eq!(crate::enrolment::verify(&person, &code, DORA.dob).await.location(), Some("/activate/account"));

    // 50 checks and 30 forms at once, asking about taken and free user IDs (the forms with a
    // password too short to go further: their answer says only what it found of the user ID).
    let mut asks = Vec::new();
    for i in 0..80 {
        let c = same_browser(&person);
        asks.push(tokio::spawn(async move {
            let user_id = if i % 2 == 0 { "alice".to_string() } else { format!("free-id-{i}") };
            if i % 8 < 5 {
                let r = c.call_form("/api/activation/user-id", &[("user_id", &user_id)]).await;
                (r.status == 200, format!("check {}", r.status))
            } else {
                let r = c
                    .post_form("/api/activation/complete", &[("user_id", &user_id), ("password", "short"), ("password_again", "short"), ("email", DORA.email)])
                    .await;
                let to = r.location().unwrap_or_default().to_string();
                (to != "/activate/account?error=userid-checks", to)
            }
        }));
    }
    let mut answered = 0;
    let mut seen = Vec::new();
    for a in asks {
        let (told, what) = a.await.unwrap();
        answered += told as usize;
        seen.push(what);
    }
    assert_eq!(answered, 60, "exactly the budget was answered: {seen:?}");
    assert!(seen.iter().any(|w| w == "/activate/account?error=userid-taken") || seen.iter().any(|w| w == "check 200"));

    // Spent: neither the check nor the form says anything more about user IDs.
    assert_eq!(person.call_form("/api/activation/user-id", &[("user_id", "alice")]).await.status, 403);
    let form =
        person.post_form("/api/activation/complete", &[("user_id", "alice"), ("password", "short"), ("password_again", "short"), ("email", DORA.email)]).await;
    assert_eq!(form.location(), Some("/activate/account?error=userid-checks"));
    let free = person
        .post_form("/api/activation/complete", &[("user_id", "free-id-new"), ("password", "short"), ("password_again", "short"), ("email", DORA.email)])
        .await;
    assert_eq!(free.location(), form.location(), "a free user ID gets the same answer as a taken one");
    // Entering the code again opens a new claim, not a new budget.
    let again = portal.client();
    assert_eq!(crate::enrolment::verify(&again, &code, DORA.dob).await.location(), Some("/activate/account"));
    assert_eq!(again.call_form("/api/activation/user-id", &[("user_id", "alice")]).await.status, 403);
    portal.stop().await;
}

on_both_databases!(
    recovery_mail_to_one_account_stays_limited_when_asked_at_once,
    wrong_birth_dates_sent_at_once_still_use_up_the_code,
    a_request_approved_twice_at_once_makes_one_record_and_one_code,
    user_id_answers_of_one_activation_stay_capped_when_asked_at_once,
);
