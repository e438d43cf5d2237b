//! Per-function resource limits, enforced by the host.

use std::time::Duration;

/// Default wall-clock budget of one invocation (includes host calls).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(3_000);
/// Default fuel (roughly, Wasm instructions) of one invocation.
pub const DEFAULT_FUEL: u64 = 100_000_000;
/// Default cap on the function's linear memory, in MiB.
pub const DEFAULT_MEMORY_MB: u32 = 32;

/// Accepted range of `timeout_ms`.
pub const TIMEOUT_MS_RANGE: std::ops::RangeInclusive<u64> = 1..=60_000;
/// Accepted range of `fuel`.
pub const FUEL_RANGE: std::ops::RangeInclusive<u64> = 100_000..=10_000_000_000;
/// Accepted range of `memory_mb`.
pub const MEMORY_MB_RANGE: std::ops::RangeInclusive<u32> = 4..=1024;

/// Largest input JSON accepted by one invocation, in bytes (1 MiB).
pub const MAX_INPUT_BYTES: usize = 1 << 20;
/// Largest function source accepted, in bytes (4 MiB).
pub const MAX_SOURCE_BYTES: usize = 4 << 20;
/// Largest result JSON a function may produce, in bytes (1 MiB).
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;
/// Log output kept per stage, in bytes (16 KiB); the rest is replaced by a
/// truncation marker.
pub const MAX_LOG_BYTES: usize = 16 * 1024;

/// A limit given outside its accepted range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} = {value} is out of range: expected {min}..={max}")]
pub struct LimitError {
    /// The limit's configuration name (`timeout_ms`, `fuel`, `memory_mb`).
    pub name: &'static str,
    /// The rejected value.
    pub value: u64,
    /// Smallest accepted value.
    pub min: u64,
    /// Largest accepted value.
    pub max: u64,
}

/// The limits one invocation runs under.
///
/// Construct with [`Limits::default`] and the checked setters, which reject
/// values outside the documented ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    timeout: Duration,
    fuel: u64,
    max_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            fuel: DEFAULT_FUEL,
            max_memory_bytes: u64::from(DEFAULT_MEMORY_MB) << 20,
        }
    }
}

fn check(
    name: &'static str,
    value: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, LimitError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(LimitError {
            name,
            value,
            min: *range.start(),
            max: *range.end(),
        })
    }
}

impl Limits {
    /// Sets the wall-clock budget in milliseconds (1–60000; default 3000).
    pub fn timeout_ms(&mut self, ms: u64) -> Result<&mut Self, LimitError> {
        self.timeout = Duration::from_millis(check("timeout_ms", ms, TIMEOUT_MS_RANGE)?);
        Ok(self)
    }

    /// Sets the fuel budget (1e5–1e10; default 1e8).
    pub fn fuel(&mut self, fuel: u64) -> Result<&mut Self, LimitError> {
        self.fuel = check("fuel", fuel, FUEL_RANGE)?;
        Ok(self)
    }

    /// Sets the linear-memory cap in MiB (4–1024; default 32).
    pub fn memory_mb(&mut self, mb: u32) -> Result<&mut Self, LimitError> {
        let range = u64::from(*MEMORY_MB_RANGE.start())..=u64::from(*MEMORY_MB_RANGE.end());
        self.max_memory_bytes = check("memory_mb", u64::from(mb), range)? << 20;
        Ok(self)
    }

    /// The wall-clock budget.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The fuel budget.
    pub fn fuel_budget(&self) -> u64 {
        self.fuel
    }

    /// The linear-memory cap in bytes.
    pub fn max_memory_bytes(&self) -> u64 {
        self.max_memory_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_design() {
        let limits = Limits::default();
        assert_eq!(limits.timeout(), Duration::from_millis(3000));
        assert_eq!(limits.fuel_budget(), 100_000_000);
        assert_eq!(limits.max_memory_bytes(), 32 << 20);
    }

    #[test]
    fn out_of_range_values_are_rejected_with_the_value() {
        let err = Limits::default().timeout_ms(0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "timeout_ms = 0 is out of range: expected 1..=60000"
        );
        assert!(Limits::default().fuel(99_999).is_err());
        assert!(Limits::default().memory_mb(2048).is_err());
        assert!(Limits::default().memory_mb(4).is_ok());
    }
}
