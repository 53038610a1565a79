//! Cross-site request forgery: server functions and forms change state with POST, and a
//! browser tells us where a POST came from. A state-changing request is accepted only when
//! its `Origin` is the portal's own (or, without `Origin`, `Sec-Fetch-Site` says same-origin).
//! A request with neither is refused: every browser this portal supports sends them.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header, Method, StatusCode};
use std::sync::Arc;

#[derive(Clone)]
pub struct OriginPolicy {
    /// `scheme://host[:port]` of the public URL.
    pub public_origin: Arc<str>,
    /// In development, also accept the origin the browser used to reach us (`Host`), so that
    /// both `localhost` and `127.0.0.1` work.
    pub accept_host_origin: bool,
}

pub fn allowed(policy: &OriginPolicy, method: &Method, headers: &http::HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    match origin {
        Some(origin) if origin == &*policy.public_origin => true,
        Some(origin) if policy.accept_host_origin => headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|host| origin == format!("http://{host}") || origin == format!("https://{host}")),
        Some(_) => false,
        None => fetch_site == Some("same-origin"),
    }
}

pub async fn check_origin(State(policy): State<OriginPolicy>, req: Request, next: Next) -> Response {
    if allowed(&policy, req.method(), req.headers()) {
        next.run(req).await
    } else {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "cross-site request refused");
        (StatusCode::FORBIDDEN, "This request came from another site and was refused.").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn policy(dev: bool) -> OriginPolicy {
        OriginPolicy { public_origin: "https://portal.example.org".into(), accept_host_origin: dev }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn reads_are_always_allowed() {
        assert!(allowed(&policy(false), &Method::GET, &headers(&[("origin", "https://evil.example")])));
    }

    #[test]
    fn posts_must_come_from_the_portal_itself() {
        let p = policy(false);
        assert!(allowed(&p, &Method::POST, &headers(&[("origin", "https://portal.example.org")])));
        assert!(!allowed(&p, &Method::POST, &headers(&[("origin", "https://evil.example")])));
        assert!(!allowed(&p, &Method::POST, &headers(&[("origin", "null")])));
        assert!(allowed(&p, &Method::POST, &headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!allowed(&p, &Method::POST, &headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!allowed(&p, &Method::POST, &headers(&[])));
    }

    #[test]
    fn development_accepts_the_host_the_browser_used() {
        let h = headers(&[("origin", "http://localhost:3000"), ("host", "localhost:3000")]);
        assert!(allowed(&policy(true), &Method::POST, &h));
        assert!(!allowed(&policy(false), &Method::POST, &h));
        let forged = headers(&[("origin", "http://evil.example"), ("host", "localhost:3000")]);
        assert!(!allowed(&policy(true), &Method::POST, &forged));
    }
}
