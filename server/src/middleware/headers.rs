//! Security headers on every response (SPEC R-GEN-2, R-GEN-3). Pages set their own
//! Content-Security-Policy with a nonce; everything else gets one that allows nothing.
//! Nothing personal may be cached: only the fingerprinted files under `/pkg` and the public
//! icons are cacheable.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use http::{header, HeaderName, HeaderValue};

#[derive(Clone, Copy)]
pub struct HeaderPolicy {
    pub hsts: bool,
}

const PUBLIC_ASSETS: &[&str] = &["/favicon.svg", "/favicon.ico", "/manifest.webmanifest", "/icon-192.png", "/icon-512.png", "/robots.txt"];

pub async fn security_headers(State(policy): State<HeaderPolicy>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Same-origin keeps the Referer that plain (no-JS) form posts need to return to their page,
    // and sends nothing to any other site.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"),
    );
    h.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    h.insert(HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("same-origin"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"));
    }
    if policy.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    }
    let ok = res.status().is_success() || res.status() == http::StatusCode::NOT_MODIFIED;
    let h = res.headers_mut();
    if path.starts_with("/pkg/") && ok {
        // File names carry a hash of their contents (cargo-leptos hash-files).
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    } else if PUBLIC_ASSETS.contains(&path.as_str()) && ok {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    } else {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, max-age=0"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        h.insert(header::EXPIRES, HeaderValue::from_static("0"));
    }
    res
}
