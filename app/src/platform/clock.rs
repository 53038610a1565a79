//! The portal's clock. Every rule that depends on time (sessions, throttles, codes, due dates,
//! maintenance and video-visit windows) asks the clock of the state it runs with, so a test can
//! set the time instead of racing the wall clock (a code computed twice across a 30-second
//! boundary, a window that opens a second late).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system's clock. `Some`: a time set by a test, in ms since the epoch.
    fixed: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system's clock (what every deployed portal runs with).
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// A clock that shows `at` (ms since the epoch) until it is set again or moved on.
    pub fn fixed_at(at: i64) -> Clock {
        Clock { fixed: Some(Arc::new(AtomicI64::new(at))) }
    }

    /// Milliseconds since the Unix epoch, UTC.
    pub fn now_ms(&self) -> i64 {
        match &self.fixed {
            Some(at) => at.load(Ordering::SeqCst),
            None => super::now_ms(),
        }
    }

    /// Sets a fixed clock to `at`; a system clock cannot be set (it is a no-op there).
    pub fn set(&self, at: i64) {
        if let Some(fixed) = &self.fixed {
            fixed.store(at, Ordering::SeqCst);
        }
    }

    /// Moves a fixed clock on by `ms`.
    pub fn advance(&self, ms: i64) {
        if let Some(fixed) = &self.fixed {
            fixed.fetch_add(ms, Ordering::SeqCst);
        }
    }

    pub fn is_fixed(&self) -> bool {
        self.fixed.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_told_and_clones_share_it() {
        let c = Clock::fixed_at(1_000);
        let seen_by_the_server = c.clone();
        assert_eq!(seen_by_the_server.now_ms(), 1_000);
        c.advance(30_000);
        assert_eq!(seen_by_the_server.now_ms(), 31_000);
        c.set(5);
        assert_eq!(seen_by_the_server.now_ms(), 5);
        assert!(Clock::system().now_ms() > 1_700_000_000_000);
    }
}
