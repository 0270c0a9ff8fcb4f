//! `sdkworker_in`: an input on the SDK's worker API. Its worker writes records `{"n": seq}` with
//! seq = 0, 1, 2, ... spread over `sources` sources (source `seq % sources`, tag `worker.src<i>`),
//! `per_fill` records per fill, until `total` records; it checks every acknowledgement against what
//! it wrote into that batch, and at exit logs one summary line the tests read:
//!
//! `sdkworker_in summary: produced=P taken=T first_untaken=F batches=B acks=A mismatches=M
//! failed_sources=X worker_joined=J`
//!
//! Every taken batch holds a contiguous run of seq numbers, so "taken" is the seq range
//! `0..first_untaken` when no batch failed. Keys: `total`, `per_fill`, `sources`, `batch_limit`
//! (bytes), `piece` (bytes), `direct` (on/off), `panic_in` = `worker` | `drop`.

use flb_plugin_sdk::prelude::*;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the worker wrote into one batch.
struct Written {
    batch: BatchId,
    /// Records per source.
    per_source: Vec<u64>,
    /// The seq range the batch holds.
    first: u64,
    end: u64,
}

struct Ledger {
    sources: u64,
    written: VecDeque<Written>,
    taken: u64,
    first_untaken: u64,
    batches: u64,
    acks: u64,
    mismatches: u64,
    failed_sources: u64,
}

impl Ledger {
    fn note(&mut self, batch: BatchId, src: u64, seq: u64) {
        if self.written.back().map(|w| w.batch) != Some(batch) {
            self.written.push_back(Written { batch, per_source: vec![0; self.sources as usize], first: seq, end: seq });
            self.batches += 1;
        }
        if let Some(w) = self.written.back_mut() {
            w.per_source[src as usize] += 1;
            w.end = seq + 1;
        }
    }

    fn ack(&mut self, t: &Taken, log: &Logger) {
        self.acks += 1;
        let Some(w) = self.written.pop_front() else {
            self.mismatches += 1;
            flb_error!(log, "ack for {} but no batch is outstanding", t.batch());
            return;
        };
        if w.batch != t.batch() {
            self.mismatches += 1;
            flb_error!(log, "ack for {} but the oldest outstanding batch is {}", t.batch(), w.batch);
        }
        let mut records = 0;
        for s in t.sources() {
            let want = w.per_source.get(s.source as usize).copied().unwrap_or(u64::MAX);
            if s.records != want {
                self.mismatches += 1;
                flb_error!(
                    log,
                    "{}: source {} has {} records, the worker wrote {want}",
                    t.batch(),
                    s.source,
                    s.records
                );
            }
            // The mark is the last seq written to the source in this batch.
            if s.records > 0 && (s.mark < w.first || s.mark >= w.end || s.mark % self.sources != s.source) {
                self.mismatches += 1;
                flb_error!(log, "{}: source {} mark {} outside {}..{}", t.batch(), s.source, s.mark, w.first, w.end);
            }
            if !s.taken {
                self.failed_sources += 1;
            }
            records += s.records;
        }
        if records != w.end - w.first {
            self.mismatches += 1;
            flb_error!(log, "{}: acks cover {records} records, the batch held {}", t.batch(), w.end - w.first);
        }
        if t.all_taken() {
            self.taken += records;
            if w.first == self.first_untaken {
                self.first_untaken = w.end;
            }
        }
    }
}

static WORKER_DONE: AtomicBool = AtomicBool::new(false);

struct SdkWorkerIn {
    log: Logger,
    ledger: Arc<std::sync::Mutex<Ledger>>,
    produced: Arc<std::sync::atomic::AtomicU64>,
    panic_on_drop: bool,
}

fn run(
    w: Worker,
    cfg: Params,
    ledger: Arc<std::sync::Mutex<Ledger>>,
    produced: Arc<std::sync::atomic::AtomicU64>,
    log: Logger,
) {
    let tags: Vec<Vec<u8>> = (0..cfg.sources).map(|i| format!("worker.src{i}").into_bytes()).collect();
    let mut seq = 0u64;
    let drain = |w: &Worker| {
        w.acks(|t| ledger.lock().unwrap_or_else(|e| e.into_inner()).ack(t, &log));
    };
    loop {
        drain(&w);
        if w.stopping() {
            break;
        }
        if seq >= cfg.total {
            w.wait(Duration::from_millis(50));
            continue;
        }
        let wrote = w.fill(|batch| -> Result<u64> {
            let mut n = 0;
            let mut l = ledger.lock().unwrap_or_else(|e| e.into_inner());
            while n < cfg.per_fill && seq < cfg.total && !batch.is_full() {
                let src = seq % cfg.sources;
                let mut s = batch.source(src, &tags[src as usize])?;
                s.events().append_map(EventTime::now(), b"", 1, |m| m.uint("n", seq))?;
                s.set_mark(seq);
                drop(s);
                l.note(batch.id(), src, seq);
                seq += 1;
                n += 1;
            }
            Ok(n)
        });
        match wrote {
            Some(Ok(n)) => {
                produced.fetch_add(n, Ordering::SeqCst);
                if cfg.panic_in_worker && seq > cfg.total / 2 {
                    panic!("sdkworker_in asked to panic in its worker");
                }
            }
            Some(Err(e)) => {
                flb_error!(log, "fill: {e}");
                w.wait(Duration::from_millis(50));
            }
            None => w.wait(Duration::from_millis(50)),
        }
    }
    w.settle(Duration::from_secs(2));
    drain(&w);
    WORKER_DONE.store(true, Ordering::SeqCst);
}

#[derive(Clone, Copy)]
struct Params {
    total: u64,
    per_fill: u64,
    sources: u64,
    panic_in_worker: bool,
}

const PANIC_IN: Key = Key::str("panic_in").desc("'worker': the worker thread panics half way");
const TOTAL: Key = Key::int("total").default("1000000").desc("records in all");
const PER_FILL: Key = Key::int("per_fill").default("1000").desc("records per batch fill");
const SOURCES: Key = Key::int("sources").default("3").desc("sources (tags) the records cycle through");
const BATCH_LIMIT: Key = Key::size("batch_limit").default("4000000").desc("the batch cap");
const PIECE: Key = Key::size("piece").default("2048000").desc("bytes per piece");
const DIRECT: Key = Key::bool("direct").default("true").desc("append per source tag where the host allows");

impl InputPlugin for SdkWorkerIn {
    const NAME: &'static str = "sdkworker_in";
    const DESCRIPTION: &'static str = "SDK worker API test input";
    const KEYS: &'static [Key] = &[PANIC_IN, TOTAL, PER_FILL, SOURCES, BATCH_LIMIT, PIECE, DIRECT];

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        let cfg = ctx.config();
        let panic_in = cfg.string(&PANIC_IN)?;
        let params = Params {
            total: cfg.uint(&TOTAL, u64::MAX)?,
            per_fill: cfg.uint(&PER_FILL, 1 << 30)?.max(1),
            sources: cfg.uint(&SOURCES, 1000)?.max(1),
            panic_in_worker: panic_in == "worker",
        };
        let limit = cfg.size(&BATCH_LIMIT)?;
        let piece = cfg.size(&PIECE)?;
        let direct = cfg.bool(&DIRECT)?;
        let log = ctx.logger();
        let ledger = Arc::new(std::sync::Mutex::new(Ledger {
            sources: params.sources,
            written: VecDeque::new(),
            taken: 0,
            first_untaken: 0,
            batches: 0,
            acks: 0,
            mismatches: 0,
            failed_sources: 0,
        }));
        let produced = Arc::new(std::sync::atomic::AtomicU64::new(0));
        WORKER_DONE.store(false, Ordering::SeqCst);
        let (l2, p2, log2) = (Arc::clone(&ledger), Arc::clone(&produced), log.clone());
        let wcfg = WorkerConfig::new()
            .batch_limit(usize::try_from(limit).unwrap_or(usize::MAX))
            .piece_bytes(usize::try_from(piece).unwrap_or(usize::MAX))
            .direct_append(direct);
        ctx.spawn_worker(wcfg, move |w| run(w, params, l2, p2, log2))?;
        flb_info!(log, "direct append {}", if direct && ctx.direct_append_available() { "on" } else { "off" });
        Ok(SdkWorkerIn { log, ledger, produced, panic_on_drop: panic_in == "drop" })
    }

    fn exit(&mut self) -> Result<()> {
        let l = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        flb_info!(
            self.log,
            "sdkworker_in summary: produced={} taken={} first_untaken={} batches={} acks={} mismatches={} \
             failed_sources={} worker_joined={}",
            self.produced.load(Ordering::SeqCst),
            l.taken,
            l.first_untaken,
            l.batches,
            l.acks,
            l.mismatches,
            l.failed_sources,
            WORKER_DONE.load(Ordering::SeqCst)
        );
        Ok(())
    }
}

impl Drop for SdkWorkerIn {
    fn drop(&mut self) {
        if self.panic_on_drop {
            panic!("sdkworker_in asked to panic in Drop");
        }
    }
}

flb_plugin_sdk::input_plugin!(SdkWorkerIn);
