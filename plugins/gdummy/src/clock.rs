//! Time sources. The plugin asks a [`Clock`] for the time, so tests and benchmarks drive it with a
//! [`FakeClock`] instead of sleeping.

use flb_plugin_sdk::events::EventTime;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Where the plugin reads the time.
pub trait Clock: Send + Sync + 'static {
    /// Nanoseconds on a monotonic clock with any fixed origin: decides how many records are due.
    fn monotonic_ns(&self) -> u64;
    /// The wall-clock time: the timestamp of the first record when `start_time_*` is not set.
    fn wall(&self) -> EventTime;
}

/// The real clocks: `Instant` for elapsed time, `CLOCK_REALTIME` for timestamps.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose monotonic origin is now.
    pub fn new() -> Self {
        SystemClock { origin: Instant::now() }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn monotonic_ns(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn wall(&self) -> EventTime {
        EventTime::now()
    }
}

/// A clock that moves only when told to; its wall time is `wall0` plus the monotonic time.
#[derive(Debug)]
pub struct FakeClock {
    mono: AtomicU64,
    wall0: EventTime,
}

impl FakeClock {
    /// A clock at monotonic 0 whose wall time starts at `wall0`.
    pub fn new(wall0: EventTime) -> Self {
        FakeClock { mono: AtomicU64::new(0), wall0 }
    }

    /// Moves the clock forward by `ns` nanoseconds.
    pub fn advance_ns(&self, ns: u64) {
        self.mono.fetch_add(ns, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn monotonic_ns(&self) -> u64 {
        self.mono.load(Ordering::SeqCst)
    }

    fn wall(&self) -> EventTime {
        self.wall0.add_nanos(self.monotonic_ns())
    }
}
