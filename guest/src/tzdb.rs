//! Time zone data for `Intl`, from the host.
//!
//! The IANA database is about half a megabyte; compiled into the engine it
//! would sit in every sandbox's linear memory (which the host scans after
//! every call). So the host keeps it and hands out one zone's TZif data on
//! request, over a descriptor only authpipe's host opens ([`TZDB_FD`]): the
//! guest writes a zone name and reads back `CANONICAL_NAME\n` followed by
//! the TZif bytes, or nothing for an unknown zone. Zones are kept for the
//! rest of the call. UTC needs no data; under a stock WASI host it is the
//! only zone.

use jiff::tz::TimeZone;
use std::cell::RefCell;
use std::collections::HashMap;

/// The descriptor zone requests travel over ("TZDB"). Keep in step with
/// `TZDB_FD` in the host's `sandbox.rs`.
pub const TZDB_FD: u32 = 0x545A_4442;

thread_local! {
    static ZONES: RefCell<HashMap<String, Option<(String, TimeZone)>>> = RefCell::new(HashMap::new());
}

/// The zone called `name` (any ASCII case) with its canonical name, or
/// `None` when there is no such zone.
pub fn lookup(name: &str) -> Option<(String, TimeZone)> {
    if name.eq_ignore_ascii_case("UTC") {
        return Some(("UTC".to_string(), TimeZone::UTC));
    }
    let key = name.to_ascii_lowercase();
    if let Some(known) = ZONES.with(|zones| zones.borrow().get(&key).cloned()) {
        return known;
    }
    let found = crate::wasi::exchange(TZDB_FD, name.as_bytes()).and_then(|answer| {
        let split = answer.iter().position(|&b| b == b'\n')?;
        let canonical = std::str::from_utf8(&answer[..split]).ok()?;
        let zone = TimeZone::tzif(canonical, &answer[split + 1..]).ok()?;
        Some((canonical.to_string(), zone))
    });
    ZONES.with(|zones| zones.borrow_mut().insert(key, found.clone()));
    found
}
