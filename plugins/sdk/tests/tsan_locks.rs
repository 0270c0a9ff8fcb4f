//! `flb_plugin_sdk::sync::Mutex` hands what it guards from thread to thread visibly to
//! ThreadSanitizer. Meant for `make sanitize` (TSan, `--cfg flb_tsan`): there, with
//! `std::sync::Mutex` in its place, this test gets a data-race report on the pool (std's contended
//! lock path is precompiled without instrumentation), the false report that gstdout's workspace
//! pool got with `Workers 4` through the TSan flb-host. In normal builds it checks the counts.

use flb_plugin_sdk::sync::Mutex;
use std::sync::Arc;

/// gstdout's pattern: threads take a buffer from a shared pool, write it, put it back.
#[test]
fn pool_hand_overs_under_contention() {
    const THREADS: usize = 4;
    // Miri (if a run includes this file) checks the same hand-overs; it needs far fewer rounds.
    const ROUNDS: usize = if cfg!(miri) { 50 } else { 20_000 };
    let pool: Arc<Mutex<Vec<Vec<u64>>>> = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let pool = Arc::clone(&pool);
            std::thread::spawn(move || {
                for i in 0..ROUNDS {
                    let mut buf = pool.lock().pop().unwrap_or_default();
                    buf.clear();
                    buf.extend((0..8).map(|k| (t * ROUNDS + i) as u64 + k));
                    assert_eq!(buf[7], (t * ROUNDS + i) as u64 + 7);
                    pool.lock().push(buf);
                }
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().is_ok(), "a pool thread panicked");
    }
    let pool = Arc::try_unwrap(pool).unwrap_or_else(|_| panic!("the threads still hold the pool"));
    let bufs = pool.into_inner();
    // each thread holds at most one buffer at a time, so the pool never grows past the thread count
    assert!((1..=THREADS).contains(&bufs.len()), "{} buffers", bufs.len());
    assert!(bufs.iter().all(|b| b.len() == 8));
}
