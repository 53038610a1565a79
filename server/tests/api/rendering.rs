//! A page that waits for its data (a resource under `<Suspense>`, rendered in `SsrMode::Async`)
//! always finishes, also while other portals start in the same process.
//!
//! The hang of issue 16: generating a portal's route list renders the app with resources held
//! back by one process-wide flag (leptos_server's `SuppressResourceLoad`), and a resource first
//! polled by any render while that flag was up waited forever. With several portals in the test
//! process, one starting while another rendered a page left that page unanswered now and then
//! (idle threads, the request's start logged and nothing more). The list is now generated once
//! per process (`startup::route_list`), so the flag is never up while anything serves.

use crate::support::{Backend, TestPortal};
use std::time::Duration;

/// `/terms` (public: a resource, a `<Suspense>`, async rendering) asked for again and again
/// by several browsers at once while other portals start and stop beside it: every answer
/// comes, each within a few seconds.
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
    // Other portals start in the same process while the first one renders: each builds its
    // router, as `startup::spawn` does.
    let (state, config) = (portal.state.clone(), portal.config.clone());
    let neighbours = tokio::spawn(async move {
        for _ in 0..400 {
            drop(server::startup::router(state.clone(), &config));
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let mut stuck = 0;
    for b in browsers {
        stuck += b.await.unwrap();
    }
    neighbours.await.unwrap();
    assert_eq!(stuck, 0, "{stuck} of 800 requests for /terms never got their answer");
    portal.stop().await;
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pages_waiting_for_their_data_always_finish() {
        super::pages_waiting_for_their_data_always_finish(crate::support::Backend::Sqlite).await
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pages_waiting_for_their_data_always_finish() {
        if crate::support::postgres_admin_url().is_none() {
            return;
        }
        super::pages_waiting_for_their_data_always_finish(crate::support::Backend::Postgres).await
    }
}
