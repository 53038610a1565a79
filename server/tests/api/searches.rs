//! Staff searches by name, birth date or record number are posted, never put in an address
//! (issue 14, point 13): no URL (so no server or proxy log, no browser history, no bookmark)
//! carries what was searched for. Every search page posts its form to itself and answers with the
//! results, the form keeping what was typed and a status line saying how many matched; an old
//! address with `?q=` does not search and leads to the page without the term; the posted search
//! is still a request of the person signed in (session, role, origin).

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login} signs in");
    c
}

/// Each search page, who searches there, a term, and what the results show for it.
const SEARCHES: &[(&str, &str, &str, &str)] = &[
    ("/staff/patients", "frontdesk", "Johnson", "Alice Johnson"),
    ("/staff/patients", "frontdesk", "1948-03-12", "Alice Johnson"),
    ("/staff/billing", "billing", "MRN100001", "Alice Johnson"),
    ("/staff/questionnaires", "drlee", "Johnson", "Alice Johnson"),
    ("/staff/care-teams", "admin", "MRN100001", "Alice Johnson"),
];

async fn staff_searches_are_posted_never_in_the_address(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    for (path, login, term, result) in SEARCHES {
        let c = signed_in(&portal, login, "staff").await;
        // The form posts to the page itself; no search form on it is sent as a GET.
        let page = c.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(&format!("<form method=\"post\" action=\"{path}\" role=\"search\"")), "{path}: {}", page.body);
        assert!(!page.body.contains("method=\"get\""), "{path} has a GET form");
        assert!(!page.body.contains(result), "{path}: nothing found before searching");

        // The search: a POST to the page, answered with the results, the term kept in the field
        // and a status line saying how many matched; the address stays the page's.
        let found = c.post_form(path, &[("q", term)]).await;
        assert_eq!(found.status, 200, "{path} {term}: {}", found.body);
        assert!(found.body.contains(result), "{path} finds {result} by {term}");
        assert!(found.body.contains(&format!("name=\"q\" type=\"search\" value=\"{term}\"")), "{path}: the form keeps {term}");
        assert!(found.body.contains("role=\"status\" class=\"notice notice--status\">1 patient matches."), "{path}: {}", found.body);
        assert!(!found.body.contains(&format!("q={term}")) && !found.body.contains(&"?q=".to_string()), "{path}: no link carries the term");
        let none = c.post_form(path, &[("q", "Zzyzx-nobody")]).await;
        assert!(none.body.contains("role=\"status\" class=\"notice notice--status\">No patient matches.") && !none.body.contains(result), "{path}");

        // An old address with the term does not search: it leads to the page without it.
        let old = c.get(&format!("{path}?q={term}")).await;
        assert_eq!(old.status, 303, "{path}?q=");
        assert_eq!(old.location(), Some(*path));
        assert!(!old.body.contains(result));
        let other = c.get(&format!("{path}?q={term}&done=x")).await;
        assert_eq!(other.location(), Some(format!("{path}?done=x").as_str()), "other parameters stay");

        // A posted search is a request like any other: from another site, refused; signed out,
        // the sign-in page.
        let r = c
            .http
            .post(format!("{}{path}", c.base))
            .header("origin", "https://evil.example")
            .header("accept", "text/html")
            .form(&[("q", term)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}: cross-site");
        assert!(!r.text().await.unwrap().contains(result));
        let anonymous = portal.client().post_form(path, &[("q", term)]).await;
        assert_eq!(anonymous.status, 303, "{path}");
        assert_eq!(anonymous.location(), Some("/staff/sign-in"));
    }
    // A role the page is not for finds nothing by posting to it.
    for (path, login) in [("/staff/patients", "billing"), ("/staff/billing", "frontdesk"), ("/staff/questionnaires", "billing"), ("/staff/care-teams", "drlee")]
    {
        let c = signed_in(&portal, login, "staff").await;
        let r = c.post_form(path, &[("q", "Johnson")]).await;
        assert!(!r.body.contains("Alice Johnson") && !r.body.contains("1948-03-12"), "{login} on {path}");
    }
    portal.stop().await;
}

on_both_databases!(staff_searches_are_posted_never_in_the_address);
