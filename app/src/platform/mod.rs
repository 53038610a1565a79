//! Server-side infrastructure that every feature uses: the database, settings, password
//! hashing, random tokens, the shared state handed to server functions, and the request context.

pub mod clock;
pub mod context;
pub mod db;
pub mod multipart;
pub mod passwords;
pub mod rate;
pub mod request;
pub mod sealing;
pub mod settings;
pub mod state;
pub mod tokens;

/// Milliseconds since the Unix epoch, UTC. Every timestamp in the database is one of these.
pub fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}
