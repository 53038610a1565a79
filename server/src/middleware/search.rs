//! Staff searches by name, birth date or record number are posted to their page, never put in
//! an address (issue 14, point 13; the pages and the rule: `app::layout::search`). Here: the
//! page's answer to its posted form (the page rendered with the term in context), and old
//! addresses that still carry the term (`?q=`), sent on to the page without it.

use app::layout::search::{PostedSearch, SEARCH_FIELD, SEARCH_MAX, SEARCH_PAGES};
use app::state::AppState;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{Method, StatusCode};
use leptos::prelude::provide_context;

/// A search form is one short field; anything much longer is not one.
const FORM_MAX: usize = 16 * 1024;

/// The page of a posted search, rendered with what was typed (the session and origin checks ran
/// before, as for any request).
pub async fn posted(state: AppState, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_MAX).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.").into_response();
    };
    let term: String = url::form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == SEARCH_FIELD)
        .map(|(_, value)| value.trim().chars().take(SEARCH_MAX).collect())
        .unwrap_or_default();
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_async_with_context(
        move || {
            app::state::provide(&state);
            provide_context(PostedSearch(term.clone()));
        },
        move || app::shell(options.clone()),
    );
    render(Request::from_parts(parts, Body::empty())).await
}

/// An address of a search page that carries a search term (a bookmark, a link from before the
/// searches were posted) goes to the page without it, the other parameters kept: it does not
/// search, and the term leaves the address bar.
pub async fn drop_search_terms(req: Request, next: Next) -> Response {
    if req.method() == Method::GET && SEARCH_PAGES.contains(&req.uri().path()) {
        if let Some(query) = req.uri().query() {
            let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            if pairs.iter().any(|(name, _)| name == SEARCH_FIELD) {
                let kept: Vec<&(String, String)> = pairs.iter().filter(|(name, _)| name != SEARCH_FIELD).collect();
                let mut to = req.uri().path().to_string();
                if !kept.is_empty() {
                    to.push('?');
                    to.push_str(&url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish());
                }
                return Redirect::to(&to).into_response();
            }
        }
    }
    next.run(req).await
}
