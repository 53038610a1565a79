//! Billing against the running server, on both databases: who may see which account and
//! statement (by any id), paperless changes recorded and audited, notice or print queue for a
//! new statement, totals carried from the previous statement, refused statements store nothing,
//! CSV imports all or nothing, the PDF as an attachment that reads back, and the audit trail.

use crate::on_both_databases;
use crate::support::{Backend, Client, Reply, TestPortal, DEMO_PASSWORD};
use sqlx::Row;

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login} signs in");
    c
}

async fn count(portal: &TestPortal, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

async fn text(portal: &TestPortal, sql: &str, bind: &str) -> String {
    sqlx::query(sql).bind(bind).fetch_one(&portal.state.db.pool).await.unwrap().try_get::<String, _>(0).unwrap()
}

/// The demo account of a patient (by user ID) and its latest statement.
async fn account_of(portal: &TestPortal, login: &str) -> (String, String) {
    let row = sqlx::query(
        "SELECT a.id, a.number FROM billing_accounts a JOIN users u ON u.patient_id = a.patient_id WHERE u.login = $1",
    )
    .bind(login)
    .fetch_one(&portal.state.db.pool)
    .await
    .unwrap();
    (row.try_get("id").unwrap(), row.try_get("number").unwrap())
}

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

/// Posts a one-line statement through the staff form.
async fn post(billing: &Client, account: &str, date: &str, from: &str, to: &str, line: (&str, &str, &str), amount_due: &str) -> Reply {
    billing
        .post_multipart(
            "/api/staff/billing/post",
            &[
                ("account", account),
                ("statement_date", date),
                ("period_start", from),
                ("period_end", to),
                ("due_date", date),
                ("line_date", from),
                ("line_kind", line.0),
                ("line_department", "Cardiology"),
                ("line_description", line.1),
                ("line_amount", line.2),
                ("amount_due", amount_due),
                ("action", "post"),
            ],
            &[],
        )
        .await
}

const STAFF_FUNCTIONS: &[(&str, &[&str])] = &[
    ("/api/staff/billing/search", &["q"]),
    ("/api/staff/billing/open", &["patient", "address"]),
    ("/api/staff/billing/account", &["id"]),
    ("/api/staff/billing/delivery", &["account", "delivery"]),
    ("/api/staff/billing/statement-form", &["account"]),
    ("/api/staff/billing/clear", &["account"]),
    ("/api/staff/billing/import-result", &[]),
    ("/api/staff/billing/print-queue", &[]),
    ("/api/staff/billing/printed", &["until"]),
];

async fn access_matrix(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (alice_account, _) = account_of(&portal, "alice").await;
    let (robert_account, _) = account_of(&portal, "robert").await;
    let alice_statements = statements_of(&portal, &alice_account).await;
    let robert_statements = statements_of(&portal, &robert_account).await;
    assert_eq!(alice_statements.len(), 2, "the demo's two statements of Alice");
    let changes_before = count(&portal, "SELECT COUNT(*) FROM delivery_changes").await;

    // Robert, by every id of Alice's, of either kind: not found, nothing changed.
    let robert = signed_in(&portal, "robert", "patient").await;
    let r = robert.call_form("/api/billing/account", &[("id", &robert_account)]).await;
    assert_eq!(r.status, 200, "his own account: {}", r.body);
    for id in alice_statements.iter().chain([&alice_account]) {
        let r = robert.call_form("/api/billing/account", &[("id", id)]).await;
        assert_eq!(r.status, 404, "account {id}: {}", r.body);
        let r = robert.call_form("/api/billing/delivery", &[("account", id), ("delivery", "paper")]).await;
        assert_eq!(r.status, 404, "delivery {id}: {}", r.body);
        let r = robert.get(&format!("/billing/statements/{id}.pdf")).await;
        assert_eq!(r.status, 404, "statement {id}");
    }
    let r = robert.get(&format!("/billing/statements/{}.pdf", robert_statements[0])).await;
    assert_eq!(r.status, 200, "his own statement");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM delivery_changes").await, changes_before);
    assert_eq!(text(&portal, "SELECT delivery FROM billing_accounts WHERE id = $1", &alice_account).await, "paperless");
    // A patient never reaches the staff side.
    for (path, fields) in STAFF_FUNCTIONS {
        let form: Vec<(&str, &str)> = fields.iter().map(|f| (*f, if *f == "until" { "0" } else { robert_account.as_str() })).collect();
        assert_eq!(robert.call_form(path, &form).await.status, 403, "{path}");
    }
    for path in [format!("/staff/billing/statements/{}.pdf", robert_statements[0]), "/staff/billing/print-queue.csv".into(), "/staff/billing/print-queue.pdf".into()] {
        let r = robert.get(&path).await;
        assert!(r.status == 303 || r.status == 403, "{path}: {}", r.status);
    }

    // Staff other than billing: refused every function and download.
    for login in ["frontdesk", "drlee", "admin", "auditor"] {
        let c = signed_in(&portal, login, "staff").await;
        for (path, fields) in STAFF_FUNCTIONS {
            let form: Vec<(&str, &str)> = fields.iter().map(|f| (*f, if *f == "until" { "0" } else { alice_account.as_str() })).collect();
            assert_eq!(c.call_form(path, &form).await.status, 403, "{login} {path}");
        }
        let r = c.post_multipart("/api/staff/billing/post", &[("account", &alice_account), ("action", "post")], &[]).await;
        assert_eq!(r.status, 403, "{login} posts");
        let r = c.post_multipart("/api/staff/billing/import", &[], &[("file", "s.csv", b"x".to_vec())]).await;
        assert_eq!(r.status, 403, "{login} imports");
        for path in [format!("/staff/billing/statements/{}.pdf", alice_statements[0]), "/staff/billing/print-queue.csv".into()] {
            assert_eq!(c.get(&path).await.status, 403, "{login} {path}");
        }
    }

    // Signed out: nothing.
    let anonymous = portal.client();
    let r = anonymous.get(&format!("/billing/statements/{}.pdf", alice_statements[0])).await;
    assert_eq!(r.status, 303, "to the sign-in page");
    assert!(r.location().unwrap_or_default().starts_with("/sign-in"), "{:?}", r.location());
    assert_ne!(anonymous.call_form("/api/billing/accounts", &[]).await.status, 200);

    // Billing staff: any statement, audited per statement and per account view.
    let billing = signed_in(&portal, "billing", "staff").await;
    let r = billing.get(&format!("/staff/billing/statements/{}.pdf", alice_statements[1])).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(r.header("content-disposition").unwrap_or_default().starts_with("attachment;"));
    assert!(r.header("cache-control").unwrap_or_default().contains("no-store"));
    assert_eq!(billing.call_form("/api/staff/billing/account", &[("id", &alice_account)]).await.status, 200);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'billing.statement-downloaded'").await, 2, "Robert's and billing's");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'billing.account-viewed'").await, 1);
    portal.stop().await;
}

async fn paperless_changes_are_recorded(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (account, _) = account_of(&portal, "carol").await;
    let carol = signed_in(&portal, "carol", "patient").await;
    let r = carol.post_form("/api/billing/delivery", &[("account", &account), ("delivery", "paper")]).await;
    assert_eq!(r.status, 302, "{}", r.body);
    assert_eq!(r.location(), Some(format!("/billing/accounts/{account}?delivery=paper#paperless").as_str()));
    // The same choice again records nothing.
    carol.post_form("/api/billing/delivery", &[("account", &account), ("delivery", "paper")]).await;
    carol.post_form("/api/billing/delivery", &[("account", &account), ("delivery", "paperless")]).await;
    let billing = signed_in(&portal, "billing", "staff").await;
    billing.post_form("/api/staff/billing/delivery", &[("account", &account), ("delivery", "paper")]).await;

    let rows = sqlx::query("SELECT cause, from_delivery, to_delivery FROM delivery_changes WHERE account_id = $1 AND cause <> 'opened' ORDER BY changed_at, cause")
        .bind(&account)
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap();
    let got: Vec<(String, String, String)> = rows.iter().map(|r| (r.get("cause"), r.get("from_delivery"), r.get("to_delivery"))).collect();
    let want = [("patient", "paperless", "paper"), ("patient", "paper", "paperless"), ("staff", "paperless", "paper")];
    assert_eq!(got, want.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())));
    assert_eq!(text(&portal, "SELECT delivery FROM billing_accounts WHERE id = $1", &account).await, "paper");
    assert_eq!(text(&portal, "SELECT p.statement_delivery FROM patients p JOIN users u ON u.patient_id = p.id WHERE u.login = $1", "carol").await, "paper");
    let details: Vec<String> = sqlx::query("SELECT detail FROM audit_log WHERE action = 'billing.delivery-changed' AND record_id = $1 ORDER BY seq")
        .bind(&account)
        .fetch_all(&portal.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("detail"))
        .collect();
    assert_eq!(details, ["paperless to paper", "paper to paperless", "paperless to paper"]);
    // The patient sees the history.
    let r = carol.get(&format!("/billing/accounts/{account}")).await;
    assert!(r.body.contains("paperless → paper (You, in the portal)"), "{}", r.body);
    portal.stop().await;
}

async fn statements_go_to_a_notice_or_the_print_queue(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (alice_account, alice_number) = account_of(&portal, "alice").await;
    let billing = signed_in(&portal, "billing", "staff").await;
    let queue_before = count(&portal, "SELECT COUNT(*) FROM statements WHERE delivery = 'paper' AND printed_at IS NULL").await;
    assert_eq!(queue_before, 1, "Dora's demo statement");

    // Refused: the lines do not add up (previous balance $200.05 + $300 = $500.05). Nothing stored.
    let statements_before = count(&portal, "SELECT COUNT(*) FROM statements").await;
    let r = post(&billing, &alice_account, "2027-02-01", "2027-01-01", "2027-01-31", ("charge", "Echocardiogram", "300.00"), "300.00").await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{alice_account}/statement?refused=1").as_str()));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM statements").await, statements_before);
    let form = billing.get(&format!("/staff/billing/accounts/{alice_account}/statement")).await;
    assert!(form.body.contains("The lines add up to an amount due of $500.05, not $300.00"), "{}", form.body);
    assert!(form.body.contains("value=\"Echocardiogram\""), "the typed line is kept");

    // Posted: totals from the previous statement; one notice, no amount in it.
    let r = post(&billing, &alice_account, "2027-02-01", "2027-01-01", "2027-01-31", ("charge", "Echocardiogram", "300.00"), "500.05").await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{alice_account}?posted=notified").as_str()));
    let row = sqlx::query("SELECT previous_balance, charges, payments, adjustments, amount_due, delivery FROM statements WHERE account_id = $1 ORDER BY statement_date DESC LIMIT 1")
        .bind(&alice_account)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        (row.get::<i64, _>("previous_balance"), row.get::<i64, _>("charges"), row.get::<i64, _>("payments"), row.get::<i64, _>("adjustments"), row.get::<i64, _>("amount_due")),
        (20_005, 30_000, 0, 0, 50_005)
    );
    assert_eq!(row.get::<String, _>("delivery"), "paperless");
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'new-statement'").await, 1);
    let mut mail = None;
    for _ in 0..100 {
        if let Some(m) = portal.smtp.received().into_iter().find(|m| m.text().contains("new billing statement")) {
            mail = Some(m);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mail = mail.expect("the notice is delivered").text();
    for secret in ["500.05", "300.00", "Echocardiogram", "Cardiology", alice_number.as_str()] {
        assert!(!mail.contains(secret), "the notice mentions {secret}");
    }
    // An out-of-order statement is refused.
    let r = post(&billing, &alice_account, "2027-01-15", "2026-12-01", "2026-12-31", ("charge", "Visit", "10.00"), "510.05").await;
    assert!(r.location().unwrap_or_default().ends_with("?refused=1"));

    // A paper account: no notice, the print queue; marking printed covers what was listed.
    let carol = signed_in(&portal, "carol", "patient").await;
    let (carol_account, carol_number) = account_of(&portal, "carol").await;
    carol.post_form("/api/billing/delivery", &[("account", &carol_account), ("delivery", "paper")]).await;
    let r = post(&billing, &carol_account, "2027-02-01", "2027-01-01", "2027-01-31", ("charge", "Visit", "40.00"), "190.00").await;
    assert_eq!(r.location(), Some(format!("/staff/billing/accounts/{carol_account}?posted=print-queue").as_str()));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'new-statement'").await, 1, "no notice for paper");
    let csv = billing.get("/staff/billing/print-queue.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.contains(&carol_number) && csv.body.contains("190.00"), "{}", csv.body);
    let until: i64 = count(&portal, "SELECT MAX(posted_at) FROM statements WHERE delivery = 'paper' AND printed_at IS NULL").await;
    let pdf = billing.get(&format!("/staff/billing/print-queue.pdf?until={until}")).await;
    assert_eq!(pdf.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    // Posted after the page was listed: stays in the queue.
    let r = post(&billing, &carol_account, "2027-03-01", "2027-02-01", "2027-02-28", ("charge", "Visit", "10.00"), "200.00").await;
    assert!(r.location().unwrap_or_default().ends_with("?posted=print-queue"));
    let r = billing.post_form("/api/staff/billing/printed", &[("until", &until.to_string())]).await;
    assert_eq!(r.location(), Some("/staff/billing/print-queue?printed=2"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM statements WHERE delivery = 'paper' AND printed_at IS NULL").await, 1);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'billing.statements-printed'").await, 1);
    // Three here, and Dora's of the demo clinic.
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'billing.statement-posted'").await, 4);
    portal.stop().await;
}

async fn imports_are_all_or_nothing(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (_, alice) = account_of(&portal, "alice").await;
    let (_, robert) = account_of(&portal, "robert").await;
    let billing = signed_in(&portal, "billing", "staff").await;
    let header = "account_number,statement_date,period_start,period_end,due_date,amount_due,line_date,kind,department,description,amount";
    let good = format!(
        "{header}\n{alice},2027-02-01,2027-01-01,2027-01-31,2027-02-25,230.05,2027-01-05,charge,Laboratory,Lipid panel,30.00\n\
         {robert},2027-02-01,2027-01-01,2027-01-31,2027-02-25,170.00,2027-01-09,charge,Radiology,X-ray,20.00\n"
    );
    let before = (
        count(&portal, "SELECT COUNT(*) FROM statements").await,
        count(&portal, "SELECT COUNT(*) FROM statement_lines").await,
        count(&portal, "SELECT COUNT(*) FROM outbox").await,
    );
    let bad_files = [
        (good.replace(&robert, "G999999999"), "Row 3: there is no billing account G999999999"),
        (good.replace("170.00", "175.00"), "Row 3: the lines add up to an amount due of $170.00, not $175.00"),
        (good.replace("X-ray,20.00", "X-ray,2O.00"), "Row 3: amount \"2O.00\" is not an amount"),
    ];
    for (file, reason) in bad_files {
        let r = billing.post_multipart("/api/staff/billing/import", &[], &[("file", "statements.csv", file.into_bytes())]).await;
        assert_eq!(r.location(), Some("/staff/billing/import?refused=1"));
        let page = billing.get("/staff/billing/import?refused=1").await;
        assert!(page.body.contains(&format!("Nothing was imported. {reason}")), "{reason}: {}", page.body);
        let after = (
            count(&portal, "SELECT COUNT(*) FROM statements").await,
            count(&portal, "SELECT COUNT(*) FROM statement_lines").await,
            count(&portal, "SELECT COUNT(*) FROM outbox").await,
        );
        assert_eq!(after, before, "nothing imported for {reason}");
    }
    let r = billing.post_multipart("/api/staff/billing/import", &[], &[("file", "statements.csv", good.into_bytes())]).await;
    assert_eq!(r.location(), Some("/staff/billing/import?statements=2&lines=2&notified=2&paper=0"));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM statements").await, before.0 + 2);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM outbox WHERE notice = 'new-statement'").await, 2);
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM audit_log WHERE action = 'billing.statements-imported'").await, 1);
    portal.stop().await;
}

async fn the_pdf_reads_back(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let (account, number) = account_of(&portal, "alice").await;
    let latest = statements_of(&portal, &account).await.pop().unwrap();
    let alice = signed_in(&portal, "alice", "patient").await;
    let bytes = alice.http.get(format!("{}/billing/statements/{latest}.pdf", portal.base)).send().await.unwrap().bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let path = std::env::temp_dir().join(format!("portal-api-statement-{latest}.pdf"));
    std::fs::write(&path, &bytes).unwrap();
    let out = std::process::Command::new("pdftotext").arg("-layout").arg(&path).arg("-").output();
    std::fs::remove_file(&path).ok();
    let text = String::from_utf8(out.expect("pdftotext (poppler-utils)").stdout).unwrap();
    for expected in [number.as_str(), "Alice Johnson", "12 Elm Street", "X-ray, chest, two views", "$200.05", "Test Clinic", "1 Test Street"] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    portal.stop().await;
}

/// SPEC R-BIL-1: a patient who had paper statements signs up; their account becomes paperless
/// (recorded as by enrolment), and what was already posted on paper stays in the print queue.
async fn signing_up_makes_existing_accounts_paperless(backend: Backend) {
    use crate::enrolment::{complete, issue_code, patient_by_mrn, staff, verify, STRONG_PASSWORD};
    let portal = TestPortal::start(backend).await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let account = text(&portal, "SELECT id FROM billing_accounts WHERE patient_id = $1", &dora).await;
    assert_eq!(text(&portal, "SELECT delivery FROM billing_accounts WHERE id = $1", &account).await, "paper");
    let desk = staff(&portal, "frontdesk").await;
    let code = issue_code(&desk, &dora).await;
    let browser = portal.client();
    assert_eq!(verify(&browser, &code, "1952-06-18").await.location(), Some("/activate/account"));
    let done = complete(&browser, "dora.martinez", STRONG_PASSWORD, "dora.martinez@example.org", true).await;
    assert_eq!(done.location(), Some("/home?welcome=1"), "{}", done.body);
    assert_eq!(text(&portal, "SELECT delivery FROM billing_accounts WHERE id = $1", &account).await, "paperless");
    let change = sqlx::query("SELECT from_delivery, to_delivery FROM delivery_changes WHERE account_id = $1 AND cause = 'enrolment'")
        .bind(&account)
        .fetch_one(&portal.state.db.pool)
        .await
        .unwrap();
    assert_eq!((change.get::<String, _>("from_delivery"), change.get::<String, _>("to_delivery")), ("paper".into(), "paperless".into()));
    assert_eq!(count(&portal, "SELECT COUNT(*) FROM statements WHERE delivery = 'paper' AND printed_at IS NULL").await, 1, "posted on paper: still to be mailed");
    let page = browser.get(&format!("/billing/accounts/{account}")).await;
    assert!(page.body.contains("paper → paperless (Portal sign-up)"), "{}", page.body);
    portal.stop().await;
}

on_both_databases!(
    signing_up_makes_existing_accounts_paperless,
    access_matrix,
    paperless_changes_are_recorded,
    statements_go_to_a_notice_or_the_print_queue,
    imports_are_all_or_nothing,
    the_pdf_reads_back,
);
