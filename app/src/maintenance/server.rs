//! Maintenance windows in the database, and each app server's short-lived copy of the ones
//! that have not ended yet.
//!
//! Every request asks "is a window in progress?", so the answer is cached per server for
//! [`CACHE_TTL`] (a few seconds): a window scheduled or cancelled on one server reaches the
//! others within that time, and a window starts or ends on time to within it. The server where
//! the administrator made the change forgets its copy at once.

use super::{MaintenanceWindow, WindowState};
use crate::audit::{self, AuditAction, AuditEvent};
use crate::platform::db::Db;
use crate::platform::tokens;
use crate::types::UserId;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a server trusts its copy of the windows to come.
pub const CACHE_TTL: Duration = Duration::from_secs(5);

/// How long before a window patients are told about it.
pub const NOTICE_AHEAD_MS: i64 = 72 * 3600 * 1000;

/// A window as stored: times in milliseconds (UTC).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Window {
    pub id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub message: String,
    pub cancelled_at: Option<i64>,
}

impl Window {
    pub fn state(&self, now: i64) -> WindowState {
        if self.cancelled_at.is_some() {
            WindowState::Cancelled
        } else if now >= self.ends_at {
            WindowState::Past
        } else if now >= self.starts_at {
            WindowState::InProgress
        } else {
            WindowState::Upcoming
        }
    }

    /// Whole seconds until the window ends (at least 1), for `Retry-After`.
    pub fn seconds_left(&self, now: i64) -> u64 {
        ((self.ends_at - now).max(0) as u64).div_ceil(1000).max(1)
    }

    pub fn for_display(&self, zone: &jiff::tz::TimeZone, now: i64) -> MaintenanceWindow {
        MaintenanceWindow {
            id: self.id.clone(),
            starts_text: local_text(self.starts_at, zone),
            ends_text: local_text(self.ends_at, zone),
            message: self.message.clone(),
            state: self.state(now),
        }
    }
}

/// A time as people in the clinic read it: "Saturday, March 7, 2026, 10:00 PM EST".
pub fn local_text(ms: i64, zone: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_zoned(zone.clone()).strftime("%A, %B %-d, %Y, %-I:%M %p %Z").to_string(),
        Err(_) => String::new(),
    }
}

/// The windows that have not ended and were not cancelled, earliest first.
pub async fn not_ended(db: &Db, now: i64) -> Result<Vec<Window>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, starts_at, ends_at, message, cancelled_at FROM maintenance_windows \
         WHERE ends_at > $1 AND cancelled_at IS NULL ORDER BY starts_at",
    )
    .bind(now)
    .fetch_all(&db.pool)
    .await
}

/// Every window ending after `since` (cancelled ones too), latest start first: for the staff page.
pub async fn recent_and_coming(db: &Db, since: i64) -> Result<Vec<Window>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, starts_at, ends_at, message, cancelled_at FROM maintenance_windows \
         WHERE ends_at > $1 ORDER BY starts_at DESC LIMIT 200",
    )
    .bind(since)
    .fetch_all(&db.pool)
    .await
}

#[derive(Debug, PartialEq, Eq)]
pub enum ScheduleError {
    /// The end is not after the start, or has passed already.
    Times,
    /// No message, or a longer one than patients should have to read.
    Message,
}

pub const MAX_MESSAGE_CHARS: usize = 500;

/// Stores a new window (audited) and returns its id.
pub async fn schedule(
    db: &Db,
    actor: &UserId,
    starts_at: i64,
    ends_at: i64,
    message: &str,
    addr: Option<IpAddr>,
    now: i64,
) -> Result<Result<String, ScheduleError>, sqlx::Error> {
    if ends_at <= starts_at || ends_at <= now {
        return Ok(Err(ScheduleError::Times));
    }
    let message = message.trim();
    if message.is_empty() || message.chars().count() > MAX_MESSAGE_CHARS {
        return Ok(Err(ScheduleError::Message));
    }
    let id = tokens::new_id();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO maintenance_windows (id, starts_at, ends_at, message, created_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(starts_at)
    .bind(ends_at)
    .bind(message)
    .bind(now)
    .bind(actor.as_str())
    .execute(&mut *tx)
    .await?;
    let mut e = AuditEvent::of(AuditAction::MaintenanceScheduled);
    e.actor = Some(actor);
    e.record_type = Some("maintenance-window");
    e.record_id = Some(&id);
    e.client_addr = addr;
    audit::record(&mut tx, e, now).await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Cancels a window that has not ended (one in progress ends at once); audited. False when
/// there was no such window still to come or in progress.
pub async fn cancel(db: &Db, actor: &UserId, id: &str, addr: Option<IpAddr>, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE maintenance_windows SET cancelled_at = $1, cancelled_by = $2 \
         WHERE id = $3 AND cancelled_at IS NULL AND ends_at > $1",
    )
    .bind(now)
    .bind(actor.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if done {
        let mut e = AuditEvent::of(AuditAction::MaintenanceCancelled);
        e.actor = Some(actor);
        e.record_type = Some("maintenance-window");
        e.record_id = Some(id);
        e.client_addr = addr;
        audit::record(&mut tx, e, now).await?;
    }
    tx.commit().await?;
    Ok(done)
}

/// One server's copy of the windows that have not ended.
#[derive(Default)]
pub struct Schedule {
    cached: Mutex<Option<(Instant, Arc<Vec<Window>>)>>,
}

impl Schedule {
    /// The windows not yet ended, from the copy when it is fresh. When the database cannot be
    /// reached the last copy is used (or none): maintenance pages must not turn a database
    /// outage into a wrong answer for staff, and pages that need the database fail anyway.
    pub async fn windows(&self, db: &Db, now: i64) -> Arc<Vec<Window>> {
        let stale = {
            let cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
            match &*cached {
                Some((at, w)) if at.elapsed() < CACHE_TTL => return w.clone(),
                Some((_, w)) => Some(w.clone()),
                None => None,
            }
        };
        match not_ended(db, now).await {
            Ok(w) => {
                let w = Arc::new(w);
                *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), w.clone()));
                w
            }
            Err(e) => {
                tracing::error!(error = %e, "could not read the maintenance windows");
                stale.unwrap_or_default()
            }
        }
    }

    /// Forgets the copy (after a change made through this server).
    pub fn forget(&self) {
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The window in progress, if any.
    pub async fn in_progress(&self, db: &Db, now: i64) -> Option<Window> {
        self.windows(db, now).await.iter().find(|w| w.starts_at <= now && now < w.ends_at).cloned()
    }

    /// The window to announce, from the copy as it is (no database query): for rendering, after
    /// the maintenance middleware refreshed the copy for the request.
    pub fn announced_cached(&self, now: i64) -> Option<Window> {
        let cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        let (_, windows) = cached.as_ref()?;
        windows.iter().find(|w| now < w.starts_at && w.starts_at - now <= NOTICE_AHEAD_MS).cloned()
    }

    /// The next window patients should be told about: starting within [`NOTICE_AHEAD_MS`].
    pub async fn announced(&self, db: &Db, now: i64) -> Option<Window> {
        self.windows(db, now).await.iter().find(|w| now < w.starts_at && w.starts_at - now <= NOTICE_AHEAD_MS).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(starts_at: i64, ends_at: i64) -> Window {
        Window { id: "w".into(), starts_at, ends_at, message: "m".into(), cancelled_at: None }
    }

    #[test]
    fn a_window_is_upcoming_then_in_progress_then_past() {
        let win = w(1_000, 5_000);
        assert_eq!(win.state(999), WindowState::Upcoming);
        assert_eq!(win.state(1_000), WindowState::InProgress);
        assert_eq!(win.state(4_999), WindowState::InProgress);
        assert_eq!(win.state(5_000), WindowState::Past);
        assert_eq!(Window { cancelled_at: Some(2_000), ..win }.state(3_000), WindowState::Cancelled);
    }

    #[test]
    fn retry_after_counts_whole_seconds_up_to_the_end() {
        let win = w(0, 10_500);
        assert_eq!(win.seconds_left(0), 11);
        assert_eq!(win.seconds_left(10_000), 1);
        assert_eq!(win.seconds_left(10_499), 1);
    }

    #[test]
    fn times_are_shown_in_the_clinics_zone() {
        let zone = jiff::tz::TimeZone::get("America/New_York").unwrap();
        // 2026-03-08 03:00 UTC is 10 pm the evening before in New York.
        let ms = jiff::Timestamp::from_second(1_772_938_800).unwrap().as_millisecond();
        assert_eq!(local_text(ms, &zone), "Saturday, March 7, 2026, 10:00 PM EST");
    }
}
