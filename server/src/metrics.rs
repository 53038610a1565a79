//! Prometheus metrics, in the text exposition format, on a listener of their own
//! (`PORTAL_METRICS_ADDR`, off by default) so that they never reach the public side of the load
//! balancer. Requests are counted and timed by route pattern (`/messages/{id}`, never the path
//! with its ids); server functions by their fixed path. Nothing personal is ever a label.
//!
//! Written by hand: a counter map and fixed-bucket histograms under one mutex cost a few
//! hundred nanoseconds per request, and the format is a few lines of text.

use app::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The route a request matched, set on the response by [`label_route`].
#[derive(Clone)]
pub struct RoutePattern(pub String);

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Recorded {
    /// (route, method, status) → requests
    requests: BTreeMap<(String, String, u16), u64>,
    /// (route, method) → latency
    latency: BTreeMap<(String, String), Histogram>,
}

#[derive(Default)]
pub struct Metrics {
    recorded: Mutex<Recorded>,
}

impl Metrics {
    pub fn record(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let mut r = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        *r.requests.entry((route.to_string(), method.to_string(), status)).or_default() += 1;
        let h = r.latency.entry((route.to_string(), method.to_string())).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// The request metrics in the exposition format.
    pub fn render_requests(&self, out: &mut String) {
        let r = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# HELP portal_http_requests_total HTTP requests answered, by route pattern, method and status.\n");
        out.push_str("# TYPE portal_http_requests_total counter\n");
        for ((route, method, status), n) in &r.requests {
            let _ = writeln!(out, "portal_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}", label(route), label(method));
        }
        out.push_str("# HELP portal_http_request_duration_seconds Time to answer HTTP requests, by route pattern and method.\n");
        out.push_str("# TYPE portal_http_request_duration_seconds histogram\n");
        for ((route, method), h) in &r.latency {
            let (route, method) = (label(route), label(method));
            for (bound, n) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(out, "portal_http_request_duration_seconds_bucket{{route=\"{route}\",method=\"{method}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "portal_http_request_duration_seconds_bucket{{route=\"{route}\",method=\"{method}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "portal_http_request_duration_seconds_sum{{route=\"{route}\",method=\"{method}\"}} {}", h.sum);
            let _ = writeln!(out, "portal_http_request_duration_seconds_count{{route=\"{route}\",method=\"{method}\"}} {}", h.count);
        }
    }
}

/// A label value, escaped as the format requires.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn server_fn_paths() -> &'static HashSet<String> {
    static PATHS: OnceLock<HashSet<String>> = OnceLock::new();
    PATHS.get_or_init(|| leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p.to_string()).collect())
}

/// Route layer: names the route the request matched, on its response. Server functions share
/// one axum route; each is named by its own path when it is one of ours (a fixed set), so that
/// made-up paths cannot grow the set of labels.
pub async fn label_route(req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let path = req.uri().path().to_string();
    let mut res = next.run(req).await;
    let route = match matched {
        Some(m) if m == "/api/{*fn_name}" => {
            if server_fn_paths().contains(&path) {
                path
            } else {
                "/api/(unknown)".to_string()
            }
        }
        Some(m) => m,
        None => return res,
    };
    res.extensions_mut().insert(RoutePattern(route));
    res
}

/// Outermost layer: counts and times every request.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_string();
    let site_file = req.uri().path().starts_with("/pkg/");
    let res = next.run(req).await;
    let route = match res.extensions().get::<RoutePattern>() {
        Some(r) => r.0.clone(),
        // Not one of the routes: a file of the site, or a page that does not exist.
        None if site_file => "/pkg/(file)".to_string(),
        None => "(file or not found)".to_string(),
    };
    let method = match method.as_str() {
        "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" => method,
        _ => "other".to_string(),
    };
    metrics.record(&route, &method, res.status().as_u16(), start.elapsed().as_secs_f64());
    res
}

/// Everything, at scrape time: the request metrics, refused sign-ins, and the outbox's backlog
/// (from the database, so every server reports the same figures for it).
async fn scrape(State((metrics, state)): State<(Arc<Metrics>, AppState)>) -> Response {
    let mut out = String::new();
    metrics.render_requests(&mut out);
    out.push_str(
        "# HELP portal_sign_in_refusals_total Sign-ins this server refused, by reason (failed: wrong or unknown credentials, access ended; throttled).\n",
    );
    out.push_str("# TYPE portal_sign_in_refusals_total counter\n");
    let failed = app::sign_in::server::REFUSED_FAILED.load(Ordering::Relaxed);
    let throttled = app::sign_in::server::REFUSED_THROTTLED.load(Ordering::Relaxed);
    let _ = writeln!(out, "portal_sign_in_refusals_total{{reason=\"failed\"}} {failed}");
    let _ = writeln!(out, "portal_sign_in_refusals_total{{reason=\"throttled\"}} {throttled}");
    let now = state.clock.now_ms();
    let backlog =
        sqlx::query_as::<_, (i64, Option<i64>)>("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
            .fetch_one(&state.db.pool)
            .await;
    match backlog {
        Ok((n, oldest)) => {
            out.push_str("# HELP portal_outbox_pending E-mail notices waiting to be sent.\n# TYPE portal_outbox_pending gauge\n");
            let _ = writeln!(out, "portal_outbox_pending {n}");
            out.push_str("# HELP portal_outbox_oldest_pending_seconds Age of the oldest notice waiting to be sent (0 when none).\n# TYPE portal_outbox_oldest_pending_seconds gauge\n");
            let age = oldest.map(|o| (now - o).max(0) as f64 / 1000.0).unwrap_or(0.0);
            let _ = writeln!(out, "portal_outbox_oldest_pending_seconds {age}");
            out.push_str(
                "# HELP portal_database_up Whether the database answered the scrape's query.\n# TYPE portal_database_up gauge\nportal_database_up 1\n",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics: could not read the outbox");
            out.push_str(
                "# HELP portal_database_up Whether the database answered the scrape's query.\n# TYPE portal_database_up gauge\nportal_database_up 0\n",
            );
        }
    }
    ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}

/// The metrics listener's router: `/metrics` only.
pub fn router(metrics: Arc<Metrics>, state: AppState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state((metrics, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_falls_in_every_bucket_from_its_duration_up() {
        let m = Metrics::default();
        m.record("/messages/{id}", "GET", 200, 0.03);
        m.record("/messages/{id}", "GET", 200, 0.2);
        m.record("/messages/{id}", "GET", 404, 40.0);
        let mut out = String::new();
        m.render_requests(&mut out);
        assert!(out.contains("portal_http_requests_total{route=\"/messages/{id}\",method=\"GET\",status=\"200\"} 2\n"), "{out}");
        assert!(out.contains("portal_http_requests_total{route=\"/messages/{id}\",method=\"GET\",status=\"404\"} 1\n"), "{out}");
        assert!(out.contains("le=\"0.025\"} 0\n"), "{out}");
        assert!(out.contains("le=\"0.05\"} 1\n"), "{out}");
        assert!(out.contains("le=\"0.25\"} 2\n"), "{out}");
        assert!(out.contains("le=\"30\"} 2\n"), "{out}");
        assert!(out.contains("le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("portal_http_request_duration_seconds_count{route=\"/messages/{id}\",method=\"GET\"} 3\n"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
