//! The boundary driven in-process the way the host drives it, with a small C stand-in for the host's
//! api table (c/fake_host.c: properties, captured log lines). Covers register/unregister, the collect
//! hand-over rule, panics and errors becoming return codes plus a log line, instance lookup with and
//! without Ctx callbacks, and exit safety.

use core::ffi::{c_char, c_int, c_void, CStr};
use flb_plugin_sdk::abi::*;
use flb_plugin_sdk::api::InstanceKind;
use flb_plugin_sdk::boundary::{self as b, Registry};
use flb_plugin_sdk::events::{EventReader, Value};
use flb_plugin_sdk::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

#[link(name = "flb_abi_layout", kind = "static")]
extern "C" {
    fn fake_host_api() -> *mut flb_api;
    fn fake_host_reset();
    fn fake_host_set_property(key: *const c_char, value: *const c_char) -> c_int;
    fn fake_host_last_log() -> *const c_char;
    fn fake_host_log_count() -> c_int;
}

/// The fake host is one global table: tests take turns.
static HOST: Mutex<()> = Mutex::new(());

fn host(props: &[(&'static CStr, &'static CStr)]) -> MutexGuard<'static, ()> {
    let g = HOST.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: the fake host keeps the pointers; the strings are 'static.
    unsafe {
        fake_host_reset();
        for (k, v) in props {
            assert_eq!(fake_host_set_property(k.as_ptr(), v.as_ptr()), 0);
        }
    }
    g
}

fn last_log() -> String {
    // SAFETY: the fake host returns its static NUL-terminated buffer.
    unsafe { CStr::from_ptr(fake_host_last_log()) }.to_string_lossy().into_owned()
}

fn log_count() -> i32 {
    // SAFETY: plain read of a counter.
    unsafe { fake_host_log_count() }
}

// ---- a test input ----

static INPUT_DROPS: AtomicUsize = AtomicUsize::new(0);

struct TestIn {
    records: u64,
    next: u64,
    collected: u64,
}

impl Drop for TestIn {
    fn drop(&mut self) {
        INPUT_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

const LEGACY: Key = Key::bool("legacy").default("false");
const RECORDS: Key = Key::int("records").default("1");

impl InputPlugin for TestIn {
    const NAME: &'static str = "test_in";
    const DESCRIPTION: &'static str = "boundary test input";
    const KEYS: &'static [Key] = &[LEGACY, RECORDS];

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        let cfg = ctx.config();
        if cfg.bool(&LEGACY)? {
            ctx.set_record_form(RecordForm::Legacy);
        }
        Ok(TestIn { records: cfg.uint(&RECORDS, 1000)?, next: 0, collected: 0 })
    }

    fn collect(&mut self, events: &mut EventWriter) -> Result<()> {
        if self.records == 99 {
            panic!("collect went wrong: 100% sure");
        }
        for _ in 0..self.records {
            let n = self.next;
            self.next += 1;
            events.append_with(EventTime::new(1_700_000_000, 5), b"", |buf| {
                rmp::encode::write_map_len(buf, 2).map_err(|_| flb_plugin_sdk::events::EncodeError::Invalid("map"))?;
                rmp::encode::write_str(buf, "n").map_err(|_| flb_plugin_sdk::events::EncodeError::Invalid("k"))?;
                rmp::encode::write_uint(buf, n).map_err(|_| flb_plugin_sdk::events::EncodeError::Invalid("v"))?;
                rmp::encode::write_str(buf, "collected")
                    .map_err(|_| flb_plugin_sdk::events::EncodeError::Invalid("k"))?;
                rmp::encode::write_uint(buf, self.collected)
                    .map_err(|_| flb_plugin_sdk::events::EncodeError::Invalid("v"))?;
                Ok(())
            })?;
        }
        Ok(())
    }

    fn taken(&mut self, batch: BatchId) {
        self.collected += 1;
        assert_eq!(batch, BatchId(self.collected), "batches are taken in order, numbered from 1");
    }
}

struct InputHost {
    api: *mut flb_api,
    ctx: Box<flb_plugin_input_proxy_context>,
    plugin: Box<flbgo_input_plugin>,
}

impl InputHost {
    fn new() -> Self {
        // SAFETY: returns the fake host's static table.
        let api = unsafe { fake_host_api() };
        let mut ctx = Box::new(flb_plugin_input_proxy_context {
            coll_fd: -1,
            remote_context: core::ptr::null_mut(),
            proxy: core::ptr::null_mut(),
        });
        let plugin = Box::new(flbgo_input_plugin {
            name: c"test_in".as_ptr() as *mut c_char,
            api,
            i_ins: 0x1234 as *mut c_void,
            context: &mut *ctx,
        });
        InputHost { api, ctx, plugin }
    }

    fn init(&mut self, reg: &b::InputRegistry<TestIn>) -> c_int {
        let _ = self.api;
        // SAFETY: a complete flbgo_input_plugin whose context and api outlive the instance.
        unsafe { b::input_init::<TestIn>(reg, &mut *self.plugin as *mut flbgo_input_plugin as *mut c_void) }
    }

    fn rc(&self) -> *mut c_void {
        self.ctx.remote_context
    }
}

/// Collect as Fluent Bit does: data = NULL, len = 0, call.
fn collect(reg: &b::InputRegistry<TestIn>, ctx: *mut c_void) -> (c_int, *mut c_void, usize) {
    let mut data: *mut c_void = core::ptr::null_mut();
    let mut size = 0usize;
    // SAFETY: ctx is NULL or a live instance; data/size are valid locals.
    let ret = unsafe { b::input_collect::<TestIn>(reg, ctx, &mut data, &mut size) };
    (ret, data, size)
}

fn decode_ns(data: *mut c_void, size: usize) -> Vec<(u64, u64)> {
    // SAFETY: the plugin handed over size bytes at data; they stay valid until cleanup.
    let bytes = unsafe { core::slice::from_raw_parts(data as *const u8, size) };
    EventReader::new(bytes)
        .map(|e| {
            let e = e.expect("records decode");
            let m = match e.body {
                Value::Map(m) => m,
                other => panic!("body is not a map: {other:?}"),
            };
            let get = |k: &[u8]| match m.get(k).expect("map decodes") {
                Some(Value::Int(i)) => i as u64,
                Some(Value::UInt(u)) => u,
                other => panic!("{other:?}"),
            };
            (get(b"n"), get(b"collected"))
        })
        .collect()
}

#[test]
fn register_writes_only_the_five_base_fields_and_unregister_takes_the_strings_back() {
    let _g = host(&[]);
    static REG: b::InputRegistry<TestIn> = Registry::new();
    #[repr(C)]
    struct ShortDef {
        base: [u8; 32],
        canary: [u8; 16],
    }
    let mut def = ShortDef { base: [0; 32], canary: [0xAB; 16] };
    let p = &mut def as *mut ShortDef as *mut flb_plugin_proxy_def;
    let log = Logger::stderr(InstanceKind::Input, "test_in");
    // SAFETY: 32 bytes hold the five base fields; event_type is None so nothing beyond is written.
    let ret =
        unsafe { b::register(&REG, p, FLB_PROXY_INPUT_PLUGIN, "test_in", "boundary test input", None, &[], &log) };
    assert_eq!(ret, 0);
    assert_eq!(def.canary, [0xAB; 16], "register wrote past the five-field definition of old hosts");
    // SAFETY: reading the fields register wrote.
    unsafe {
        assert_eq!((*p).type_, FLB_PROXY_INPUT_PLUGIN);
        assert_eq!((*p).proxy, FLB_PROXY_GOLANG);
        assert_eq!(CStr::from_ptr((*p).name).to_str().unwrap(), "test_in");
        assert_eq!(CStr::from_ptr((*p).description).to_str().unwrap(), "boundary test input");
        b::unregister(&REG, p, &log);
        assert!((*p).name.is_null() && (*p).description.is_null());
    }
}

#[test]
fn register_writes_event_type_only_when_asked_and_refuses_null() {
    let _g = host(&[]);
    static REG: b::InputRegistry<TestIn> = Registry::new();
    let log = Logger::stderr(InstanceKind::Output, "t");
    let mut def = flb_plugin_proxy_def {
        type_: 0,
        proxy: 0,
        flags: 7,
        name: core::ptr::null_mut(),
        description: core::ptr::null_mut(),
        event_type: -5,
        config_map: 0x99 as *mut flb_config_map,
    };
    // SAFETY: a full seven-field definition.
    let ret =
        unsafe { b::register(&REG, &mut def, FLB_PROXY_OUTPUT_PLUGIN, "t", "d", Some(FLB_OUTPUT_METRICS), &[], &log) };
    assert_eq!(ret, 0);
    assert_eq!((def.event_type, def.flags, def.config_map as usize), (FLB_OUTPUT_METRICS, 0, 0x99));
    // SAFETY: NULL is refused before any write.
    assert_eq!(unsafe { b::register(&REG, core::ptr::null_mut(), 2, "t", "d", None, &[], &log) }, -1);
    // SAFETY: the definition register filled.
    unsafe { b::unregister(&REG, &mut def, &log) };
}

#[test]
fn collect_hands_over_one_reused_buffer_and_cleanup_returns_it() {
    let _g = host(&[(c"records", c"3")]);
    static REG: b::InputRegistry<TestIn> = Registry::new();
    let mut h = InputHost::new();
    assert_eq!(h.init(&REG), FLB_OK);
    assert!(!h.rc().is_null(), "init stores the instance in remote_context");

    let (ret, data1, size1) = collect(&REG, h.rc());
    assert_eq!(ret, FLB_OK);
    assert_eq!(decode_ns(data1, size1), vec![(0, 0), (1, 0), (2, 0)]);
    assert_eq!(b::input_cleanup::<TestIn>(&REG, h.rc(), data1), FLB_OK);

    let (_, data2, size2) = collect(&REG, h.rc());
    assert_eq!(data2, data1, "the buffer is reused across collects (no allocation in steady state)");
    assert_eq!(decode_ns(data2, size2), vec![(3, 1), (4, 1), (5, 1)], "the plugin learned of the first cleanup");
    assert_eq!(b::input_cleanup::<TestIn>(&REG, h.rc(), data2), FLB_OK);
    // A cleanup for a buffer we did not hand over is refused, not freed.
    let mut foreign = [0u8; 8];
    assert_eq!(b::input_cleanup::<TestIn>(&REG, h.rc(), foreign.as_mut_ptr() as *mut c_void), FLB_ERROR);
    assert!(last_log().contains("did not hand over"), "{}", last_log());

    assert_eq!(b::input_exit::<TestIn>(&REG), FLB_OK);
    assert!(REG.is_empty());
}

#[test]
fn hosts_without_cleanup_free_the_buffer_and_the_next_collect_allocates_anew() {
    let _g = host(&[(c"records", c"2")]);
    static REG: b::InputRegistry<TestIn> = Registry::new();
    let mut h = InputHost::new();
    assert_eq!(h.init(&REG), FLB_OK);
    // Fluent Bit 1.9: no Ctx, no cleanup; the host frees with libc free after copying.
    let (_, data1, size1) = collect(&REG, core::ptr::null_mut());
    assert_eq!(decode_ns(data1, size1).len(), 2);
    // SAFETY: the buffer came from libc malloc, as the ABI requires without a cleanup callback.
    unsafe { libc::free(data1) };
    let (_, data2, size2) = collect(&REG, core::ptr::null_mut());
    assert_eq!(decode_ns(data2, size2), vec![(2, 1), (3, 1)], "the host taking the buffer counts as collected");
    // SAFETY: as above.
    unsafe { libc::free(data2) };
    // Exit must not free the buffer the host already freed (a double free would abort here).
    assert_eq!(b::input_exit::<TestIn>(&REG), FLB_OK);
}

#[test]
fn nothing_due_hands_over_null_and_zero() {
    let _g = host(&[(c"records", c"0")]);
    static REG: b::InputRegistry<TestIn> = Registry::new();
    let mut h = InputHost::new();
    assert_eq!(h.init(&REG), FLB_OK);
    let (ret, data, size) = collect(&REG, h.rc());
    assert_eq!((ret, data.is_null(), size), (FLB_OK, true, 0));
    // Fluent Bit 2.0 and 2.1 call cleanup after an empty collect too, with NULL: accepted quietly.
    let before = log_count();
    assert_eq!(b::input_cleanup::<TestIn>(&REG, h.rc(), core::ptr::null_mut()), FLB_OK);
    assert_eq!(b::input_cleanup::<TestIn>(&REG, core::ptr::null_mut(), core::ptr::null_mut()), FLB_OK);
    assert_eq!(log_count(), before);
    b::input_exit::<TestIn>(&REG);
}

#[test]
fn a_panic_in_collect_becomes_minus_one_and_one_log_line() {
    let _g = host(&[(c"records", c"99")]);
    static REG: b::InputRegistry<TestIn> = Registry::new();
    let mut h = InputHost::new();
    assert_eq!(h.init(&REG), FLB_OK);
    let before = log_count();
    let (ret, data, size) = collect(&REG, h.rc());
    assert_eq!((ret, data.is_null(), size), (-1, true, 0));
    assert_eq!(log_count(), before + 1);
    let line = last_log();
    // The message holds a '%': it went through "%s", not as the format.
    assert!(line.contains("panic in FLBPluginInputCallback: collect went wrong: 100% sure"), "{line}");
    assert!(line.starts_with("[test_in]"), "{line}");
    // The instance still works after the panic (the next collect panics again, cleanly).
    assert_eq!(collect(&REG, h.rc()).0, -1);
    b::input_exit::<TestIn>(&REG);
}

#[test]
fn bad_config_fails_init_with_a_line_naming_key_and_value() {
    let _g = host(&[(c"records", c"lots")]);
    static REG: b::InputRegistry<TestIn> = Registry::new();
    let mut h = InputHost::new();
    assert_eq!(h.init(&REG), FLB_ERROR);
    let line = last_log();
    assert!(line.contains("'records'") && line.contains("'lots'") && line.contains("0 to 1000"), "{line}");
    assert!(h.rc().is_null() && REG.is_empty(), "a failed init leaves nothing behind");
    // SAFETY: NULL plugin pointers are refused.
    assert_eq!(unsafe { b::input_init::<TestIn>(&REG, core::ptr::null_mut()) }, FLB_ERROR);
}

#[test]
fn instances_without_ctx_callbacks_are_told_apart_by_their_thread() {
    let _g = host(&[(c"records", c"1")]);
    static REG: b::InputRegistry<TestIn> = Registry::new();
    // Two instances, each initialised and collected on its own thread, as Fluent Bit runs inputs;
    // the host offers no Ctx callbacks (2.2 - 4.0).
    let run = || {
        std::thread::spawn(|| {
            let mut h = InputHost::new();
            assert_eq!(h.init(&REG), FLB_OK);
            let mut ns = Vec::new();
            for _ in 0..3 {
                let (_, d, n) = collect(&REG, core::ptr::null_mut());
                ns.push(decode_ns(d, n)[0].0);
                b::input_cleanup::<TestIn>(&REG, core::ptr::null_mut(), d);
                std::thread::yield_now();
            }
            b::input_exit::<TestIn>(&REG);
            ns
        })
    };
    let (a, b2) = (run(), run());
    let firsts = vec![a.join().unwrap(), b2.join().unwrap()];
    assert_eq!(firsts, vec![vec![0, 1, 2], vec![0, 1, 2]], "each thread saw its own instance's counter");
    assert!(REG.is_empty());
}

#[test]
fn unregister_drops_instances_the_host_never_exited() {
    let _g = host(&[]);
    static REG: b::InputRegistry<TestIn> = Registry::new();
    let drops = INPUT_DROPS.load(Ordering::SeqCst);
    let mut h1 = InputHost::new();
    let mut h2 = InputHost::new();
    assert_eq!(h1.init(&REG), FLB_OK);
    assert_eq!(h2.init(&REG), FLB_OK);
    assert_ne!(h1.rc(), h2.rc());
    let (_, d, _) = collect(&REG, h1.rc());
    assert!(!d.is_null());
    // A host without cleanup (1.9) frees the buffer itself; the instance forgets it at exit.
    // SAFETY: the buffer came from libc malloc and this host now owns it.
    unsafe { libc::free(d) };
    // SAFETY: NULL def is allowed; unregister frees what is left.
    unsafe { b::unregister(&REG, core::ptr::null_mut(), &Logger::stderr(InstanceKind::Input, "t")) };
    assert!(REG.is_empty());
    assert!(INPUT_DROPS.load(Ordering::SeqCst) >= drops + 2);
}

// ---- a test output ----

struct TestOut {
    deep_ok: std::sync::atomic::AtomicUsize,
}

impl OutputPlugin for TestOut {
    const NAME: &'static str = "test_out";
    const DESCRIPTION: &'static str = "boundary test output";

    fn init(_ctx: &mut InitContext<'_>) -> Result<Self> {
        Ok(TestOut { deep_ok: AtomicUsize::new(0) })
    }

    fn flush(&self, chunk: Chunk<'_>) -> Result<(), FlushError> {
        match chunk.tag() {
            b"panic" => panic!("flush exploded"),
            b"retry" => Err(FlushError::Retry(Error::new("try later"))),
            _ => {
                for e in chunk.events() {
                    e?;
                    self.deep_ok.fetch_add(1, Ordering::SeqCst);
                }
                Ok(())
            }
        }
    }
}

struct OutputHost {
    ctx: Box<flb_plugin_proxy_context>,
    plugin: Box<flbgo_output_plugin>,
}

impl OutputHost {
    fn new() -> Self {
        let mut ctx =
            Box::new(flb_plugin_proxy_context { remote_context: core::ptr::null_mut(), proxy: core::ptr::null_mut() });
        // SAFETY: returns the fake host's static table.
        let api = unsafe { fake_host_api() };
        let plugin = Box::new(flbgo_output_plugin {
            name: c"test_out".as_ptr() as *mut c_char,
            api,
            o_ins: 0x5678 as *mut c_void,
            context: &mut *ctx,
        });
        OutputHost { ctx, plugin }
    }

    fn init(&mut self, reg: &b::OutputRegistry<TestOut>) -> c_int {
        // SAFETY: a complete flbgo_output_plugin whose context and api outlive the instance.
        unsafe { b::output_init::<TestOut>(reg, &mut *self.plugin as *mut flbgo_output_plugin as *mut c_void) }
    }

    fn flush(&self, reg: &b::OutputRegistry<TestOut>, data: &[u8], tag: &CStr) -> c_int {
        // SAFETY: a live instance, a chunk and a NUL-terminated tag valid for the call.
        unsafe {
            b::output_flush::<TestOut>(
                reg,
                self.ctx.remote_context,
                data.as_ptr() as *const c_void,
                data.len(),
                tag.as_ptr(),
            )
        }
    }
}

fn one_record() -> Vec<u8> {
    // [[EventTime, {}], {"a": 1}]
    let mut v = vec![0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, 0x80, 0x81, 0xa1, b'a', 0x01];
    v.extend_from_within(..);
    v
}

#[test]
fn flush_maps_results_and_panics_to_return_codes_with_a_log_line() {
    let _g = host(&[]);
    static REG: b::OutputRegistry<TestOut> = Registry::new();
    let mut h = OutputHost::new();
    assert_eq!(h.init(&REG), FLB_OK);
    let chunk = one_record();
    assert_eq!(h.flush(&REG, &chunk, c"app"), FLB_OK);
    assert_eq!(h.flush(&REG, &chunk, c"retry"), FLB_RETRY);
    assert!(last_log().contains("try later"), "{}", last_log());
    assert_eq!(h.flush(&REG, &chunk, c"panic"), FLB_ERROR);
    assert!(last_log().contains("panic in FLBPluginFlush: flush exploded"), "{}", last_log());
    assert_eq!(h.flush(&REG, &chunk[..chunk.len() - 3], c"app"), FLB_ERROR, "a truncated chunk is refused");
    assert!(last_log().contains("chunk dropped"), "{}", last_log());
    // SAFETY: NULL data with a size is refused before use.
    let r = unsafe { b::output_flush::<TestOut>(&REG, h.ctx.remote_context, core::ptr::null(), 10, c"x".as_ptr()) };
    assert_eq!(r, FLB_ERROR);
    // Non-Ctx flush with a single instance finds it.
    // SAFETY: a chunk and tag valid for the call.
    let r = unsafe {
        b::output_flush::<TestOut>(
            &REG,
            core::ptr::null_mut(),
            chunk.as_ptr() as *const c_void,
            chunk.len(),
            core::ptr::null(),
        )
    };
    assert_eq!(r, FLB_OK);

    // Exiting twice is refused the second time, not a double free.
    assert_eq!(b::output_exit::<TestOut>(&REG, h.ctx.remote_context), FLB_OK);
    assert_eq!(b::output_exit::<TestOut>(&REG, h.ctx.remote_context), FLB_ERROR);
}

#[test]
fn flush_of_a_deeply_nested_record_fits_a_64k_coroutine_stack() {
    let _g = host(&[]);
    static REG: b::OutputRegistry<TestOut> = Registry::new();
    let mut h = OutputHost::new();
    assert_eq!(h.init(&REG), FLB_OK);
    // [[t, {}], {"a": [[[[ ... 100000 deep ... ]]]]}]
    let mut chunk = vec![0x92, 0x92, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, 0x80, 0x81, 0xa1, b'a'];
    chunk.extend(std::iter::repeat_n(0x91, 100_000));
    chunk.push(0xc0);
    let ctx = h.ctx.remote_context as usize;
    let ret = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            // SAFETY: a live instance, a chunk and a NUL-terminated tag valid for the call.
            unsafe {
                b::output_flush::<TestOut>(
                    &REG,
                    ctx as *mut c_void,
                    chunk.as_ptr() as *const c_void,
                    chunk.len(),
                    c"deep".as_ptr(),
                )
            }
        })
        .unwrap()
        .join();
    assert_eq!(ret.unwrap(), FLB_OK);
    b::output_exit::<TestOut>(&REG, h.ctx.remote_context);
}
