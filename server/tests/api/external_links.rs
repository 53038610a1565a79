//! Links to other sites and the Notice of Privacy Practices against the running server, on both
//! databases (SPEC R-GEN-6, R-GEN-7): an outside link is marked and goes through the leaving
//! page; the leaving page names the host and links on only for a destination the portal signed
//! (altered, forged, unsigned, `javascript:` and `data:` targets get a 400 page with no link and
//! no redirect); the signing key is the same for every server of a database; the privacy notice
//! (sample or the organisation's own) is on its page and linked from every layout's footer and
//! from the terms.

use crate::on_both_databases;
use crate::support::{Backend, Client, TestPortal, DEMO_PASSWORD};

async fn signed_in(portal: &TestPortal, login: &str, kind: &str) -> Client {
    let c = portal.client();
    let r = c.sign_in(login, DEMO_PASSWORD, kind).await;
    assert_eq!(r.status, 302, "{login} signs in: {}", r.body);
    c
}

/// Every `href` of a page that leads to the leaving page, unescaped.
fn leaving_links(html: &str) -> Vec<String> {
    html.match_indices("href=\"/leaving?")
        .map(|(i, _)| {
            let rest = &html[i + 6..];
            rest[..rest.find('"').unwrap()].replace("&amp;", "&")
        })
        .collect()
}

fn leaving_path(to: &str, sig: &str, back: Option<&str>) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("to", to).append_pair("sig", sig);
    if let Some(b) = back {
        q.append_pair("back", b);
    }
    format!("/leaving?{}", q.finish())
}

fn query_param(path: &str, name: &str) -> Option<String> {
    url::Url::parse(&format!("http://portal.test{path}")).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The privacy notice's outside link (the complaints office) is marked and goes through the
/// leaving page, which shows the host and Continue to exactly that address without Referer;
/// anything else in `to` or `sig` is refused with a 400 page that links nowhere outside.
async fn the_leaving_page_follows_only_signed_links(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    let privacy = c.get("/privacy").await;
    assert_eq!(privacy.status, 200);
    let links = leaving_links(&privacy.body);
    assert_eq!(links.len(), 1, "the complaints office's link: {}", privacy.body);
    let link = &links[0];
    assert!(privacy.body.contains("rel=\"external noopener\""), "marked as external");
    assert!(privacy.body.contains("(opens another site)"), "says so in its text");
    assert!(!privacy.body.contains("href=\"https://www.hhs.gov"), "never a direct outside link");
    let to = query_param(link, "to").unwrap();
    let sig = query_param(link, "sig").unwrap();
    assert_eq!(to, "https://www.hhs.gov/ocr/complaints/");
    assert_eq!(query_param(link, "back").as_deref(), Some("/privacy"));

    let page = c.get(link).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<strong>www.hhs.gov</strong>"), "the host, prominent: {}", page.body);
    assert!(page.body.contains("not responsible"), "{}", page.body);
    assert!(page.body.contains("href=\"https://www.hhs.gov/ocr/complaints/\" rel=\"external noopener noreferrer\""), "{}", page.body);
    assert!(page.body.contains("href=\"/privacy\""), "Back");
    assert!(page.header("location").is_none(), "a page, not a redirect");

    // Refused: the portal's signature on another address, an altered one, a forged or missing
    // signature, another key's signature, addresses that are not http(s) (even signed by the
    // portal's own key, which the portal never does).
    let other_key = app::external_links::server::LinkKey::from_bytes([9; 32]);
    let key = &portal.state.link_key;
    let refused = [
        leaving_path("https://evil.example/", &sig, None),
        leaving_path("https://www.hhs.gov/ocr/complaints/x", &sig, None),
        leaving_path("https://www.hhs.gov.evil.example/ocr/complaints/", &sig, None),
        leaving_path(&to, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", None),
        leaving_path(&to, "", None),
        format!("/leaving?to={}", url::form_urlencoded::byte_serialize(to.as_bytes()).collect::<String>()),
        "/leaving".to_string(),
        leaving_path("https://evil.example/", &other_key.sign("https://evil.example/"), None),
        leaving_path("javascript:alert(document.cookie)", &key.sign("javascript:alert(document.cookie)"), None),
        leaving_path("data:text/html,<script>alert(1)</script>", &key.sign("data:text/html,<script>alert(1)</script>"), None),
        leaving_path("https://user@evil.example/", &key.sign("https://user@evil.example/"), None),
        // Not the normalised form the portal signs.
        leaving_path("HTTPS://EVIL.EXAMPLE", &key.sign("HTTPS://EVIL.EXAMPLE"), None),
    ];
    for path in refused {
        let r = c.get(&path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(r.header("location").is_none(), "{path}: no redirect");
        assert!(r.body.contains("This link cannot be followed"), "{path}");
        for outside in ["href=\"https:", "href=\"http:", "href=\"javascript", "href=\"data"] {
            assert!(!r.body.contains(outside), "{path}: no outside link ({outside})");
        }
    }

    // The portal's own key signs it: the page works. Back accepts only a path on the portal.
    let signed = leaving_path("https://example.org/a?b=1", &key.sign("https://example.org/a?b=1"), Some("//evil.example/x"));
    let r = c.get(&signed).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!r.body.contains("href=\"//evil.example"), "Back never leaves the portal");
    assert!(r.body.contains("href=\"/\""), "Back to the start page when signed out");

    // Signed in, Back defaults to the person's home.
    let alice = signed_in(&portal, "alice", "patient").await;
    let signed = leaving_path("https://example.org/", &key.sign("https://example.org/"), None);
    let r = alice.get(&signed).await;
    assert!(r.body.contains("href=\"/home\""), "{}", r.body);
    portal.stop().await;
}

/// Issue 14, point 7: the leaving page's key is derived from the secrets key file, which every
/// app server shares, and is nowhere in the database: a server started on the same key file signs
/// alike, another installation (another key file) does not, and a key found in the database (as
/// kept before, row `external-links` of `portal_keys`) signs nothing the portal accepts. So a copy
/// of the database, or someone able to write to it, cannot forge a leaving link.
async fn leaving_links_are_signed_under_the_secrets_key_not_the_database(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let url = "https://video.example.org/room/1";
    let same_file = app::external_links::server::LinkKey::from_secrets(&portal.state.sealing);
    assert_eq!(same_file.sign(url), portal.state.link_key.sign(url));
    let options = leptos::prelude::LeptosOptions::builder().output_name("portal").site_root("target/site").build();
    let second_server = server::startup::state(&portal.config, options).await.expect("a second server on the same key file");
    assert_eq!(second_server.link_key.sign(url), portal.state.link_key.sign(url), "every server sharing the key file signs alike");
    drop(second_server);
    let keys: Vec<String> = sqlx::query_scalar("SELECT name FROM portal_keys").fetch_all(&portal.state.db.pool).await.unwrap();
    assert_eq!(keys, ["secrets-key-fingerprint"], "no signing key in the database");

    // A key planted in the database, as the portal kept it before: its signatures are refused.
    let planted = [0x42u8; 32];
    sqlx::query("INSERT INTO portal_keys (name, secret, created_at) VALUES ('external-links', $1, 0)")
        .bind(planted.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .execute(&portal.state.db.pool)
        .await
        .unwrap();
    let forged = app::external_links::server::LinkKey::from_bytes(planted);
    let c = portal.client();
    assert_eq!(c.get(&leaving_path("https://evil.example/", &forged.sign("https://evil.example/"), None)).await.status, 400);
    assert_eq!(c.get(&leaving_path(url, &portal.state.link_key.sign(url), None)).await.status, 200);

    let other = TestPortal::start(backend).await;
    assert_ne!(other.state.link_key.sign(url), portal.state.link_key.sign(url), "each installation has its own key");
    other.stop().await;
    portal.stop().await;
}

/// The sample notice, with the organisation's name and contact filled in and every section;
/// linked from the footer of public, patient and staff pages and from the terms.
async fn the_privacy_notice_is_on_its_page_and_linked_everywhere(backend: Backend) {
    let portal = TestPortal::start(backend).await;
    let c = portal.client();
    let page = c.get("/privacy").await;
    assert_eq!(page.status, 200);
    for needed in [
        "<h1>Notice of Privacy Practices</h1>",
        "Test Clinic",
        "(555) 010-0199",
        "1 Test Street",
        "How we use and disclose health information about you",
        "Your rights",
        "Our duties",
        "Complaints",
        "Contact",
        "Effective date",
    ] {
        assert!(page.body.contains(needed), "{needed}: {}", page.body);
    }
    assert!(!page.body.contains("{organisation}") && !page.body.contains("**"), "placeholders and marks are rendered");
    assert_eq!(page.body.matches("<h1").count(), 1);

    let footer_link = "href=\"/privacy\"";
    for path in ["/sign-in", "/help", "/terms", "/enrol"] {
        let r = c.get(path).await;
        assert!(r.body.contains(footer_link), "{path} links the notice");
    }
    let terms = c.get("/terms").await;
    assert!(terms.body.matches(footer_link).count() >= 2, "the terms' own text links it, besides the footer");
    let alice = signed_in(&portal, "alice", "patient").await;
    for path in ["/home", "/visits", "/billing"] {
        let r = alice.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.contains(footer_link), "{path} links the notice");
    }
    let staff = signed_in(&portal, "frontdesk", "staff").await;
    for path in ["/staff", "/staff/visits"] {
        let r = staff.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.contains(footer_link), "{path} links the notice");
    }
    portal.stop().await;
}

/// `PORTAL_PRIVACY_NOTICE_FILE`'s text replaces the sample (its own heading, the organisation's
/// name filled in), and is never inserted as HTML.
async fn the_organisations_own_notice_replaces_the_sample(backend: Backend) {
    let portal = TestPortal::start_with(backend, |config| {
        config.portal.organisation.privacy_notice =
            Some("# Our privacy notice\n\n## Your rights\n\nText of {organisation}. <script>alert(1)</script>\n\n- One\n- Two".into());
    })
    .await;
    let page = portal.client().get("/privacy").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h1>Our privacy notice</h1>"), "{}", page.body);
    assert!(page.body.contains("Text of Test Clinic."));
    assert!(page.body.contains("<li>One</li>"));
    assert!(!page.body.contains("<script>alert(1)</script>"), "escaped, not HTML");
    assert!(!page.body.contains("sample notice"));
    portal.stop().await;
}

on_both_databases!(
    the_leaving_page_follows_only_signed_links,
    leaving_links_are_signed_under_the_secrets_key_not_the_database,
    the_privacy_notice_is_on_its_page_and_linked_everywhere,
    the_organisations_own_notice_replaces_the_sample,
);
