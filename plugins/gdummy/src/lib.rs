//! `gdummy`: a dummy input for Fluent Bit, loaded through the proxy plugin interface Go plugins use.
//!
//! A drop-in for the Go gdummy example (same name, same default record `{"message":"dummy"}`) with the
//! native `dummy` input's keys: `dummy`, `metadata`, `rate`, `interval_sec`, `interval_nsec`,
//! `samples`, `copies`, `start_time_sec`, `start_time_nsec`, `fixed_timestamp`, `flush_on_startup`.
//!
//! Timing: the native input sets a timer of `1/rate` seconds and emits one tick per timer expiry.
//! A proxy input is collected once per second instead, so gdummy keeps a schedule: tick `k` is due
//! `k` intervals after init and every collect returns all ticks that came due since the last one,
//! tick `k` stamped `base + k * interval`. The rate holds whatever the collect interval is.
//! A tick emits every object of `dummy`, `copies` times, all with the tick's timestamp (as native).
//!
//! Steady state allocates nothing: the records are encoded once at init; a collect appends the
//! first record and repeats it with `EventWriter::repeat` (memcpy plus a timestamp patch), into the
//! writer the SDK reuses across collects.

use flb_plugin_sdk::events::{RecordBlock, RecordSpan};
use flb_plugin_sdk::prelude::*;
use std::sync::Arc;

pub mod clock;
pub mod json;
pub mod keys;

pub use clock::{Clock, FakeClock, SystemClock};
pub use keys::DEFAULT_DUMMY;
/// The highest `rate`: one tick per nanosecond.
pub const MAX_RATE: i64 = 1_000_000_000;
/// The highest `copies`.
pub const MAX_COPIES: i64 = 1_000_000;
/// A collect returns at most this many seconds' worth of ticks: more only piles up when the host
/// stalls (Fluent Bit collects every second), and the oldest of those are dropped, as the native
/// input's timer drops missed expiries.
pub const CATCH_UP_SECS: u64 = 5;
/// A collect returns at most this many bytes (whole ticks; at least one tick).
pub const MAX_BATCH_BYTES: usize = 256 << 20;
/// `repeat` segments: each segment's first timestamp is computed exactly and the rest step by the
/// interval rounded down, so with a rate whose interval is not a whole number of nanoseconds (e.g.
/// 3/s) a timestamp is early by less than this many nanoseconds (and never out of order).
const SEGMENT: u64 = 1024;
const NANOS: u64 = 1_000_000_000;

/// One tick every `num / den` nanoseconds (an exact fraction, so `rate 3` is exactly 3 per second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Period {
    num: u64,
    den: u64,
}

impl Period {
    /// Nanoseconds from tick 0 to tick `k`, rounded down.
    fn offset_ns(self, k: u64) -> u64 {
        let v = u128::from(k) * u128::from(self.num) / u128::from(self.den);
        u64::try_from(v).unwrap_or(u64::MAX)
    }

    /// How many tick boundaries fit in `ns` (ticks `k >= 1` with `k * num / den <= ns`).
    fn ticks_in(self, ns: u64) -> u64 {
        let v = u128::from(ns) * u128::from(self.den) / u128::from(self.num);
        u64::try_from(v).unwrap_or(u64::MAX)
    }

    /// The whole-nanosecond step between ticks, and whether it is exact.
    fn step(self) -> (u64, bool) {
        (self.num / self.den, self.num.is_multiple_of(self.den))
    }
}

/// One gdummy instance.
pub struct Gdummy {
    log: Logger,
    clock: Arc<dyn Clock>,
    bodies: Vec<Vec<u8>>,
    metadata: Vec<u8>,
    copies: usize,
    /// Ticks to emit in all (0 = no limit).
    samples: u64,
    period: Period,
    /// `pace collect`: every collect is one tick, stamped with the wall clock (the Go gdummy's
    /// behaviour without its sleep; what the benchmarks use).
    per_collect: bool,
    flush_on_startup: bool,
    /// Monotonic time at init.
    origin_ns: u64,
    /// Tick `k` is stamped `base + (k + base_shift) * interval`.
    base: EventTime,
    base_shift: u64,
    /// Set with `fixed_timestamp`: every record carries this time.
    fixed: Option<EventTime>,
    /// The next tick of the schedule to emit.
    next_tick: u64,
    /// Ticks emitted so far (for `samples`).
    emitted: u64,
    /// Most ticks one collect returns.
    max_ticks: u64,
    paused: bool,
    /// Ticks due but not yet collected when the input was paused.
    pending_at_pause: u64,
    warned_cap: bool,
    /// The records of one tick, pre-encoded (checked once) in the host's record form.
    template: Option<RecordBlock>,
    /// The first object alone, pre-encoded the same way: the record `repeat` copies.
    single: Option<RecordBlock>,
}

impl core::fmt::Debug for Gdummy {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Gdummy")
            .field("objects", &self.bodies.len())
            .field("copies", &self.copies)
            .field("samples", &self.samples)
            .field("period", &self.period)
            .field("fixed", &self.fixed)
            .field("next_tick", &self.next_tick)
            .field("emitted", &self.emitted)
            .finish()
    }
}

/// An integer key within `min..=max`, `default` when unset; the error names key, value and `allowed`.
fn int_key(cfg: &Config<'_>, key: &Key, min: i64, max: i64, allowed: &str) -> Result<i64> {
    let v = cfg.string(key)?;
    match v.trim().parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(Error::config(key.name(), &json::shown(v), allowed)),
    }
}

/// Unsigned conversion of a value already checked to be within a non-negative range.
fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn json_key(cfg: &Config<'_>, log: &Logger, key: &Key, one: bool) -> Result<Vec<Vec<u8>>> {
    let raw = cfg.string(key)?;
    let key = key.name();
    let (text, unset) = json::resolve_env(raw, |name| std::env::var(name).ok());
    for json::UnsetVar(name) in &unset {
        flb_warn!(log, "{key}: variable ${{{name}}} is used but not set (resolved to an empty string)");
    }
    json::parse_objects(key, raw, &text, one)
}

impl Gdummy {
    /// Builds an instance that reads the time from `clock` (tests and benchmarks pass a
    /// [`FakeClock`]; the plugin itself uses [`SystemClock`]).
    pub fn init_with_clock(ctx: &mut InitContext<'_>, clock: Arc<dyn Clock>) -> Result<Self> {
        let cfg = ctx.config();
        let log = ctx.logger();

        let bodies = json_key(&cfg, &log, &keys::DUMMY, false)?;
        let metadata = json_key(&cfg, &log, &keys::METADATA, true)?.pop().unwrap_or_else(|| vec![0x80]);

        let rate = int_key(
            &cfg,
            &keys::RATE,
            0,
            MAX_RATE,
            &format!("expected a whole number of events per second from 1 to {MAX_RATE}"),
        )?;
        let interval_sec = int_key(
            &cfg,
            &keys::INTERVAL_SEC,
            0,
            i64::from(i32::MAX),
            &format!("expected a whole number of seconds from 0 to {}; it overrides rate", i32::MAX),
        )?;
        let interval_nsec = int_key(
            &cfg,
            &keys::INTERVAL_NSEC,
            0,
            999_999_999,
            "expected a whole number of nanoseconds from 0 to 999999999; it overrides rate",
        )?;
        let samples = int_key(
            &cfg,
            &keys::SAMPLES,
            0,
            i64::MAX,
            "expected a whole number of events to generate, 0 for no limit",
        )?;
        let copies = int_key(
            &cfg,
            &keys::COPIES,
            1,
            MAX_COPIES,
            &format!("expected a whole number of copies per event from 1 to {MAX_COPIES}"),
        )?;
        let start_sec = int_key(
            &cfg,
            &keys::START_TIME_SEC,
            -1,
            i64::from(u32::MAX),
            &format!("expected -1 (unset) or seconds since the epoch from 0 to {}", u32::MAX),
        )?;
        let start_nsec = int_key(
            &cfg,
            &keys::START_TIME_NSEC,
            -1,
            999_999_999,
            "expected -1 (unset) or nanoseconds from 0 to 999999999",
        )?;
        let fixed_timestamp = cfg.bool(&keys::FIXED_TIMESTAMP)?;
        let flush_on_startup = cfg.bool(&keys::FLUSH_ON_STARTUP)?;
        let per_collect = match cfg.string(&keys::PACE)? {
            p if p.eq_ignore_ascii_case("rate") => false,
            p if p.eq_ignore_ascii_case("collect") => true,
            other => {
                return Err(Error::config(
                    "pace",
                    other,
                    "expected 'rate' (events at the configured rate, whatever the collect interval) \
                     or 'collect' (one event per collect)",
                ))
            }
        };

        let period = if interval_sec > 0 || interval_nsec > 0 {
            Period { num: to_u64(interval_sec) * NANOS + to_u64(interval_nsec), den: 1 }
        } else if rate > 0 {
            Period { num: NANOS, den: to_u64(rate) }
        } else {
            return Err(Error::config(
                "rate",
                &rate.to_string(),
                &format!(
                    "expected a whole number of events per second from 1 to {MAX_RATE}, \
                     or set interval_sec/interval_nsec above 0"
                ),
            ));
        };

        let copies = usize::try_from(copies).unwrap_or(1);
        let tick_bytes = bodies.iter().map(|b| b.len() + metadata.len() + 12).sum::<usize>().saturating_mul(copies);
        if tick_bytes > MAX_BATCH_BYTES {
            return Err(Error::config(
                "copies",
                &copies.to_string(),
                &format!("one event would be {tick_bytes} bytes, more than the {MAX_BATCH_BYTES}-byte batch limit"),
            ));
        }
        let by_time = period.ticks_in(CATCH_UP_SECS * NANOS);
        let by_bytes = u64::try_from(MAX_BATCH_BYTES / tick_bytes.max(1)).unwrap_or(u64::MAX);
        let max_ticks = by_time.min(by_bytes).max(1);
        if period.ticks_in(NANOS) > by_bytes {
            flb_warn!(
                log,
                "rate x record size exceeds the {MAX_BATCH_BYTES}-byte batch limit per second: \
                 at most {by_bytes} events per collect will be returned"
            );
        }

        let now_wall = clock.wall();
        let start = (start_sec >= 0 || start_nsec >= 0)
            .then(|| EventTime::new(start_sec.max(0), u32::try_from(start_nsec.max(0)).unwrap_or(0)));
        let fixed = fixed_timestamp.then(|| start.unwrap_or(now_wall));
        // Tick 0 is due at init with flush_on_startup, else one interval later; it carries start_time
        // when set, else the wall time it is due at.
        let (base, base_shift) = match start {
            Some(t) => (t, 0),
            None => (now_wall, u64::from(!flush_on_startup)),
        };

        let mut plugin = Gdummy {
            log,
            origin_ns: clock.monotonic_ns(),
            clock,
            bodies,
            metadata,
            copies,
            samples: to_u64(samples),
            period,
            per_collect,
            flush_on_startup,
            base,
            base_shift,
            fixed,
            next_tick: 0,
            emitted: 0,
            max_ticks,
            paused: false,
            pending_at_pause: 0,
            warned_cap: false,
            template: None,
            single: None,
        };
        plugin.build_template(RecordForm::Modern)?;
        Ok(plugin)
    }

    fn records_per_tick(&self) -> usize {
        self.bodies.len() * self.copies
    }

    /// Ticks of the schedule due by now (ticks `0..n`).
    fn due(&self) -> u64 {
        let elapsed = self.clock.monotonic_ns().saturating_sub(self.origin_ns);
        self.period.ticks_in(elapsed).saturating_add(u64::from(self.flush_on_startup))
    }

    fn time_of(&self, tick: u64) -> EventTime {
        match self.fixed {
            Some(t) => t,
            None if self.per_collect => self.clock.wall(),
            None => self.base.add_nanos(self.period.offset_ns(tick.saturating_add(self.base_shift))),
        }
    }

    fn build_template(&mut self, form: RecordForm) -> Result<()> {
        let t = self.fixed.unwrap_or_default();
        let mut one = EventWriter::new(form);
        one.append(t, &self.metadata, &self.bodies[0])?;
        self.single = Some(RecordBlock::new(one));
        if self.bodies.len() > 1 || self.copies > 1 {
            let mut bytes = EventWriter::new(form);
            for _ in 0..self.copies {
                for body in &self.bodies {
                    bytes.append(t, &self.metadata, body)?;
                }
            }
            self.template = Some(RecordBlock::new(bytes));
        }
        Ok(())
    }

    /// Appends the first object's record stamped `t`; returns its span (for `repeat`).
    fn append_single(&mut self, events: &mut EventWriter, t: EventTime) -> Result<RecordSpan> {
        if self.single.as_ref().map(RecordBlock::form) != Some(events.form()) {
            // Only when the host's record form differs from the one built at init.
            self.build_template(events.form())?;
        }
        let span = match self.single.as_ref() {
            Some(one) => events.append_block(one, Some(t))?,
            None => None,
        };
        span.ok_or_else(|| Error::new("gdummy: no record template"))
    }

    /// Appends ticks `first..first + n`.
    fn emit(&mut self, events: &mut EventWriter, first: u64, n: u64) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        if self.records_per_tick() == 1 {
            let t0 = self.time_of(first);
            let span = self.append_single(events, t0)?;
            let rest = first + 1..first + n;
            if rest.is_empty() {
                return Ok(());
            }
            let (step, exact) = self.period.step();
            let count = |r: &core::ops::Range<u64>| usize::try_from(r.end - r.start).unwrap_or(usize::MAX);
            if self.fixed.is_some() {
                events.repeat(&span, count(&rest), t0, 0)?;
            } else if exact {
                events.repeat(&span, count(&rest), self.time_of(rest.start), step)?;
            } else {
                let mut k = rest.start;
                while k < rest.end {
                    let seg = k..(k + SEGMENT).min(rest.end);
                    events.repeat(&span, count(&seg), self.time_of(k), step)?;
                    k = seg.end;
                }
            }
            return Ok(());
        }
        if self.bodies.len() == 1 {
            // One object, `copies` records per event, all with the event's time: the first record,
            // then memcpy copies of it (no per-record patching).
            for tick in first..first + n {
                let t = self.time_of(tick);
                let span = self.append_single(events, t)?;
                events.repeat(&span, self.copies - 1, t, 0)?;
            }
            return Ok(());
        }
        if self.template.as_ref().map(RecordBlock::form) != Some(events.form()) {
            // Only when the host's record form differs from the one built at init.
            self.build_template(events.form())?;
        }
        let Some(tpl) = self.template.as_ref() else { return Ok(()) };
        events.reserve(tpl.len().saturating_mul(usize::try_from(n).unwrap_or(usize::MAX)))?;
        for tick in first..first + n {
            let t = if self.fixed.is_none() { Some(self.time_of(tick)) } else { None };
            events.append_block(tpl, t)?;
        }
        Ok(())
    }
}

impl InputPlugin for Gdummy {
    const NAME: &'static str = "gdummy";
    const DESCRIPTION: &'static str = "Generate dummy data (Rust; native dummy input keys)";
    const KEYS: &'static [Key] = keys::KEYS;

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        Gdummy::init_with_clock(ctx, Arc::new(SystemClock::new()))
    }

    fn collect(&mut self, events: &mut EventWriter) -> Result<()> {
        if self.paused {
            return Ok(());
        }
        let due = if self.per_collect { self.next_tick + 1 } else { self.due() };
        if due <= self.next_tick {
            return Ok(());
        }
        let mut first = self.next_tick;
        let mut n = due - first;
        self.next_tick = due;
        if n > self.max_ticks {
            let skipped = n - self.max_ticks;
            first += skipped;
            n = self.max_ticks;
            if !self.warned_cap {
                self.warned_cap = true;
                flb_warn!(
                    self.log,
                    "{due_n} events were due at once (the host stalled?); returning the newest {n} and \
                     dropping {skipped}: one collect returns at most {CATCH_UP_SECS} s of events or \
                     {MAX_BATCH_BYTES} bytes (logged once)",
                    due_n = n + skipped
                );
            }
        }
        if self.samples > 0 {
            n = n.min(self.samples - self.emitted.min(self.samples));
        }
        self.emitted += n;
        self.emit(events, first, n)
    }

    fn pause(&mut self) {
        if !self.paused {
            self.paused = true;
            self.pending_at_pause = self.due().saturating_sub(self.next_tick);
        }
    }

    fn resume(&mut self) {
        if self.paused {
            self.paused = false;
            // Ticks that came due while paused are not produced (the native timer stops too);
            // those pending at the pause are kept, stamped just before now.
            self.next_tick = self.next_tick.max(self.due().saturating_sub(self.pending_at_pause));
        }
    }
}

flb_plugin_sdk::input_plugin!(Gdummy);

#[cfg(test)]
mod tests;
