//! Instance lifetime at the boundary, under stress: exit racing flushes and collects, stale and
//! foreign context pointers, a panicking `Drop`, a logger used after its instance exited. Nothing
//! may crash, nothing may be used after it is freed (these tests also run under AddressSanitizer and
//! ThreadSanitizer: `make sanitize`), and each refusal is an error code.

use core::ffi::{c_char, c_int, c_void, CStr};
use flb_plugin_sdk::abi::*;
use flb_plugin_sdk::boundary::{self as b, Registry};
use flb_plugin_sdk::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[link(name = "flb_abi_layout", kind = "static")]
extern "C" {
    fn fake_host_api() -> *mut flb_api;
    fn fake_host_reset();
    fn fake_host_last_log() -> *const c_char;
    fn fake_host_log_count() -> c_int;
}

static HOST: Mutex<()> = Mutex::new(());

fn host() -> MutexGuard<'static, ()> {
    let g = HOST.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: resets the fake host's static state; tests take turns through HOST.
    unsafe { fake_host_reset() };
    g
}

fn last_log() -> String {
    // SAFETY: the fake host returns its static NUL-terminated buffer.
    unsafe { CStr::from_ptr(fake_host_last_log()) }.to_string_lossy().into_owned()
}

fn log_count() -> i32 {
    // SAFETY: a plain read of a counter.
    unsafe { fake_host_log_count() }
}

// ---- an output whose flushes take a while, and that checks none is running when it is dropped ----

static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static DROPPED_WHILE_FLUSHING: AtomicBool = AtomicBool::new(false);
static DROPS: AtomicUsize = AtomicUsize::new(0);
static KEPT_LOGGER: Mutex<Option<Logger>> = Mutex::new(None);

struct SlowOut {
    panic_on_drop: bool,
    alive: Box<u64>,
}

const PANIC_ON_DROP: Key = Key::bool("panic_on_drop").default("false");

impl OutputPlugin for SlowOut {
    const NAME: &'static str = "slow_out";
    const DESCRIPTION: &'static str = "lifetime test output";
    const KEYS: &'static [Key] = &[PANIC_ON_DROP];

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        *KEPT_LOGGER.lock().unwrap_or_else(|e| e.into_inner()) = Some(ctx.logger());
        let panic_on_drop = ctx.config().bool(&PANIC_ON_DROP)?;
        Ok(SlowOut { panic_on_drop, alive: Box::new(0xA11CE) })
    }

    fn flush(&self, _chunk: Chunk<'_>) -> Result<(), FlushError> {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        let until = Instant::now() + Duration::from_micros(200);
        while Instant::now() < until {
            // Reads the instance's heap memory throughout: a use after free under ASan.
            assert_eq!(**std::hint::black_box(&self.alive), 0xA11CE);
        }
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

impl Drop for SlowOut {
    fn drop(&mut self) {
        if IN_FLIGHT.load(Ordering::SeqCst) != 0 {
            DROPPED_WHILE_FLUSHING.store(true, Ordering::SeqCst);
        }
        DROPS.fetch_add(1, Ordering::SeqCst);
        if self.panic_on_drop {
            panic!("slow_out asked to panic in Drop");
        }
    }
}

static OUT_REG: b::OutputRegistry<SlowOut> = Registry::new();

struct OutHost {
    ctx: Box<flb_plugin_proxy_context>,
    plugin: Box<flbgo_output_plugin>,
}

// SAFETY: the boxes are only read by the SDK during init; the test moves the host between threads
// only after init.
unsafe impl Send for OutHost {}

fn output() -> OutHost {
    let mut ctx =
        Box::new(flb_plugin_proxy_context { remote_context: core::ptr::null_mut(), proxy: core::ptr::null_mut() });
    let plugin = Box::new(flbgo_output_plugin {
        name: c"slow_out".as_ptr() as *mut c_char,
        // SAFETY: returns the fake host's static table.
        api: unsafe { fake_host_api() },
        o_ins: 0x5678 as *mut c_void,
        context: &mut *ctx,
    });
    let mut h = OutHost { ctx, plugin };
    // SAFETY: a complete flbgo_output_plugin whose context and api outlive the instance.
    let r = unsafe { b::output_init::<SlowOut>(&OUT_REG, &mut *h.plugin as *mut flbgo_output_plugin as *mut c_void) };
    assert_eq!(r, FLB_OK);
    h
}

const RECORD: [u8; 17] = [0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, 0x80, 0x81, 0xa1, b'a', 0x01];

fn flush(ctx: usize) -> c_int {
    // SAFETY: a chunk and a NUL-terminated tag valid for the call; ctx is only compared.
    unsafe {
        b::output_flush::<SlowOut>(
            &OUT_REG,
            ctx as *mut c_void,
            RECORD.as_ptr() as *const c_void,
            RECORD.len(),
            c"t".as_ptr(),
        )
    }
}

#[test]
fn flush_workers_racing_exit_never_see_a_freed_instance() {
    let _g = host();
    for round in 0..20 {
        DROPPED_WHILE_FLUSHING.store(false, Ordering::SeqCst);
        let drops = DROPS.load(Ordering::SeqCst);
        let h = output();
        let ctx = h.ctx.remote_context as usize;
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let (mut ok, mut refused) = (0u32, 0u32);
                    while !stop.load(Ordering::SeqCst) {
                        match flush(ctx) {
                            FLB_OK => ok += 1,
                            FLB_ERROR => refused += 1,
                            other => panic!("flush returned {other}"),
                        }
                    }
                    (ok, refused)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(5 + round % 5));
        assert_eq!(b::output_exit::<SlowOut>(&OUT_REG, ctx as *mut c_void), FLB_OK);
        assert_eq!(DROPS.load(Ordering::SeqCst), drops + 1, "exit dropped the instance");
        std::thread::sleep(Duration::from_millis(2));
        stop.store(true, Ordering::SeqCst);
        let mut refused_total = 0;
        for w in workers {
            let (_, refused) = w.join().expect("a flush worker panicked");
            refused_total += refused;
        }
        assert!(!DROPPED_WHILE_FLUSHING.load(Ordering::SeqCst), "round {round}: dropped during a flush");
        assert!(refused_total > 0, "round {round}: flushes after exit are refused");
        assert!(OUT_REG.is_empty());
        drop(h);
    }
}

#[test]
fn stale_and_foreign_context_pointers_are_refused_without_being_read() {
    let _g = host();
    let h = output();
    let live = h.ctx.remote_context as usize;
    assert_eq!(flush(live), FLB_OK);
    assert_eq!(b::output_exit::<SlowOut>(&OUT_REG, live as *mut c_void), FLB_OK);
    // Stale: the exited instance's pointer.
    assert_eq!(flush(live), FLB_ERROR);
    assert_eq!(b::output_exit::<SlowOut>(&OUT_REG, live as *mut c_void), FLB_ERROR, "no double exit");
    // Foreign: an unmapped address and a pointer to someone else's memory. Reading either would
    // crash or be reported by the sanitizers.
    let mut other = [0u8; 64];
    for foreign in [0x10usize, other.as_mut_ptr() as usize, usize::MAX - 7] {
        assert_eq!(flush(foreign), FLB_ERROR);
        assert_eq!(b::output_exit::<SlowOut>(&OUT_REG, foreign as *mut c_void), FLB_ERROR);
    }
}

#[test]
fn a_panicking_drop_is_one_log_line_not_an_abort() {
    let _g = host();
    *KEPT_LOGGER.lock().unwrap_or_else(|e| e.into_inner()) = None;
    let mut h = OutHost {
        ctx: Box::new(flb_plugin_proxy_context { remote_context: core::ptr::null_mut(), proxy: core::ptr::null_mut() }),
        plugin: Box::new(flbgo_output_plugin {
            name: c"slow_out".as_ptr() as *mut c_char,
            api: core::ptr::null_mut(),
            o_ins: core::ptr::null_mut(),
            context: core::ptr::null_mut(),
        }),
    };
    h.plugin.context = &mut *h.ctx;
    // A property source the fake host answers: panic_on_drop=on.
    // SAFETY: the fake host keeps the 'static strings.
    unsafe {
        extern "C" {
            fn fake_host_set_property(key: *const c_char, value: *const c_char) -> c_int;
        }
        assert_eq!(fake_host_set_property(c"panic_on_drop".as_ptr(), c"on".as_ptr()), 0);
        h.plugin.api = fake_host_api();
    }
    // SAFETY: a complete flbgo_output_plugin whose context and api outlive the instance.
    let r = unsafe { b::output_init::<SlowOut>(&OUT_REG, &mut *h.plugin as *mut flbgo_output_plugin as *mut c_void) };
    assert_eq!(r, FLB_OK);
    let before = log_count();
    assert_eq!(b::output_exit::<SlowOut>(&OUT_REG, h.ctx.remote_context), FLB_OK);
    assert_eq!(log_count(), before + 1, "exactly one line: {}", last_log());
    assert!(last_log().contains("panic in FLBPluginExit (dropping the plugin): slow_out asked to panic in Drop"));
}

#[test]
fn a_logger_kept_past_exit_goes_inert() {
    let _g = host();
    let h = output();
    let kept = KEPT_LOGGER.lock().unwrap_or_else(|e| e.into_inner()).clone().expect("init kept a logger");
    let before = log_count();
    flb_error!(kept, "while the instance lives");
    assert_eq!(log_count(), before + 1, "a live logger logs through the host");
    assert_eq!(b::output_exit::<SlowOut>(&OUT_REG, h.ctx.remote_context), FLB_OK);
    // From another thread too, as a plugin's own thread that outlives exit would.
    let k2 = kept.clone();
    std::thread::spawn(move || flb_error!(k2, "after exit, from a thread")).join().expect("logging thread");
    flb_error!(kept, "after exit");
    assert_eq!(log_count(), before + 1, "an exited instance's logger no longer calls the host");
    assert!(!kept.enabled(Level::Debug), "an inert logger reports the stderr levels only");
}

// ---- an input: collects racing Unregister ----

struct CountIn {
    n: u64,
}

impl InputPlugin for CountIn {
    const NAME: &'static str = "count_in";
    const DESCRIPTION: &'static str = "lifetime test input";

    fn init(_ctx: &mut InitContext<'_>) -> Result<Self> {
        Ok(CountIn { n: 0 })
    }

    fn collect(&mut self, events: &mut EventWriter) -> Result<()> {
        for _ in 0..50 {
            self.n += 1;
            events.append_map(EventTime::new(1, 0), b"", 1, |m| m.uint("n", self.n))?;
        }
        Ok(())
    }
}

static IN_REG: b::InputRegistry<CountIn> = Registry::new();

#[test]
fn collects_racing_unregister_end_in_refusals_not_crashes() {
    let _g = host();
    // A 2.2+ host (its pre-register hook came): it returns every buffer through cleanup, so a buffer
    // handed over just before Unregister is kept for that cleanup call, not leaked or freed early.
    assert_eq!(b::pre_register(0), 0);
    for _round in 0..10 {
        let mut hosts: Vec<(Box<flb_plugin_input_proxy_context>, Box<flbgo_input_plugin>)> = Vec::new();
        for _ in 0..2 {
            let mut ctx = Box::new(flb_plugin_input_proxy_context {
                coll_fd: -1,
                remote_context: core::ptr::null_mut(),
                proxy: core::ptr::null_mut(),
            });
            let mut plugin = Box::new(flbgo_input_plugin {
                name: c"count_in".as_ptr() as *mut c_char,
                // SAFETY: the fake host's static table.
                api: unsafe { fake_host_api() },
                i_ins: 0x1234 as *mut c_void,
                context: &mut *ctx,
            });
            // SAFETY: a complete flbgo_input_plugin whose context and api outlive the instance.
            let r =
                unsafe { b::input_init::<CountIn>(&IN_REG, &mut *plugin as *mut flbgo_input_plugin as *mut c_void) };
            assert_eq!(r, FLB_OK);
            hosts.push((ctx, plugin));
        }
        let keys: Vec<usize> = hosts.iter().map(|(c, _)| c.remote_context as usize).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = keys
            .iter()
            .map(|&key| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut refused = 0;
                    let deadline = Instant::now() + Duration::from_secs(10);
                    // Until stopped and refused at least once (a thread may not run between the
                    // unregister and the stop on a busy machine).
                    while !(stop.load(Ordering::SeqCst) && refused > 0) && Instant::now() < deadline {
                        let mut data: *mut c_void = core::ptr::null_mut();
                        let mut size = 0usize;
                        // SAFETY: data/size are valid locals; key is only compared.
                        let r =
                            unsafe { b::input_collect::<CountIn>(&IN_REG, key as *mut c_void, &mut data, &mut size) };
                        if r == FLB_OK && !data.is_null() {
                            // The buffer is not read here: Unregister, which this test runs early on
                            // purpose, frees buffers left over (a real host copies before Unregister).
                            // The cleanup for a buffer of an exited instance frees it or is refused.
                            assert!(size > 0);
                            let c = b::input_cleanup::<CountIn>(&IN_REG, key as *mut c_void, data);
                            assert!(c == FLB_OK || c == FLB_ERROR);
                        } else {
                            assert_eq!(r, -1);
                            refused += 1;
                        }
                    }
                    refused
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(3));
        // SAFETY: NULL def is allowed; unregister exits what is left, waiting for collects in flight.
        unsafe {
            b::unregister(
                &IN_REG,
                core::ptr::null_mut(),
                &Logger::stderr(flb_plugin_sdk::api::InstanceKind::Input, "t"),
            )
        };
        std::thread::sleep(Duration::from_millis(2));
        stop.store(true, Ordering::SeqCst);
        for t in threads {
            assert!(t.join().expect("a collect thread panicked") > 0, "collects after unregister are refused");
        }
        assert!(IN_REG.is_empty());
    }
}

// ---- a worker input: the worker thread, collects with pause/resume, and exit's join ----

static WORKER_ACKED: AtomicUsize = AtomicUsize::new(0);
static WORKER_WROTE: AtomicUsize = AtomicUsize::new(0);

struct WorkIn;

impl InputPlugin for WorkIn {
    const NAME: &'static str = "work_in";
    const DESCRIPTION: &'static str = "lifetime test worker input";

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        ctx.spawn_worker(WorkerConfig::new().batch_limit(64 << 10), |w| {
            let mut n = 0u64;
            while !w.stopping() {
                w.acks(|t| {
                    WORKER_ACKED.fetch_add(t.sources().iter().map(|s| s.records as usize).sum(), Ordering::SeqCst);
                });
                let r = w.fill(|b| -> Result<()> {
                    for _ in 0..100 {
                        let mut s = b.source(n % 2, b"work")?;
                        s.events().append_map(EventTime::new(1, 0), b"", 1, |m| m.uint("n", n))?;
                        s.set_mark(n);
                        n += 1;
                        WORKER_WROTE.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(())
                });
                if r.is_none() {
                    w.wait(Duration::from_millis(1));
                }
            }
            w.acks(|t| {
                WORKER_ACKED.fetch_add(t.sources().iter().map(|s| s.records as usize).sum(), Ordering::SeqCst);
            });
        })?;
        Ok(WorkIn)
    }
}

static WORK_REG: b::InputRegistry<WorkIn> = Registry::new();

#[test]
fn a_worker_fills_while_collects_take_batches_and_exit_joins_it() {
    let _g = host();
    let mut ctx = Box::new(flb_plugin_input_proxy_context {
        coll_fd: -1,
        remote_context: core::ptr::null_mut(),
        proxy: core::ptr::null_mut(),
    });
    let mut plugin = Box::new(flbgo_input_plugin {
        name: c"work_in".as_ptr() as *mut c_char,
        // SAFETY: the fake host's static table.
        api: unsafe { fake_host_api() },
        i_ins: 0x1234 as *mut c_void,
        context: &mut *ctx,
    });
    // SAFETY: a complete flbgo_input_plugin whose context and api outlive the instance.
    let r = unsafe { b::input_init::<WorkIn>(&WORK_REG, &mut *plugin as *mut flbgo_input_plugin as *mut c_void) };
    assert_eq!(r, FLB_OK);
    let key = ctx.remote_context;
    let mut delivered = 0usize;
    for i in 0..200 {
        if i == 50 {
            b::input_pause_resume::<WorkIn>(&WORK_REG, true);
        }
        if i == 100 {
            b::input_pause_resume::<WorkIn>(&WORK_REG, false);
        }
        let mut data: *mut c_void = core::ptr::null_mut();
        let mut size = 0usize;
        // SAFETY: data/size are valid locals; key is the instance's context.
        assert_eq!(unsafe { b::input_collect::<WorkIn>(&WORK_REG, key, &mut data, &mut size) }, FLB_OK);
        if !data.is_null() {
            // SAFETY: valid until cleanup; the host copies it.
            let bytes = unsafe { core::slice::from_raw_parts(data as *const u8, size) };
            delivered += flb_plugin_sdk::events::validate_chunk(bytes).expect("whole records");
            assert_eq!(b::input_cleanup::<WorkIn>(&WORK_REG, key, data), FLB_OK);
        }
        std::thread::sleep(Duration::from_micros(300));
    }
    b::input_pre_exit::<WorkIn>(&WORK_REG, 0);
    assert_eq!(b::input_exit::<WorkIn>(&WORK_REG), FLB_OK);
    assert!(WORK_REG.is_empty());
    assert!(delivered > 0);
    assert_eq!(WORKER_ACKED.load(Ordering::SeqCst), delivered, "acks cover exactly what was handed over");
    assert!(WORKER_WROTE.load(Ordering::SeqCst) >= delivered);
}
