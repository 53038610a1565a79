//! The one table of who may reach what (`app::access`), walked: every page, server function and
//! download × {anonymous, a patient, sessions waiting for a step, each staff role}.
//!
//! Two kinds of check. The rules, written here from the job each role does (minimum
//! necessary), are compared with the table: what anyone may reach without signing in, what a
//! session waiting for a step may reach, and which staff pages each role opens. A change to the
//! table that widens access fails here until the rule is changed on purpose. Then the running
//! server is asked for every path as every visitor, and must answer as the table says: a page
//! or function added without a gate, or served to someone its gate refuses, fails.

use crate::enrolment::{patient, staff, user_id_of};
use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};
use app::access::{self, table, Gate, Verdict, Visitor};
use app::session::PendingStep;
use app::types::{AccountKind, Portal, StaffRole};
use std::collections::BTreeSet;

/// A stand-in for a path parameter: well-formed, and no record's id.
const SOME_ID: &str = "0123456789abcdef0123456789abcdef";

fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|s| match s.strip_prefix(':') {
            Some(param) => match param.split_once('.') {
                Some((_, ext)) => format!("{SOME_ID}.{ext}"),
                None => SOME_ID.to_string(),
            },
            None => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn pages_open_to(visitor: Option<Visitor>) -> BTreeSet<&'static str> {
    app::app::PAGES.iter().filter(|p| p.gate.verdict(visitor) == Verdict::Open).map(|p| p.path).collect()
}

fn functions_open_to(visitor: Option<Visitor>) -> BTreeSet<&'static str> {
    table::FUNCTIONS.iter().filter(|(_, g)| g.verdict(visitor) == Verdict::Open).map(|(e, _)| *e).collect()
}

fn set(items: &[&'static str]) -> BTreeSet<&'static str> {
    items.iter().copied().collect()
}

fn waiting(kind: AccountKind, step: PendingStep) -> Option<Visitor> {
    Some(Visitor { kind, pending: Some(step) })
}

fn staff_visitor(role: StaffRole) -> Option<Visitor> {
    Some(Visitor { kind: AccountKind::Staff(role), pending: None })
}

const PUBLIC_PAGES: &[&str] = &[
    "/",
    "/sign-in",
    "/staff/sign-in",
    "/terms",
    "/enrol",
    "/enrol/sent",
    "/activate",
    "/activate/account",
    "/forgot-password",
    "/forgot-user-id",
    "/recovery/sent",
    "/reset-password",
    "/user-id",
    "/user-id/shown",
    "/confirm-email",
    "/privacy",
    "/help",
    "/leaving",
    "/sign-in/check",
];

#[test]
fn without_signing_in_only_the_public_pages_and_forms_open() {
    assert_eq!(pages_open_to(None), set(PUBLIC_PAGES));
    assert_eq!(
        functions_open_to(None),
        set(&[
            "sign-in",
            "sign-out",
            "passkeys/sign-in-start",
            "passkeys/sign-in-finish",
            "maintenance/dismiss",
            "terms/current",
            "enrolment/request",
            "activation/verify",
            "activation/start",
            "activation/user-id",
            "activation/complete",
            "recovery/forgot-password",
            "recovery/forgot-user-id",
            "recovery/link-valid",
            "recovery/reset-password",
            "recovery/show-user-id",
            "recovery/revealed-user-id",
            "recovery/confirm-email",
            "session/time-out",
        ])
    );
    for (pattern, gate) in table::DOWNLOADS {
        assert_ne!(gate.verdict(None), Verdict::Open, "{pattern} is a record: never public");
    }
}

#[test]
fn a_session_waiting_for_a_step_opens_that_step_and_nothing_else() {
    let public = set(PUBLIC_PAGES);
    let private = |v| pages_open_to(v).difference(&public).copied().collect::<BTreeSet<_>>();
    let keep_alive = ["session/status", "session/stay"];
    let public_functions = functions_open_to(None);
    let private_functions = |v| functions_open_to(v).difference(&public_functions).copied().collect::<BTreeSet<_>>();

    // The password alone has opened nothing: only the second step's page and checks (a code, or
    // the user's own passkey).
    for kind in [AccountKind::Patient, AccountKind::Staff(StaffRole::Clinician)] {
        let v = waiting(kind, PendingStep::SecondStep);
        assert_eq!(private(v), set(&["/sign-in/code"]), "{kind:?}");
        let step = ["second-step/code", "second-step/held", "second-step/passkey-start", "second-step/passkey"];
        assert_eq!(private_functions(v), set(&[&step[..], &keep_alive].concat()), "{kind:?}");
        for (pattern, gate) in table::DOWNLOADS {
            assert_ne!(gate.verdict(v), Verdict::Open, "{pattern}");
        }
    }
    let terms = waiting(AccountKind::Patient, PendingStep::Terms);
    assert_eq!(private(terms), set(&["/account/terms"]));
    assert_eq!(private_functions(terms), set(&[&["terms/accept"][..], &keep_alive].concat()));

    let aged = waiting(AccountKind::Patient, PendingStep::PasswordRequired);
    assert_eq!(private(aged), set(&["/account/password"]));
    assert_eq!(private_functions(aged), set(&[&["account/change-password"][..], &keep_alive].concat()));
    let reminded = waiting(AccountKind::Patient, PendingStep::PasswordReminder);
    assert_eq!(private_functions(reminded), set(&[&["account/change-password", "account/remind-later"][..], &keep_alive].concat()));

    // Staff whose role requires a second step and who have none: setting one up, nothing else.
    let setup = waiting(AccountKind::Staff(StaffRole::Administrator), PendingStep::SecondStepSetup);
    assert_eq!(private(setup), set(&["/staff/second-step", "/staff/passkeys"]));
    assert_eq!(
        private_functions(setup),
        set(&[
            &["passkeys/view", "passkeys/prepare", "passkeys/finish-add", "passkeys/remove"][..],
            &["second-step/view", "second-step/begin", "second-step/confirm", "second-step/off"],
            &keep_alive,
        ]
        .concat())
    );
}

#[test]
fn each_role_opens_the_staff_pages_its_work_needs_and_no_others() {
    let everyone = ["/staff", "/staff/second-step", "/staff/passkeys", "/staff/sign-in"];
    let messages = ["/staff/messages", "/staff/messages/new", "/staff/messages/:id", "/staff/messages/patients/:id", "/staff/holidays"];
    let patients = ["/staff/enrolment", "/staff/enrolment/:id", "/staff/patients", "/staff/patients/:id", "/staff/patients/:id/code"];
    let staff_pages = |role| pages_open_to(staff_visitor(role)).into_iter().filter(|p| p.starts_with("/staff")).collect::<BTreeSet<_>>();
    let expect = |parts: &[&[&'static str]]| parts.concat().into_iter().collect::<BTreeSet<_>>();

    assert_eq!(
        staff_pages(StaffRole::FrontDesk),
        expect(&[&everyone, &messages, &patients, &["/staff/visits", "/staff/questionnaires", "/staff/questionnaires/patients/:id"]])
    );
    assert_eq!(
        staff_pages(StaffRole::Clinician),
        expect(&[
            &everyone,
            &messages,
            &["/staff/visits", "/staff/absences"],
            &["/staff/questionnaires", "/staff/questionnaires/patients/:id", "/staff/questionnaires/forms/:id", "/staff/questionnaires/responses/:id"],
        ])
    );
    // Billing staff: accounts and their own inbox; no clinical page, no patient's answers.
    assert_eq!(
        staff_pages(StaffRole::Billing),
        expect(&[
            &everyone,
            &messages,
            &["/staff/billing", "/staff/billing/accounts/:id", "/staff/billing/accounts/:id/statement", "/staff/billing/import", "/staff/billing/print-queue"],
        ])
    );
    // Administrators run the portal: no inbox, no statements, no patient's answers.
    assert_eq!(
        staff_pages(StaffRole::Administrator),
        expect(&[
            &everyone,
            &patients,
            &["/staff/security", "/staff/audit", "/staff/terms", "/staff/maintenance", "/staff/care-teams", "/staff/pools"],
            &["/staff/record/hidden-codes"],
            &["/staff/absences", "/staff/holidays", "/staff/questionnaires"],
        ])
    );
    assert_eq!(staff_pages(StaffRole::Auditor), expect(&[&everyone, &["/staff/security", "/staff/audit"]]));
    // No member of staff opens a patient's own pages, whatever the role.
    for role in StaffRole::ALL {
        let open = pages_open_to(staff_visitor(role));
        assert!(open.iter().all(|p| PUBLIC_PAGES.contains(p) || p.starts_with("/staff")), "{role:?}: {open:?}");
    }
}

#[test]
fn every_server_function_has_exactly_one_gate() {
    // Building the router checks that every registered function has a gate (the server does
    // not start otherwise); here, that the table names no function that does not exist.
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.trim_start_matches("/api/").to_string()).collect();
    assert!(!registered.is_empty(), "server functions are registered");
    let mut seen = BTreeSet::new();
    for (endpoint, _) in table::FUNCTIONS {
        assert!(seen.insert(*endpoint), "{endpoint} is listed twice");
        assert!(registered.contains(*endpoint), "{endpoint} is in the table but no server function answers there");
    }
    for endpoint in &registered {
        assert!(seen.contains(endpoint.as_str()), "{endpoint} has no gate");
    }
    let mut pages = BTreeSet::new();
    for page in app::app::PAGES {
        assert!(pages.insert(page.path), "{} is listed twice", page.path);
    }
}

/// Someone at the portal, and who the table thinks they are.
struct Someone {
    name: &'static str,
    client: Client,
    visitor: Option<Visitor>,
}

async fn waiting_session(portal: &TestPortal, login: &str, portal_kind: &str, kind: AccountKind, step: PendingStep) -> Someone {
    let c = portal.client();
    c.sign_in(login, DEMO_PASSWORD, portal_kind).await;
    // The session is put into the state a sign-in would leave it in (the second step, new
    // terms, an aged password, a role's requirement): the walk is about the gates, not how the
    // state came about (each step's own tests do that).
    let user = user_id_of(portal, login).await;
    sqlx::query("UPDATE sessions SET pending_step = $1 WHERE user_id = $2 AND ended_at IS NULL")
        .bind(step.as_str())
        .bind(&user)
        .execute(&portal.state.db.pool)
        .await
        .unwrap();
    Someone { name: step.as_str(), client: c, visitor: waiting(kind, step) }
}

/// What the server must answer to `visitor` at a path whose gate is `gate`.
fn check_page(who: &Someone, path: &str, gate: Gate, status: u16, location: Option<&str>) {
    let what = format!("{} at {path}: {status} {location:?}", who.name);
    match gate.verdict(who.visitor) {
        Verdict::Open => {
            assert!(!matches!(status, 401 | 403), "{what}: the table lets them in");
            if let Some(to) = location {
                let home = who.visitor.map(|v| if v.kind.is_patient() { Portal::Patient } else { Portal::Staff }.home_path());
                let sent_back = to.starts_with("/sign-in") || to.starts_with("/staff/sign-in") || access::ALL_STEPS.iter().any(|s| to == s.path());
                assert!(!sent_back || Some(to) == home, "{what}: the table lets them in");
            }
        }
        Verdict::SignIn(portal) | Verdict::OtherPortal(portal) => {
            assert_eq!(status, 303, "{what}");
            assert!(location.unwrap_or_default().starts_with(portal.sign_in_path()), "{what}");
        }
        Verdict::TakeStep(step) => {
            assert_eq!((status, location), (303, Some(step.path())), "{what}");
        }
        Verdict::Forbidden => assert_eq!(status, 403, "{what}"),
    }
}

async fn every_path_answers_as_the_table_says(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let mut people = vec![
        Someone { name: "anonymous", client: portal.client(), visitor: None },
        Someone {
            name: "patient",
            client: patient(&portal, "robert", DEMO_PASSWORD).await,
            visitor: Some(Visitor { kind: AccountKind::Patient, pending: None }),
        },
        waiting_session(&portal, "carol", "patient", AccountKind::Patient, PendingStep::SecondStep).await,
        waiting_session(&portal, "alice", "patient", AccountKind::Patient, PendingStep::Terms).await,
        waiting_session(&portal, "auditor", "staff", AccountKind::Staff(StaffRole::Auditor), PendingStep::SecondStepSetup).await,
    ];
    for (login, role) in
        [("frontdesk", StaffRole::FrontDesk), ("drlee", StaffRole::Clinician), ("billing", StaffRole::Billing), ("admin", StaffRole::Administrator)]
    {
        people.push(Someone { name: role.as_str(), client: staff(&portal, login).await, visitor: staff_visitor(role) });
    }

    for who in &people {
        for page in app::app::PAGES {
            let path = concrete(page.path);
            let r = who.client.get(&path).await;
            if page.path == "/sign-in/check" {
                // Open to all, and it only ever sends on: to the session's step or home page, or
                // (no session: the browser refused the cookie) back to sign-in with the message.
                let to = match who.visitor {
                    None => "/sign-in?error=cookies",
                    Some(v) => v.pending.map(|s| s.path()).unwrap_or(if v.kind.is_patient() { Portal::Patient } else { Portal::Staff }.home_path()),
                };
                assert_eq!(r.location(), Some(to), "{} at {path}", who.name);
                continue;
            }
            check_page(who, &path, page.gate, r.status, r.location());
        }
        for (pattern, gate) in table::DOWNLOADS {
            let path = concrete(pattern);
            let r = who.client.get(&path).await;
            check_page(who, &path, *gate, r.status, r.location());
        }
        for (endpoint, gate) in table::FUNCTIONS {
            // Skipped: these end or change the very session the walk goes on with.
            if matches!(*endpoint, "sign-out" | "session/time-out" | "sign-in" | "second-step/code") && gate.verdict(who.visitor) == Verdict::Open {
                continue;
            }
            let r = who.client.call_form(&format!("/api/{endpoint}"), &[]).await;
            let what = format!("{} calls {endpoint}: {} {}", who.name, r.status, r.body.chars().take(120).collect::<String>());
            match gate.verdict(who.visitor) {
                Verdict::Open => assert!(!matches!(r.status, 401 | 403 | 404), "{what}: the table lets them in"),
                Verdict::SignIn(_) => assert_eq!(r.status, 401, "{what}"),
                _ => assert_eq!(r.status, 403, "{what}"),
            }
        }
    }

    // A server function that is not in the table is not served, whoever asks.
    for who in &people {
        assert_eq!(who.client.call_form("/api/no-such-function", &[]).await.status, 404);
    }
    // A plain form post (no JavaScript) refused for want of a session goes to the sign-in page,
    // as the page it came from would.
    let r = people[0].client.post_form("/api/messages/send", &[("body", "hello")]).await;
    assert_eq!((r.status, r.location()), (303, Some("/sign-in")));
    portal.stop().await;
}

on_both_databases!(every_path_answers_as_the_table_says);
