//! Server-side infrastructure that every feature uses and that knows no feature: the database,
//! the clock, password hashing, random tokens, sealing, rate limits, the request's session and
//! address, and the bounded multipart reader. The composition root above the features holds
//! what names them: the shared state (`crate::state`), the settings (`crate::settings`) and the
//! typed request context (`crate::context`).

pub mod clock;
pub mod db;
pub mod multipart;
pub mod paging;
pub mod passwords;
pub mod rate;
pub mod request;
pub mod sealing;
pub mod throttle;
pub mod tokens;

/// Milliseconds since the Unix epoch, UTC, on the machine's clock. Every timestamp in the
/// database is one of these. Rules ask the state's `clock` (`clock::Clock`, which tests can fix)
/// instead; this one is what a system clock reads.
pub fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}
