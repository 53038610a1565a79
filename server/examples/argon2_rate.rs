//! How many argon2id password verifications per second this machine manages with every core
//! busy, using the portal's own parameters: the ceiling for sign-ins per second. `scripts/bench`
//! runs it and compares the server's sign-in rate with it.
//!
//!   cargo run --release -p server --features ssr --example argon2_rate [-- SECONDS [THREADS]]
//!
//! Prints one line of JSON: threads, seconds, verifications, per_second, and the median time of
//! one verification on an otherwise idle thread (ms_single).

use app::platform::passwords::{hash_blocking, verify_blocking};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "demo-portal-2026";

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let threads: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));

    let hash: Arc<str> = hash_blocking(PASSWORD).into();
    assert!(verify_blocking(PASSWORD, &hash), "the hash just made must verify");

    // One thread alone, a few times: the latency of one verification.
    let mut single: Vec<f64> = (0..7)
        .map(|_| {
            let t = Instant::now();
            assert!(verify_blocking(PASSWORD, &hash));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    single.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let ms_single = single[single.len() / 2];

    // Every core at once, for `seconds`: the throughput.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (stop, done, hash) = (stop.clone(), done.clone(), hash.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    assert!(verify_blocking(PASSWORD, &hash));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker panicked");
    }
    // Count the verifications that finished after the signal too, over the whole elapsed time.
    let elapsed = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!("{{\"threads\":{threads},\"seconds\":{elapsed:.3},\"verifications\":{n},\"per_second\":{:.2},\"ms_single\":{ms_single:.2}}}", n as f64 / elapsed);
}
