//! A request holds at most one of the database pool's connections at a time. A request that,
//! inside a transaction, waits for a second connection deadlocks with the others doing the same
//! as soon as they hold every connection between them: each waits out the pool's acquire
//! time-out (10 s) and fails, and the requests queued behind them wait for a multiple of it.
//! Under load (two portals in one test process, a burst of sign-ups) that looked like a hang.
//! With a pool of one connection such a request fails every time, whatever the timing, so the
//! test does not depend on luck.

use crate::enrolment::{complete, issue_code, patient_by_mrn, staff, verify, DORA, STRONG_PASSWORD};
use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal};
use leptos::prelude::LeptosOptions;
use std::time::{Duration, Instant};

/// The activation on a server whose pool has one connection (a second server on the same
/// data: the demo clinic is loaded by the first): the code is issued and checked on the first,
/// then the page that reads the claim and the terms in force, and the form that completes the
/// activation, answer on the second, and neither waits out the pool's time-out.
async fn activation_needs_one_connection_at_a_time(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let desk = staff(&portal, "frontdesk").await;
    let dora = patient_by_mrn(&portal, "MRN100004").await;
    let code = issue_code(&desk, &dora).await;
    let person = portal.client();
    assert_eq!(verify(&person, &code, DORA.dob).await.location(), Some("/activate/account"));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = portal.config.clone();
    config.db_max_connections = 1;
    config.portal.public_url = url::Url::parse(&format!("http://{addr}")).unwrap();
    let site_root = portal.config.data_dir.join("site").display().to_string();
    let options = LeptosOptions::builder().output_name("portal").site_root(site_root).site_addr(addr).build();
    let state = server::startup::state(&config, options).await.expect("a second server on the same data");
    let running = server::startup::spawn(&config, state, listener, std::future::pending()).await.unwrap();
    // The same browser (cookies are kept per host, whatever the port).
    let person = Client { http: person.http.clone(), base: format!("http://{addr}"), jar: person.jar.clone() };

    // The page read the terms on a second connection while its transaction held the first.
    let started = Instant::now();
    let page = person.get("/activate/account").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("name=\"terms_id\""), "the page offers the terms in force: {}", page.body);
    assert!(started.elapsed() < Duration::from_secs(5), "the page waited {:?} for a connection", started.elapsed());
    let done = complete(&person, "dora.m", STRONG_PASSWORD, DORA.email, true).await;
    assert_eq!(done.location(), Some("/home?welcome=1"), "{}", done.body);
    running.stop().await;
    portal.stop().await;
}

on_both_databases!(activation_needs_one_connection_at_a_time);
