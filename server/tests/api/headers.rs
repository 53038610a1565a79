use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};

const PUBLIC_PAGES: &[&str] = &["/", "/sign-in", "/staff/sign-in", "/terms", "/privacy", "/help", "/no-such-page"];
const PATIENT_PAGES: &[&str] = &[
    "/home",
    "/messages",
    "/record",
    "/record/results",
    "/record/trends",
    "/record/medications",
    "/record/documents",
    "/record/questionnaires",
    "/billing",
    "/account",
    "/account/activity",
];

fn assert_baseline(path: &str, r: &crate::support::Reply) {
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{path}");
    assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{path}");
    assert!(r.header("permissions-policy").is_some(), "{path}");
    let csp = r.header("content-security-policy").unwrap_or_else(|| panic!("{path}: no CSP"));
    assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
}

fn assert_no_store(path: &str, r: &crate::support::Reply) {
    assert!(r.header("cache-control").unwrap_or("").contains("no-store"), "{path}: {:?}", r.header("cache-control"));
}

async fn every_route_carries_the_security_headers(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    for path in PUBLIC_PAGES {
        let r = c.get(path).await;
        assert_baseline(path, &r);
        assert_no_store(path, &r);
        if r.status == 200 || r.status == 404 {
            let csp = r.header("content-security-policy").unwrap();
            assert!(
                csp.contains("'nonce-") && csp.contains("'wasm-unsafe-eval'") && csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"),
                "{path}: {csp}"
            );
            let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
            assert!(r.body.contains(&format!("nonce=\"{nonce}\"")), "{path}: page scripts carry the header's nonce");
        }
    }
    assert_eq!(c.get("/no-such-page").await.status, 404);
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    for path in PATIENT_PAGES {
        let r = c.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_baseline(path, &r);
        assert_no_store(path, &r);
        assert_eq!(r.header("pragma"), Some("no-cache"), "{path}");
        assert_eq!(r.header("expires"), Some("0"), "{path}");
    }
    let api = c.call("/api/account/activity").await;
    assert_eq!(api.status, 200);
    assert_baseline("/api/account/activity", &api);
    assert_no_store("/api/account/activity", &api);
    for path in ["/healthz", "/readyz"] {
        let r = c.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_baseline(path, &r);
    }
    // No HSTS over plain http on localhost.
    assert!(c.get("/").await.header("strict-transport-security").is_none());
    portal.stop().await;
}

async fn hsts_and_secure_cookies_when_served_over_tls(backend: Backend) {
    let portal = TestPortal::start_with(backend, |c| {
        c.portal.secure_cookies = true;
    })
    .await;
    let c = portal.client();
    assert!(c.get("/sign-in").await.header("strict-transport-security").unwrap().contains("max-age="));
    let r = c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    let cookies: Vec<_> = r.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let session = cookies.iter().find(|c| c.starts_with("__Host-portal_session=")).expect("__Host- cookie");
    assert!(session.contains("; Secure") && session.contains("Path=/") && !session.contains("Domain"), "{session}");
    portal.stop().await;
}

async fn private_things_are_refused_without_a_session(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = Client::new(&portal.base);
    for path in PATIENT_PAGES {
        let r = c.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.location(), Some("/sign-in"), "{path}");
        assert!(!r.body.contains("Alice"), "{path}");
    }
    assert_eq!(c.get("/staff").await.location(), Some("/staff/sign-in"));
    for api in ["/api/account/activity", "/api/session/status", "/api/session/stay"] {
        assert_eq!(c.call(api).await.status, 401, "{api}");
    }
    // A staff member is not a patient: the patient's server functions refuse them.
    c.sign_in("auditor", DEMO_PASSWORD, "staff").await;
    assert_eq!(c.call("/api/account/activity").await.status, 403);
    portal.stop().await;
}

async fn cross_site_posts_are_refused(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let form = [("user_id", "alice"), ("password", DEMO_PASSWORD), ("portal", "patient")];
    let url = format!("{}/api/sign-in", portal.base);
    let evil = http.post(&url).header("origin", "https://evil.example").form(&form).send().await.unwrap();
    assert_eq!(evil.status(), 403);
    let bare = http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(bare.status(), 403, "a POST that says nothing of its origin is refused");
    let cross = http.post(&url).header("sec-fetch-site", "cross-site").form(&form).send().await.unwrap();
    assert_eq!(cross.status(), 403);
    let own = http.post(&url).header("origin", &portal.base).header("accept", "text/html").form(&form).send().await.unwrap();
    assert_eq!(own.status(), 302);
    portal.stop().await;
}

/// Static files and pages served at the same moment keep their own headers: a page's
/// nonce policy or cookie never lands on a file, and every page keeps its own policy.
async fn static_files_never_carry_a_page_s_headers(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    let file = c.get("/favicon.svg").await;
    assert_eq!(file.status, 200);
    assert_eq!(file.header("cache-control"), Some("public, max-age=86400"));
    // In waves of 100 at once: enough to interleave renders and files on the server's threads,
    // few enough not to time out beside the rest of the suite.
    for _wave in 0..10 {
        let mut tasks = Vec::new();
        for i in 0..100 {
            let http = c.http.clone();
            let base = c.base.clone();
            let path = if i % 2 == 0 { "/favicon.svg" } else { "/terms" };
            tasks.push(tokio::spawn(async move {
                let r = http.get(format!("{base}{path}")).header("accept", "text/html").send().await.unwrap();
                let csp = r.headers().get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                (path, r.status().as_u16(), csp, r.headers().contains_key("set-cookie"))
            }));
        }
        for t in tasks {
            let (path, status, csp, cookie) = t.await.unwrap();
            assert_eq!(status, 200, "{path}");
            if path == "/favicon.svg" {
                assert!(csp.starts_with("default-src 'none'"), "a file got a page's policy: {csp}");
                assert!(!cookie, "a file set a cookie");
            } else {
                assert!(csp.contains("'nonce-"), "a page lost its policy: {csp}");
            }
        }
    }
    portal.stop().await;
}

/// Our own scripts are files named after a hash of their bytes, cached for good, allowed by the
/// page's nonce, and no longer inlined; no other script of ours is inline.
async fn our_scripts_are_hashed_files_cached_for_good(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    let nonce_of =
        |page: &crate::support::Reply| page.header("content-security-policy").unwrap().split("'nonce-").nth(1).unwrap().split('\'').next().unwrap().to_owned();
    let page = c.get("/sign-in").await;
    // The session timer is on signed-in pages only.
    let signed_in = portal.client();
    signed_in.sign_in("alice", DEMO_PASSWORD, "patient").await;
    let home = signed_in.get("/home").await;
    for script in app::layout::scripts::ALL.iter() {
        let path = script.path();
        let loaded_by = |page: &crate::support::Reply| page.body.contains(&format!(r#"<script src="{path}" nonce="{}" defer"#, nonce_of(page)));
        assert!(loaded_by(&page) || loaded_by(&home), "the sign-in page or home loads {path} with its nonce: {}", page.body);
        let file = c.get(path).await;
        assert_eq!(file.status, 200, "{path}");
        assert_eq!(file.header("content-type"), Some("text/javascript; charset=utf-8"), "{path}");
        assert_eq!(file.header("cache-control"), Some("public, max-age=31536000, immutable"), "{path}");
        assert_eq!(file.body, script.source, "{path}");
        assert!(file.header("set-cookie").is_none(), "{path}");
        assert!(!page.body.contains(script.source.lines().next().unwrap()), "{path} is no longer inlined");
        // Another hash is another file: a page of an older build never gets today's script.
        let stale = path.replace(&path[path.len() - 19..path.len() - 3], "0000000000000000");
        assert_eq!(c.get(&stale).await.status, 404, "{stale}");
    }
    // Inline, only Leptos's own (its island loader and resource bookkeeping) and our one-line
    // `html.js` marker.
    let ours: Vec<&str> = page
        .body
        .split("<script")
        .skip(1)
        .filter_map(|s| Some(&s[s.find('>')? + 1..s.find("</script>")?]))
        .filter(|text| {
            !text.is_empty() && !text.contains("__hydrateIsland") && !text.starts_with("__RESOLVED_RESOURCES") && !text.starts_with("__INCOMPLETE_CHUNKS")
        })
        .collect();
    assert_eq!(ours, ["document.documentElement.classList.add('js')"], "inline scripts of ours on /sign-in");
    portal.stop().await;
}

/// The WASM (Leptos's island script, its JS glue and the WASM file) loads on the pages that have
/// an island, and only there: not on the sign-in page, whose first view it would be most of.
async fn the_wasm_loads_only_where_an_island_is(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    let check = |path: &str, body: &str| {
        let island = body.contains("<leptos-island");
        let wasm = body.contains(".wasm\"") && body.contains("__hydrateIsland");
        assert_eq!(island, wasm, "{path}: an island {island}, the WASM {wasm}");
        island
    };
    for path in PUBLIC_PAGES {
        let r = c.get(path).await;
        assert!(!check(path, &r.body), "{path} has no island");
    }
    c.sign_in("alice", DEMO_PASSWORD, "patient").await;
    // The session timer is on every signed-in page, as a small script: the WASM only where an
    // island is (issue 16: home after signing in under 100 kB).
    let timer = app::layout::scripts::SESSION_TIMER.path();
    for path in PATIENT_PAGES {
        let r = c.get(path).await;
        assert!(!check(path, &r.body), "{path} has no island");
        assert!(r.body.contains("id=\"session-timer\"") && r.body.contains(timer), "{path} has the session timer");
    }
    for path in ["/account/password"] {
        let r = c.get(path).await;
        assert!(check(path, &r.body), "{path}: the password meter is an island");
        assert!(r.body.contains(timer), "{path} has the session timer");
    }
    portal.stop().await;
}

// The leak was in the HTTP layer, whatever the database: checked on SQLite only. (On
// PostgreSQL, beside the whole suite on two cores, some of the 100 simultaneous page renders
// waited past the client's 30 s time-out; see the closing note of issue 4.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_never_carry_a_page_s_headers_sqlite() {
    static_files_never_carry_a_page_s_headers(Backend::Sqlite).await;
}

on_both_databases!(
    every_route_carries_the_security_headers,
    our_scripts_are_hashed_files_cached_for_good,
    the_wasm_loads_only_where_an_island_is,
    hsts_and_secure_cookies_when_served_over_tls,
    private_things_are_refused_without_a_session,
    cross_site_posts_are_refused,
    redirects_built_from_input_with_cr_lf_are_refused,
);

/// Issue 14, point 10: an address to send the browser on to that is built from a posted field
/// (here the enrolment request's id) cannot split the response: CR/LF in it answers 400, sets no
/// header of the attacker's, and the portal goes on serving (leptos_axum's redirect panicked).
async fn redirects_built_from_input_with_cr_lf_are_refused(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let desk = portal.client();
    assert_eq!(desk.sign_in("frontdesk", DEMO_PASSWORD, "staff").await.location(), Some("/staff"));
    for id in ["x\r\nSet-Cookie: evil=1", "x\nLocation: https://evil.example/", "x\r"] {
        let r = desk.post_form("/api/enrolment/approve", &[("request_id", id), ("link_to", "no-such-record")]).await;
        assert_eq!(r.status, 400, "{id:?}: {}", r.body);
        // leptos_axum echoes the form's Referer as Location on a form post that set none; with a
        // 400 a browser does not follow it. Nothing of the posted id reaches a header.
        assert!(r.location().is_none_or(|l| l.starts_with(&format!("{}/sign-in", desk.base))), "{id:?}: {:?}", r.location());
        assert!(r.headers.values().all(|v| !v.to_str().unwrap_or("").contains("evil")), "{id:?}");
        assert!(r.headers.get_all("set-cookie").iter().all(|c| !c.to_str().unwrap_or("").contains("evil")), "{id:?}");
        let r = desk.call_form("/api/enrolment/approve", &[("request_id", id), ("link_to", "no-such-record")]).await;
        assert_eq!(r.status, 400, "{id:?} (a server-function call): {}", r.body);
    }
    // An ordinary id still goes back to its page with the reason.
    let r = desk.post_form("/api/enrolment/approve", &[("request_id", "no-such-request"), ("link_to", "no-such-record")]).await;
    assert_eq!(r.location(), Some("/staff/enrolment/no-such-request?error=choose"), "{}", r.body);
    assert_eq!(desk.get("/staff").await.status, 200, "the portal goes on serving");
    portal.stop().await;
}
