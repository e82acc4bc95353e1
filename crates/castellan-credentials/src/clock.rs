//! Injected time. `SystemTime::now` appears here and nowhere else in Castellan's credential
//! logic.

use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds and nanoseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl UnixTime {
    /// A time at a whole second.
    pub fn from_seconds(seconds: i64) -> UnixTime {
        UnixTime { seconds, nanos: 0 }
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => UnixTime { seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX), nanos: d.subsec_nanos() },
            // A clock set before 1970 is a broken machine; report the epoch rather than panic.
            Err(_) => UnixTime::from_seconds(0),
        }
    }
}

/// A clock that says what it is told, for tests: set it, advance it, never sleep.
#[derive(Debug, Default)]
pub struct FixedClock {
    seconds: AtomicI64,
}

impl FixedClock {
    /// A clock standing at `seconds` since the epoch.
    pub fn new(seconds: i64) -> FixedClock {
        FixedClock { seconds: AtomicI64::new(seconds) }
    }

    /// Moves the clock to `seconds`.
    pub fn set(&self, seconds: i64) {
        self.seconds.store(seconds, Ordering::SeqCst);
    }

    /// Moves the clock forward (or back, with a negative value).
    pub fn advance(&self, seconds: i64) {
        self.seconds.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_seconds(self.seconds.load(Ordering::SeqCst))
    }
}
