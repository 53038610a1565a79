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

    /// The rule this clock exists for: no code of the portal reads the machine's time itself,
    /// or a test that fixes the clock would race whatever did (issue 17: a second-step test
    /// failed when a 30-second step boundary fell between two reads of the wall clock).
    #[test]
    fn no_rule_reads_the_wall_clock_itself() {
        // Where the machine's time is the point: the clock itself, and the SMART client
        // assertion, whose lifetime the EHR's authorisation server checks against real time.
        const ALLOWED: [&str; 3] = ["app/src/platform/mod.rs", "app/src/platform/clock.rs", "app/src/record/remote.rs"];
        const WALL_CLOCK: [&str; 4] = ["SystemTime::now(", "Timestamp::now(", "Zoned::now(", "Utc::now("];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["app/src", "server/src"] {
            collect(&root.join(dir), &mut files);
        }
        assert!(files.len() > 100, "the sources were found ({} files)", files.len());
        let mut found = Vec::new();
        for file in files {
            let name = file.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            if ALLOWED.contains(&name.as_str()) {
                continue;
            }
            for (n, line) in std::fs::read_to_string(&file).unwrap().lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                // `now_ms()` not called on a clock (`state.clock.now_ms()`) is the wall clock's.
                let bare_now = code.match_indices("now_ms()").any(|(at, _)| !code[..at].ends_with('.'));
                if bare_now || WALL_CLOCK.iter().any(|w| code.contains(w)) {
                    found.push(format!("{name}:{}: {}", n + 1, line.trim()));
                }
            }
        }
        assert!(found.is_empty(), "read the portal's clock (`ctx.now`, `state.clock.now_ms()`) instead:\n{}", found.join("\n"));
    }

    fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
}
