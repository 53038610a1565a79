//! Enrolment from the request to the first page (SPEC R-ENR-1 … R-ENR-3, R-BIL-1): the request
//! form, the front desk's decision, the activation code, the user ID and password, the terms and
//! paperless billing. The helpers here are shared by the other account-life tests.

use crate::on_both_databases;
use crate::support::smtp::ReceivedMail;
use crate::support::{Backend, Client, Reply, TestPortal, DEMO_PASSWORD};
use sqlx::Row;
use std::time::Duration;

/// A password that passes every rule (long, uncommon, nothing personal).
pub const STRONG_PASSWORD: &str = "violet harbour lantern 42 quietly";

/// Someone who asks for access.
#[derive(Clone, Copy)]
pub struct Person {
    pub given: &'static str,
    pub family: &'static str,
    pub dob: &'static str,
    pub email: &'static str,
}

/// A stranger to the clinic: no record, no account.
pub const FIONA: Person = Person { given: "Fiona", family: "Quintero", dob: "1990-04-05", email: "fiona.q@mailbox.test" };
/// The demo clinic's record without an account (MRN100004).
pub const DORA: Person = Person { given: "Dora", family: "Martinez", dob: "1952-06-18", email: "dora.martinez@example.org" };
/// The demo patient with an account.
pub const ALICE: Person = Person { given: "Alice", family: "Johnson", dob: "1948-03-12", email: "alice.johnson@example.org" };

/// The id of the terms version in force (the newest).
pub async fn terms_in_force(portal: &TestPortal) -> String {
    sqlx::query_scalar("SELECT id FROM terms_versions ORDER BY version DESC LIMIT 1").fetch_one(&portal.state.db.pool).await.unwrap()
}

pub async fn audit_actions(portal: &TestPortal) -> Vec<String> {
    sqlx::query_scalar("SELECT action FROM audit_log ORDER BY seq").fetch_all(&portal.state.db.pool).await.unwrap()
}

pub async fn user_id_of(portal: &TestPortal, login: &str) -> String {
    sqlx::query_scalar("SELECT id FROM users WHERE login = $1").bind(login).fetch_one(&portal.state.db.pool).await.unwrap()
}

pub async fn patient_by_mrn(portal: &TestPortal, mrn: &str) -> String {
    sqlx::query_scalar("SELECT id FROM patients WHERE mrn = $1").bind(mrn).fetch_one(&portal.state.db.pool).await.unwrap()
}

/// A member of staff, signed in to the staff portal.
pub async fn staff(portal: &TestPortal, login: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, "staff").await;
    assert_eq!(r.location(), Some("/staff"), "{login} signs in");
    c
}

/// A patient, signed in, with nothing pending.
pub async fn patient(portal: &TestPortal, login: &str, password: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, password, "patient").await;
    assert_eq!(r.location(), Some("/home"), "{login} signs in");
    c
}

pub async fn request_access(c: &Client, p: &Person, terms_id: &str) -> Reply {
    c.post_form(
        "/api/enrolment/request",
        &[
            ("given_name", p.given),
            ("family_name", p.family),
            ("date_of_birth", p.dob),
            ("email", p.email),
            ("phone", ""),
            ("mrn", ""),
            ("terms_id", terms_id),
            ("agree", "yes"),
        ],
    )
    .await
}

/// The newest request filed with `email`.
pub async fn request_id(portal: &TestPortal, email: &str) -> String {
    sqlx::query_scalar("SELECT id FROM enrolment_requests WHERE email = $1 ORDER BY submitted_at DESC LIMIT 1")
        .bind(email)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap()
}

pub async fn approve(staff: &Client, request_id: &str, link_to: &str, email_code: bool) -> Reply {
    let mut form = vec![("request_id", request_id), ("link_to", link_to)];
    if email_code {
        form.push(("email_code", "yes"));
    }
    staff.post_form("/api/enrolment/approve", &form).await
}

/// Issues a new code for a record from its staff page (handed over, not e-mailed) and reads it
/// from the page that shows it once.
pub async fn issue_code(staff: &Client, patient_id: &str) -> String {
    let r = staff.post_form("/api/patients/issue-code", &[("patient_id", patient_id)]).await;
    assert_eq!(r.status, 302, "{}", r.body);
    let to = r.location().unwrap().to_string();
    assert_eq!(to, format!("/staff/patients/{patient_id}/code"));
    shown_code(staff, &to).await
}

/// The code on the page that shows it once.
pub async fn shown_code(staff: &Client, path: &str) -> String {
    let page = staff.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let at = page.body.find("class=\"activation-code\"").unwrap_or_else(|| panic!("no code on the page: {}", page.body));
    find_code(&page.body[at..]).expect("a code in the activation-code element")
}

/// The first `XXXXX-XXXXX-XXXXX` of the code alphabet in `text`.
pub fn find_code(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let ok = |c: u8| app::enrolment::code::ALPHABET.contains(&c);
    (0..b.len().saturating_sub(16)).find_map(|i| {
        let w = &b[i..i + 17];
        let shape = w.iter().enumerate().all(|(j, &c)| if j == 5 || j == 11 { c == b'-' } else { ok(c) });
        let bounded = (i == 0 || !b[i - 1].is_ascii_alphanumeric()) && (i + 17 == b.len() || !b[i + 17].is_ascii_alphanumeric());
        (shape && bounded).then(|| String::from_utf8(w.to_vec()).unwrap())
    })
}

/// The mail delivered to `to` whose text contains `marker`, waiting up to `secs`.
pub async fn mail_to(portal: &TestPortal, to: &str, marker: &str, secs: u64) -> ReceivedMail {
    for _ in 0..secs * 20 {
        if let Some(m) = portal.smtp.received().into_iter().find(|m| m.to.iter().any(|t| t.contains(to)) && m.text().contains(marker)) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got: Vec<String> = portal.smtp.received().iter().map(|m| format!("{:?}: {}", m.to, m.text())).collect();
    panic!("no mail to {to} with {marker:?} within {secs}s; got {got:#?}")
}

/// The value of `?token=` in a mail.
pub fn token_in(mail: &ReceivedMail) -> String {
    let text = mail.text();
    let at = text.find("?token=").unwrap_or_else(|| panic!("no link in {text}")) + 7;
    text[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '%')).collect()
}

/// The message's body: what follows the headers.
pub fn body_of(mail: &ReceivedMail) -> String {
    let text = mail.text();
    let at = text.find("\r\n\r\n").map(|i| i + 4).or_else(|| text.find("\n\n").map(|i| i + 2)).unwrap_or(0);
    text[at..].to_string()
}

/// Says that no mail carries the patient's personal details: not in the subject or any other
/// header, not in the body (the `To:` header, which is the address itself, aside).
pub fn assert_nothing_personal(mails: &[ReceivedMail], personal: &[&str], address: &str) {
    assert!(!mails.is_empty());
    for m in mails {
        let text = m.text();
        let without_recipient: String = text.split_inclusive('\n').filter(|l| !l.to_ascii_lowercase().starts_with("to:")).collect();
        for p in personal {
            assert!(!without_recipient.to_lowercase().contains(&p.to_lowercase()), "a mail contains {p:?}: {text}");
        }
        assert!(!body_of(m).to_lowercase().contains(&address.to_lowercase()), "a mail's body contains the address: {text}");
    }
}

pub async fn verify(c: &Client, code: &str, dob: &str) -> Reply {
    c.post_form("/api/activation/verify", &[("code", code), ("date_of_birth", dob)]).await
}

/// Sends the "choose your user ID and password" form as a browser would: with the version of
/// the terms the page showed, if it showed any.
pub async fn complete(c: &Client, user_id: &str, password: &str, email: &str, agree: bool) -> Reply {
    let page = c.get("/activate/account").await;
    let terms_id = page.body.split("name=\"terms_id\" value=\"").nth(1).and_then(|rest| rest.split('"').next()).map(str::to_owned);
    let mut form = vec![("user_id", user_id), ("password", password), ("password_again", password), ("email", email)];
    if agree {
        form.push(("agree", "yes"));
    }
    if let Some(t) = terms_id.as_deref() {
        form.push(("terms_id", t));
    }
    c.post_form("/api/activation/complete", &form).await
}

/// Someone new asks for access, the front desk approves (a new record, code e-mailed) and the
/// person activates their account as `login`. Returns their signed-in client and record id.
pub async fn enrol(portal: &TestPortal, p: &Person, login: &str) -> (Client, String) {
    let terms = terms_in_force(portal).await;
    let anon = portal.client();
    assert_eq!(request_access(&anon, p, &terms).await.location(), Some("/enrol/sent"));
    let desk = staff(portal, "frontdesk").await;
    let request = request_id(portal, p.email).await;
    let r = approve(&desk, &request, "new", true).await;
    assert_eq!(r.status, 302, "{}", r.body);
    let patient_id: String =
        sqlx::query_scalar("SELECT patient_id FROM enrolment_requests WHERE id = $1").bind(&request).fetch_one(&portal.state.db.pool).await.unwrap();
    let mail = mail_to(portal, p.email, "activation code", 15).await;
    let code = find_code(&mail.text()).expect("the code in the mail");
    assert_eq!(verify(&anon, &code, p.dob).await.location(), Some("/activate/account"));
    let done = complete(&anon, login, STRONG_PASSWORD, p.email, false).await;
    assert_eq!(done.location(), Some("/home?welcome=1"), "{}", done.body);
    (anon, patient_id)
}

/// Waits until the outbox has sent everything it holds (up to 15 s), so that a test can say what
/// never arrived.
pub async fn outbox_drained(portal: &TestPortal) {
    for _ in 0..300 {
        let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetch_one(&portal.state.db.pool).await.unwrap();
        if waiting == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox did not empty within 15 s");
}

/// The mail the SMTP sink received for `to` (any notice).
pub fn mails_to(portal: &TestPortal, to: &str) -> Vec<ReceivedMail> {
    portal.smtp.received().into_iter().filter(|m| m.to.iter().any(|t| t.to_lowercase().contains(&to.to_lowercase()))).collect()
}

/// The approval form (on a request's page) that links `link_to` (a record's id, or `new`).
pub fn approval_form<'a>(page: &'a str, link_to: &str) -> &'a str {
    let marker = format!("name=\"link_to\" value=\"{link_to}\"");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no approval form for {link_to}: {page}"));
    let start = page[..at].rfind("<form").expect("the form's start");
    let end = at + page[at..].find("</form>").expect("the form's end");
    &page[start..end]
}

// ---- Tests ---------------------------------------------------------------------------------

async fn a_stranger_asks_is_approved_and_activates_an_account(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let person = portal.client();

    // The request form carries the version of the terms in force.
    let form = person.get("/enrol").await;
    assert_eq!(form.status, 200);
    let terms = terms_in_force(&portal).await;
    assert!(form.body.contains(&format!("name=\"terms_id\" value=\"{terms}\"")), "{}", form.body);
    let sent = request_access(&person, &FIONA, &terms).await;
    assert_eq!(sent.status, 302);
    assert_eq!(sent.location(), Some("/enrol/sent"));
    let request = request_id(&portal, FIONA.email).await;

    // The front desk sees it in the queue, and approves it as a new record, e-mailing the code.
    let desk = staff(&portal, "frontdesk").await;
    let queue = desk.get("/staff/enrolment").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("Fiona Quintero"), "{}", queue.body);
    let approved = approve(&desk, &request, "new", true).await;
    assert_eq!(approved.status, 302, "{}", approved.body);
    let (state, patient_id): (String, String) =
        sqlx::query_as("SELECT state, patient_id FROM enrolment_requests WHERE id = $1").bind(&request).fetch_one(pool).await.unwrap();
    assert_eq!(state, "approved");
    assert_eq!(approved.location(), Some(format!("/staff/patients/{patient_id}/code?emailed=1").as_str()));
    let shown = shown_code(&desk, approved.location().unwrap()).await;
    // Shown once: the page does not show it again.
    let again = desk.get(approved.location().unwrap()).await;
    assert!(find_code(&again.body).is_none(), "the code is shown only once");

    let mail = mail_to(&portal, FIONA.email, "activation code", 15).await;
    assert_eq!(mail.to, vec![format!("<{}>", FIONA.email)], "one recipient");
    let code = find_code(&mail.text()).expect("the code in the mail");
    assert_eq!(code, shown, "the e-mailed code is the one shown to staff");
    assert!(mail.text().contains(&format!("{}/activate", portal.base)));

    // The patient enters code and birth date, then chooses a user ID and password.
    let matched = verify(&person, &code.to_lowercase().replace('-', " "), FIONA.dob).await;
    assert_eq!(matched.status, 302);
    assert_eq!(matched.location(), Some("/activate/account"));
    assert!(person.jar_cookie("portal_activation").is_some(), "the activation cookie is set");
    let page = person.get("/activate/account").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Welcome, Fiona"), "{}", page.body);
    assert!(page.body.contains("Paperless billing"), "the patient is told about paperless billing");
    assert!(page.body.contains(FIONA.email), "the address on the record, to confirm");

    let done = complete(&person, "HarbourFox", STRONG_PASSWORD, FIONA.email, false).await;
    assert_eq!(done.status, 302, "{}", done.body);
    assert_eq!(done.location(), Some("/home?welcome=1"));
    assert!(person.jar_cookie("portal_session").is_some(), "signed in");
    assert!(person.jar_cookie("portal_activation").is_none(), "the activation cookie is removed");
    let home = person.get("/home").await;
    assert_eq!(home.status, 200, "{:?}", home.location());

    // The account, its record, paperless billing, the terms.
    let user = user_id_of(&portal, "harbourfox").await;
    let row = sqlx::query(
        "SELECT u.kind, u.email, u.password_hash, u.patient_id, p.statement_delivery, p.given_name, p.date_of_birth \
                           FROM users u JOIN patients p ON p.id = u.patient_id WHERE u.id = $1",
    )
    .bind(&user)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("kind"), "patient");
    assert_eq!(row.get::<String, _>("patient_id"), patient_id);
    assert_eq!(row.get::<String, _>("statement_delivery"), "paperless");
    assert_eq!(row.get::<String, _>("given_name"), "Fiona");
    assert_eq!(row.get::<String, _>("date_of_birth"), FIONA.dob);
    // argon2id with at least the OWASP minimum: 19 MiB, 2 passes, 1 lane.
    let hash = row.get::<String, _>("password_hash");
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    let params: std::collections::HashMap<&str, u32> =
        hash.split('$').nth(3).unwrap().split(',').map(|kv| kv.split_once('=').map(|(k, v)| (k, v.parse().unwrap())).unwrap()).collect();
    assert!(params["m"] >= 19 * 1024 && params["t"] >= 2 && params["p"] >= 1, "{hash}");
    assert!(!hash.contains(STRONG_PASSWORD));
    let accepted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM terms_acceptances WHERE user_id = $1 AND terms_version_id = $2")
        .bind(&user)
        .bind(&terms)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(accepted, 1, "the terms agreed to in the request are recorded");
    let code_state: String = sqlx::query_scalar("SELECT state FROM activation_codes WHERE patient_id = $1").bind(&patient_id).fetch_one(pool).await.unwrap();
    assert_eq!(code_state, "used");

    let ready = mail_to(&portal, FIONA.email, "account is set up", 15).await;
    assert!(ready.text().contains("paperless billing"));

    let actions = audit_actions(&portal).await;
    for action in [
        "enrolment.requested",
        "enrolment.approved",
        "patient.created",
        "activation-code.issued",
        "account.activated",
        "terms.accepted",
        "billing.paperless-on",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action} is in the audit trail: {actions:?}");
    }
    let desk_id = user_id_of(&portal, "frontdesk").await;
    let approved_by: Option<String> = sqlx::query_scalar("SELECT actor_id FROM audit_log WHERE action = 'enrolment.approved'").fetch_one(pool).await.unwrap();
    assert_eq!(approved_by, Some(desk_id));

    // Nothing personal in any mail the patient received.
    let mrn: String = sqlx::query_scalar("SELECT mrn FROM patients WHERE id = $1").bind(&patient_id).fetch_one(pool).await.unwrap();
    let theirs: Vec<_> = portal.smtp.received().into_iter().filter(|m| m.to.iter().any(|t| t.contains(FIONA.email))).collect();
    assert_eq!(theirs.len(), 2, "the code and the account-ready notice");
    assert_nothing_personal(&theirs, &["Fiona", "Quintero", FIONA.dob, "April 5, 1990", "harbourfox", &mrn], FIONA.email);
    portal.stop().await;
}

async fn the_code_in_the_outbox_is_cleared_once_sent(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (_, patient) = enrol(&portal, &FIONA, "harbourfox").await;
    let pool = &portal.state.db.pool;
    let mut payload = Some(String::new());
    for _ in 0..300 {
        let row: (Option<i64>, Option<String>) =
            sqlx::query_as("SELECT sent_at, payload FROM outbox WHERE notice = 'activation-code'").fetch_one(pool).await.unwrap();
        payload = row.1;
        if row.0.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(payload, None, "the code does not stay in the outbox after it was sent");
    let hash: String = sqlx::query_scalar("SELECT code_hash FROM activation_codes WHERE patient_id = $1").bind(&patient).fetch_one(pool).await.unwrap();
    assert_eq!(hash.len(), 64);
    portal.stop().await;
}

async fn a_request_for_a_known_record_is_linked_to_it(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let terms = terms_in_force(&portal).await;
    let dora = portal.client();
    assert_eq!(request_access(&dora, &DORA, &terms).await.location(), Some("/enrol/sent"));
    let request = request_id(&portal, DORA.email).await;
    let record = patient_by_mrn(&portal, "MRN100004").await;

    // The request page offers Dora's record as the match.
    let desk = staff(&portal, "frontdesk").await;
    let detail = desk.call_form("/api/enrolment/detail", &[("id", &request)]).await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    let detail: serde_json::Value = serde_json::from_str(&detail.body).unwrap();
    let candidates = detail["candidates"].as_array().unwrap();
    assert!(candidates.iter().any(|c| c["id"] == record.as_str()), "{detail}");

    let r = approve(&desk, &request, &record, false).await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{record}/code").as_str()));
    let code = shown_code(&desk, r.location().unwrap()).await;
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients WHERE date_of_birth = $1").bind(DORA.dob).fetch_one(pool).await.unwrap();
    assert_eq!(records, 1, "no second record is made");

    assert_eq!(verify(&dora, &code, DORA.dob).await.location(), Some("/activate/account"));
    let done = complete(&dora, "dora.m", STRONG_PASSWORD, DORA.email, false).await;
    assert_eq!(done.location(), Some("/home?welcome=1"), "{}", done.body);
    let linked: String = sqlx::query_scalar("SELECT patient_id FROM users WHERE login = 'dora.m'").fetch_one(pool).await.unwrap();
    assert_eq!(linked, record);
    let delivery: String = sqlx::query_scalar("SELECT statement_delivery FROM patients WHERE id = $1").bind(&record).fetch_one(pool).await.unwrap();
    assert_eq!(delivery, "paperless");

    // A second request for the same person cannot make a second account.
    assert_eq!(request_access(&portal.client(), &DORA, &terms).await.location(), Some("/enrol/sent"));
    let second = request_id(&portal, DORA.email).await;
    assert_ne!(second, request);
    let refused = approve(&desk, &second, &record, false).await;
    assert_eq!(refused.location(), Some(format!("/staff/enrolment/{second}?error=has-account").as_str()));
    let still: String = sqlx::query_scalar("SELECT state FROM enrolment_requests WHERE id = $1").bind(&second).fetch_one(pool).await.unwrap();
    assert_eq!(still, "pending");
    // Nor can a code be issued for a record that has an account.
    let alice = patient_by_mrn(&portal, "MRN100001").await;
    let r = desk.post_form("/api/patients/issue-code", &[("patient_id", &alice)]).await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{alice}?error=has-account").as_str()));
    let codes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activation_codes WHERE patient_id = $1").bind(&alice).fetch_one(pool).await.unwrap();
    assert_eq!(codes, 0);
    portal.stop().await;
}

async fn a_declined_request_is_recorded_and_cannot_be_approved(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let terms = terms_in_force(&portal).await;
    request_access(&portal.client(), &FIONA, &terms).await;
    let request = request_id(&portal, FIONA.email).await;
    let desk = staff(&portal, "frontdesk").await;

    let bad = desk.post_form("/api/enrolment/decline", &[("request_id", &request), ("reason", "because"), ("note", "")]).await;
    assert_eq!(bad.location(), Some(format!("/staff/enrolment/{request}?error=reason").as_str()));
    let r = desk.post_form("/api/enrolment/decline", &[("request_id", &request), ("reason", "identity"), ("note", "No answer at the number given")]).await;
    assert_eq!(r.location(), Some("/staff/enrolment?declined=1"));
    let (state, reason, decided_by): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT state, decline_reason, decided_by FROM enrolment_requests WHERE id = $1").bind(&request).fetch_one(pool).await.unwrap();
    assert_eq!(state, "declined");
    assert!(reason.as_deref().unwrap_or_default().contains("No answer at the number given"), "{reason:?}");
    assert_eq!(decided_by, Some(user_id_of(&portal, "frontdesk").await));
    assert!(audit_actions(&portal).await.iter().any(|a| a == "enrolment.declined"));

    let late = approve(&desk, &request, "new", true).await;
    assert_eq!(late.location(), Some(format!("/staff/enrolment/{request}?error=decided").as_str()));
    let codes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM activation_codes").fetch_one(pool).await.unwrap();
    assert_eq!(codes, 0);
    let again = desk.post_form("/api/enrolment/decline", &[("request_id", &request), ("reason", "other"), ("note", "")]).await;
    assert_eq!(again.location(), Some(format!("/staff/enrolment/{request}?error=decided").as_str()));
    portal.stop().await;
}

/// R-ENR-1: the answer to a request never says whether the person is a patient, has an account,
/// or asked before.
async fn the_answer_to_a_request_reveals_nothing(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let terms = terms_in_force(&portal).await;
    let ask = |p: Person| {
        let c = portal.client();
        let terms = terms.clone();
        async move { request_access(&c, &p, &terms).await }
    };
    let has_account = ask(ALICE).await;
    let has_record = ask(DORA).await;
    let stranger = ask(FIONA).await;
    let duplicate = ask(FIONA).await;
    for (what, r) in [("a record without an account", &has_record), ("a stranger", &stranger), ("a duplicate", &duplicate)] {
        assert_eq!(r.status, has_account.status, "{what}");
        assert_eq!(r.location(), has_account.location(), "{what}");
        assert_eq!(r.body, has_account.body, "{what}");
        assert_eq!(r.header("set-cookie"), has_account.header("set-cookie"), "{what}");
    }
    assert_eq!(has_account.location(), Some("/enrol/sent"));
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM enrolment_requests WHERE email = $1").bind(FIONA.email).fetch_one(pool).await.unwrap();
    assert_eq!(stored, 1, "a duplicate of a pending request is not stored twice");
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM enrolment_requests").fetch_one(pool).await.unwrap();
    assert_eq!(total, 3);
    let mail: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(pool).await.unwrap();
    assert_eq!(mail, 0, "a request sends no mail to anyone");
    // The page the person lands on is the same too.
    let page = portal.client().get("/enrol/sent").await;
    assert_eq!(page.status, 200);

    // Bad forms come back with a short code, nothing personal in the URL.
    let c = portal.client();
    let mut form = vec![
        ("given_name", "Fiona"),
        ("family_name", "Quintero"),
        ("date_of_birth", "not a date"),
        ("email", FIONA.email),
        ("terms_id", terms.as_str()),
        ("agree", "yes"),
    ];
    assert_eq!(c.post_form("/api/enrolment/request", &form).await.location(), Some("/enrol?error=dob"));
    form[2].1 = FIONA.dob;
    form[5].1 = "no";
    assert_eq!(c.post_form("/api/enrolment/request", &form).await.location(), Some("/enrol?error=terms"));
    form[5].1 = "yes";
    form[4].1 = "an-old-version";
    assert_eq!(c.post_form("/api/enrolment/request", &form).await.location(), Some("/enrol?error=terms-changed"));
    form[4].1 = terms.as_str();
    form[3].1 = "fiona at mailbox";
    assert_eq!(c.post_form("/api/enrolment/request", &form).await.location(), Some("/enrol?error=email"));
    portal.stop().await;
}

/// The user-ID check answers only during an activation, in one shape whether taken or free.
async fn the_user_id_check_needs_an_activation_and_answers_in_one_shape(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    async fn check(c: &Client, id: &str) -> Reply {
        c.call_form("/api/activation/user-id", &[("user_id", id)]).await
    }
    let anonymous = portal.client();
    assert_eq!(check(&anonymous, "alice").await.status, 403, "no activation cookie, no answer");
    let forged = portal.client();
    forged.jar.add_cookie_str("portal_activation=made-up", &url::Url::parse(&portal.base).unwrap());
    assert_eq!(check(&forged, "alice").await.status, 403, "a made-up activation opens nothing");
    let signed_in = patient(&portal, "robert", DEMO_PASSWORD).await;
    assert_eq!(check(&signed_in, "alice").await.status, 403, "a session is not an activation");

    // Someone in the middle of an activation.
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let code = issue_code(&desk, &dora).await;
    let person = portal.client();
    assert_eq!(verify(&person, &code, DORA.dob).await.location(), Some("/activate/account"));
    let taken = check(&person, "alice").await;
    let taken_other_case = check(&person, "ALICE").await;
    let free = check(&person, "dora-m-1952").await;
    assert_eq!(taken.status, 200, "{}", taken.body);
    assert_eq!(free.status, 200, "{}", free.body);
    let taken: serde_json::Value = serde_json::from_str(&taken.body).unwrap();
    let taken_other_case: serde_json::Value = serde_json::from_str(&taken_other_case.body).unwrap();
    let free: serde_json::Value = serde_json::from_str(&free.body).unwrap();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&taken), vec!["available".to_string(), "message".to_string()]);
    assert_eq!(keys(&free), keys(&taken), "the same shape");
    assert_eq!(taken["available"], false);
    assert_eq!(taken_other_case["available"], false, "user IDs are unique without regard to case");
    assert_eq!(free["available"], true);
    assert!(taken["message"].is_string() && free["message"].is_string());

    // Counted: the check cannot list the portal's user IDs.
    let mut last = 200;
    for _ in 0..70 {
        last = check(&person, "someone-else").await.status;
        if last != 200 {
            break;
        }
    }
    assert_eq!(last, 403, "the checks of one activation are limited");
    // The activation itself still goes on.
    let done = complete(&person, "dora-m-1952", STRONG_PASSWORD, DORA.email, true).await;
    assert_eq!(done.location(), Some("/home?welcome=1"), "{}", done.body);
    portal.stop().await;
}

/// The choices are checked on the server, and a problem leaves the activation open.
async fn a_weak_password_or_taken_user_id_is_refused_and_can_be_corrected(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let code = issue_code(&desk, &dora).await;
    let c = portal.client();
    assert_eq!(verify(&c, &code, DORA.dob).await.location(), Some("/activate/account"));
    let problem = |r: &Reply| r.location().unwrap_or_default().to_string();
    assert_eq!(problem(&complete(&c, "Alice", STRONG_PASSWORD, DORA.email, true).await), "/activate/account?error=userid-taken");
    assert_eq!(problem(&complete(&c, "dora.m", "short", DORA.email, true).await), "/activate/account?error=pw-short");
    assert_eq!(problem(&complete(&c, "dora.m", "password123", DORA.email, true).await), "/activate/account?error=pw-common");
    assert_eq!(problem(&complete(&c, "dora.m", "rainy martinez afternoons", DORA.email, true).await), "/activate/account?error=pw-name");
    assert_eq!(problem(&complete(&c, "dora.m", "born on 1952-06-18 in spring", DORA.email, true).await), "/activate/account?error=pw-birthdate");
    let mismatch = c
        .post_form(
            "/api/activation/complete",
            &[("user_id", "dora.m"), ("password", STRONG_PASSWORD), ("password_again", "something else entirely"), ("email", DORA.email)],
        )
        .await;
    assert_eq!(problem(&mismatch), "/activate/account?error=pw-mismatch");
    assert_eq!(problem(&complete(&c, "dora.m", STRONG_PASSWORD, "not-an-address", true).await), "/activate/account?error=email");
    // A code handed over without a request: the terms are agreed to here.
    assert_eq!(problem(&complete(&c, "dora.m", STRONG_PASSWORD, DORA.email, false).await), "/activate/account?error=terms");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE patient_id = $1").bind(&dora).fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(users, 0);
    // A long passphrase with any characters is fine.
    let passphrase = "Ünïcode & spaces: a lighthouse keeper's 🐚 collection, catalogued by the tide — 80 chars";
    assert!(passphrase.chars().count() > 64);
    let done = complete(&c, "dora.m", passphrase, "Dora.New@Example.org", true).await;
    assert_eq!(done.location(), Some("/home?welcome=1"), "{}", done.body);
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE login = 'dora.m'").fetch_one(&portal.state.db.pool).await.unwrap();
    assert_eq!(email, "dora.new@example.org", "the address the patient confirmed");
    c.post_form("/api/sign-out", &[]).await;
    assert_eq!(c.sign_in("dora.m", passphrase, "patient").await.location(), Some("/home"));
    mail_to(&portal, "dora.new@example.org", "account is set up", 15).await;
    portal.stop().await;
}

/// Someone who knows the patient's name and birth date but is not the patient.
const IMPOSTOR_ADDRESS: &str = "not.dora@mailbox.test";

/// Issue 14, point 2: whoever knows Dora's name and birth date asks for access with an address of
/// their own. The front desk is told plainly that the addresses differ and how to hand the code
/// over instead; approved with the page's defaults, or with a forged form asking for e-mail, the
/// code never goes to the request's address; the record's address gets it only when chosen.
async fn approval_a_request_with_another_address_never_gets_the_code_by_email(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let terms = terms_in_force(&portal).await;
    let impostor = Person { email: IMPOSTOR_ADDRESS, ..DORA };
    assert_eq!(request_access(&portal.client(), &impostor, &terms).await.location(), Some("/enrol/sent"));
    let request = request_id(&portal, IMPOSTOR_ADDRESS).await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let desk = staff(&portal, "frontdesk").await;

    // The desk sees it plainly: the addresses differ, the request's must not get the code, and
    // how to hand the code over instead.
    let page = desk.get(&format!("/staff/enrolment/{request}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "The addresses differ",
        "Do not send the code to the address in the request",
        "in person, after checking the patient&#x27;s photo ID",
        "by post",
        "by phone, after checking the caller&#x27;s identity",
    ] {
        assert!(page.body.contains(text) || page.body.contains(&text.replace("&#x27;", "'")), "{text:?} is on the page: {}", page.body);
    }
    // Dora's form offers the record's address only, and not ticked.
    let form = approval_form(&page.body, &dora);
    assert!(form.contains(&format!("to the address on this record, {}", DORA.email)), "{form}");
    assert!(!form.contains(IMPOSTOR_ADDRESS), "the request's address is not offered for Dora's record: {form}");
    let checkbox = &form[form.find("name=\"email_code\"").unwrap()..];
    let checkbox = &checkbox[..checkbox.find('>').unwrap()];
    assert!(!checkbox.contains("checked"), "e-mail is off by default: {form}");

    // Approved with the page's defaults: the code is shown to the desk, e-mailed to nobody.
    let r = approve(&desk, &request, &dora, false).await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{dora}/code").as_str()), "{}", r.body);
    let handed = shown_code(&desk, r.location().unwrap()).await;

    // A forged form asks for e-mail and names the request's address: the code goes to the
    // record's address, chosen here, and nowhere else.
    assert_eq!(request_access(&portal.client(), &impostor, &terms).await.location(), Some("/enrol/sent"));
    let second = request_id(&portal, IMPOSTOR_ADDRESS).await;
    assert_ne!(second, request);
    let forged = desk
        .post_form(
            "/api/enrolment/approve",
            &[("request_id", &second), ("link_to", &dora), ("email_code", "yes"), ("email", IMPOSTOR_ADDRESS), ("email_to", IMPOSTOR_ADDRESS)],
        )
        .await;
    assert_eq!(forged.location(), Some(format!("/staff/patients/{dora}/code?emailed=1").as_str()), "{}", forged.body);
    let shown = desk.get(forged.location().unwrap()).await;
    assert!(
        shown.body.contains("e-mailed to the address on the patient&#x27;s record") || shown.body.contains("e-mailed to the address on the patient's record"),
        "{}",
        shown.body
    );
    let emailed = mail_to(&portal, DORA.email, "activation code", 15).await;
    let code = find_code(&emailed.text()).expect("the code in the mail");
    assert_ne!(code, handed, "a new code replaced the one handed over");

    outbox_drained(&portal).await;
    assert!(mails_to(&portal, IMPOSTOR_ADDRESS).is_empty(), "nothing reached the request's address");
    let to_impostor: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE LOWER(recipient) = $1").bind(IMPOSTOR_ADDRESS).fetch_one(pool).await.unwrap();
    assert_eq!(to_impostor, 0);
    let codes_mailed: Vec<String> = sqlx::query_scalar("SELECT recipient FROM outbox WHERE notice = 'activation-code'").fetch_all(pool).await.unwrap();
    assert_eq!(codes_mailed, vec![DORA.email.to_string()], "one code e-mailed, to the record's address, when chosen");
    // The record keeps its own address.
    let on_record: Option<String> = sqlx::query_scalar("SELECT email FROM patients WHERE id = $1").bind(&dora).fetch_one(pool).await.unwrap();
    assert_eq!(on_record.as_deref(), Some(DORA.email));
    let details: Vec<Option<String>> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'enrolment.approved' ORDER BY seq").fetch_all(pool).await.unwrap();
    assert!(details.iter().all(|d| d.as_deref() == Some("linked; the request's address differs from the record's")), "{details:?}");
    portal.stop().await;
}

/// Issue 14, point 2: a record created from a request takes the request's address, which is then
/// the record's: the code may be e-mailed there (and the page offers it). A request whose address
/// is the record's own is offered the e-mail too, without a warning.
async fn approval_a_new_record_from_a_request_may_use_the_request_address(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let pool = &portal.state.db.pool;
    let terms = terms_in_force(&portal).await;
    let desk = staff(&portal, "frontdesk").await;

    assert_eq!(request_access(&portal.client(), &FIONA, &terms).await.location(), Some("/enrol/sent"));
    let request = request_id(&portal, FIONA.email).await;
    let page = desk.get(&format!("/staff/enrolment/{request}")).await;
    let form = approval_form(&page.body, "new");
    assert!(form.contains(&format!("Also e-mail the activation code to {}", FIONA.email)), "{form}");
    let checkbox = &form[form.find("name=\"email_code\"").unwrap()..];
    assert!(checkbox[..checkbox.find('>').unwrap()].contains("checked"), "e-mail is the default for a new record: {form}");
    assert!(!page.body.contains("The addresses differ"));

    let r = approve(&desk, &request, "new", true).await;
    let record: String = sqlx::query_scalar("SELECT patient_id FROM enrolment_requests WHERE id = $1").bind(&request).fetch_one(pool).await.unwrap();
    assert_eq!(r.location(), Some(format!("/staff/patients/{record}/code?emailed=1").as_str()));
    let shown = shown_code(&desk, r.location().unwrap()).await;
    let mail = mail_to(&portal, FIONA.email, "activation code", 15).await;
    assert_eq!(find_code(&mail.text()), Some(shown));
    let on_record: Option<String> = sqlx::query_scalar("SELECT email FROM patients WHERE id = $1").bind(&record).fetch_one(pool).await.unwrap();
    assert_eq!(on_record.as_deref(), Some(FIONA.email), "the request's address is the new record's");

    // Dora asks with the address her record has (typed differently): no warning, e-mail offered
    // and ticked, to the record's address.
    let dora_typing = Person { email: " Dora.Martinez@Example.ORG", ..DORA };
    assert_eq!(request_access(&portal.client(), &dora_typing, &terms).await.location(), Some("/enrol/sent"));
    let request = request_id(&portal, DORA.email).await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let page = desk.get(&format!("/staff/enrolment/{request}")).await;
    assert!(!page.body.contains("The addresses differ"), "{}", page.body);
    let form = approval_form(&page.body, &dora);
    let checkbox = &form[form.find("name=\"email_code\"").unwrap()..];
    assert!(checkbox[..checkbox.find('>').unwrap()].contains("checked"), "{form}");
    let r = approve(&desk, &request, &dora, true).await;
    assert_eq!(r.location(), Some(format!("/staff/patients/{dora}/code?emailed=1").as_str()));
    mail_to(&portal, DORA.email, "activation code", 15).await;
    portal.stop().await;
}

on_both_databases!(
    a_stranger_asks_is_approved_and_activates_an_account,
    the_code_in_the_outbox_is_cleared_once_sent,
    a_request_for_a_known_record_is_linked_to_it,
    a_declined_request_is_recorded_and_cannot_be_approved,
    the_answer_to_a_request_reveals_nothing,
    the_user_id_check_needs_an_activation_and_answers_in_one_shape,
    a_weak_password_or_taken_user_id_is_refused_and_can_be_corrected,
    approval_a_request_with_another_address_never_gets_the_code_by_email,
    approval_a_new_record_from_a_request_may_use_the_request_address,
);
