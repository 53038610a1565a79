//! A page that waits for its data (a resource under `<Suspense>`, rendered in `SsrMode::Async`)
//! always finishes. With two portals in the test process a request to such a page has been seen
//! to wait forever: the server's threads idle, the request pending (issue 16; a stack dump of
//! `second_step::sqlite::a_password_alone_never_opens_a_staff_account_whose_role_requires_a_second_step`
//! waiting for `GET /sign-in/code`). The lost wake-up is rare: this burst caught it once in two
//! runs of the whole suite at four tests at a time (one request of 1,600 started, logged nothing
//! more, never answered); alone it passes. Ignored until the cause is fixed (a test that fails
//! now and then would make the suite flaky, which is the issue itself); run it with
//! `-- --ignored rendering` while hunting, with `PORTAL_TEST_LOG_FILE` to follow the request.

use crate::support::{Backend, TestPortal};
use std::time::Duration;

/// `/terms` (public: a resource, a `<Suspense>`, async rendering) asked for again and again
/// by several browsers at once: every answer comes, each within a few seconds.
async fn pages_waiting_for_their_data_always_finish(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let url = format!("{}/terms", portal.base);
    let mut browsers = Vec::new();
    for _ in 0..8 {
        let url = url.clone();
        browsers.push(tokio::spawn(async move {
            let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
            let mut stuck = 0;
            for _ in 0..100 {
                match http.get(&url).header("accept", "text/html").send().await {
                    Ok(r) => {
                        assert_eq!(r.status(), 200);
                        let body = r.text().await.unwrap_or_default();
                        assert!(body.contains("Terms and conditions"), "{body}");
                    }
                    Err(e) if e.is_timeout() => stuck += 1,
                    Err(e) => panic!("{e}"),
                }
            }
            stuck
        }));
    }
    let mut stuck = 0;
    for b in browsers {
        stuck += b.await.unwrap();
    }
    assert_eq!(stuck, 0, "{stuck} of 800 requests for /terms never got their answer");
    portal.stop().await;
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "issue 16: a wake-up lost in async page rendering, not fixed yet"]
    async fn pages_waiting_for_their_data_always_finish() {
        super::pages_waiting_for_their_data_always_finish(crate::support::Backend::Sqlite).await
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "issue 16: a wake-up lost in async page rendering, not fixed yet"]
    async fn pages_waiting_for_their_data_always_finish() {
        if crate::support::postgres_admin_url().is_none() {
            return;
        }
        super::pages_waiting_for_their_data_always_finish(crate::support::Backend::Postgres).await
    }
}
