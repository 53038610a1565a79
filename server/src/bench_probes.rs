//! Measurements `scripts/bench` takes inside the release server binary (`server bench-probe …`,
//! hidden from the help), so that the benchmark builds one binary: as examples they needed a
//! second release build of every crate (their dev-dependencies change some crates' features).

use app::billing::pdf::{render, sample_statement, StatementDocument};
use app::platform::passwords::{hash_blocking, verify_blocking};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "demo-portal-2026";

/// How many argon2id verifications per second `threads` threads manage over `seconds`, with
/// the portal's own parameters: the ceiling for sign-ins per second. One line of JSON: threads,
/// seconds, verifications, per_second, and the median time of one verification on an otherwise
/// idle thread (ms_single).
pub fn argon2_rate(seconds: f64, threads: Option<usize>) -> String {
    let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));

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
    format!("{{\"threads\":{threads},\"seconds\":{elapsed:.3},\"verifications\":{n},\"per_second\":{:.2},\"ms_single\":{ms_single:.2}}}", n as f64 / elapsed)
}

/// (bytes, median ms, p99 ms) of `runs` renders.
fn measure(doc: &StatementDocument, runs: usize) -> (usize, f64, f64) {
    let docs = std::slice::from_ref(doc);
    let bytes = render(docs).len();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let pdf = render(docs);
            std::hint::black_box(pdf);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    (bytes, times[runs / 2], times[(runs * 99 / 100).min(runs - 1)])
}

/// How large a statement PDF is and how long it takes to make: a one-page statement (8 lines)
/// rendered 2,000 times and a long one (120 lines, several pages) 200 times, in memory, one at
/// a time; the sample statement the PDF's tests read back. One line of JSON.
pub fn statement_pdf() -> String {
    let (one_bytes, one_median, one_p99) = measure(&sample_statement(8), 2_000);
    let (three_bytes, three_median, three_p99) = measure(&sample_statement(120), 200);
    format!(
        "{{\"one_page_lines\":8,\"one_page_bytes\":{one_bytes},\"one_page_ms_median\":{one_median:.4},\"one_page_ms_p99\":{one_p99:.4},\
         \"long_lines\":120,\"long_bytes\":{three_bytes},\"long_ms_median\":{three_median:.4},\"long_ms_p99\":{three_p99:.4}}}"
    )
}
