//! A browser that refuses cookies cannot keep a session. It must be told so ("Please enable
//! cookies to sign in") instead of being sent back to the sign-in page without a word, on both
//! portals, without JavaScript; and a browser that keeps cookies must not be bothered.

use crate::on_both_databases;
use crate::support::{Backend, TestPortal, DEMO_PASSWORD};

/// A client that keeps no cookies at all, as a browser set to refuse them.
fn refusing_cookies() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn a_browser_that_refuses_cookies_is_told_to_enable_them(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let http = refusing_cookies();
    for (page, login, kind) in [("/sign-in", "alice", "patient"), ("/staff/sign-in", "drlee", "staff")] {
        let shown = http.get(format!("{}{page}", portal.base)).send().await.unwrap();
        assert_eq!(shown.status(), 200);
        assert!(shown.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("portal_cookies=1")), "the page leaves its cookie");
        // The right password: the session is opened, but its cookie will not come back.
        let posted = http
            .post(format!("{}/api/sign-in", portal.base))
            .header("origin", &portal.base)
            .header("accept", "text/html")
            .form(&[("user_id", login), ("password", DEMO_PASSWORD), ("portal", kind)])
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 302);
        let check = posted.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(check, format!("/sign-in/check?portal={kind}"));
        let checked = http.get(format!("{}{check}", portal.base)).header("accept", "text/html").send().await.unwrap();
        assert!(checked.status().is_redirection(), "{}", checked.status());
        let back = checked.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(back, format!("{page}?error=cookies"));
        let told = http.get(format!("{}{back}", portal.base)).send().await.unwrap().text().await.unwrap();
        assert!(told.contains("Please enable cookies to sign in."), "{told}");
    }
    portal.stop().await;
}

async fn a_browser_that_keeps_cookies_goes_straight_on(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    // From the sign-in page: straight to the home page.
    let c = portal.client();
    assert_eq!(c.sign_in("alice", DEMO_PASSWORD, "patient").await.location(), Some("/home"));
    // A form sent without the page first (a bookmark, an old tab) goes by the check, which finds
    // the session and sends on: to the home page, or to the step waiting.
    for (login, kind, to) in [("robert", "patient", "/home"), ("billing", "staff", "/staff")] {
        let c = portal.client();
        let r = c.post_form("/api/sign-in", &[("user_id", login), ("password", DEMO_PASSWORD), ("portal", kind)]).await;
        assert_eq!(r.location(), Some(format!("/sign-in/check?portal={kind}").as_str()));
        let r = c.get(r.location().unwrap()).await;
        assert_eq!(r.location(), Some(to));
        assert_eq!(c.get(to).await.status, 200);
    }
    let admin = portal.client();
    admin.sign_in("admin", DEMO_PASSWORD, "staff").await;
    admin.post_form("/api/second-step/policy", &[("clinician", "yes")]).await;
    let c = portal.client();
    c.post_form("/api/sign-in", &[("user_id", "drlee"), ("password", DEMO_PASSWORD), ("portal", "staff")]).await;
    assert_eq!(c.get("/sign-in/check?portal=staff").await.location(), Some("/staff/second-step"), "the step waiting");
    // The check takes no address from the request: nobody can be sent elsewhere through it.
    let anonymous = portal.client();
    assert_eq!(anonymous.get("/sign-in/check?portal=https://evil.example").await.location(), Some("/sign-in?error=cookies"));
    portal.stop().await;
}

on_both_databases!(a_browser_that_refuses_cookies_is_told_to_enable_them, a_browser_that_keeps_cookies_goes_straight_on);
