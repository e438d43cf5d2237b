//! Admission to the sandbox pool.
//!
//! The pooling allocator has a fixed number of instance slots. Rather than
//! let an instantiation fail when they are all taken (which a caller would
//! see as a failing function), every call and every compile first takes a
//! slot here, waiting if needed. The pool is sized for all slots of both
//! gates, so an admitted sandbox always finds room.

use std::sync::{Condvar, Mutex};
use std::time::Instant;

/// A counting gate: at most `capacity` holders at once.
#[derive(Debug)]
pub(crate) struct SlotGate {
    free: Mutex<usize>,
    freed: Condvar,
    capacity: usize,
}

/// One taken slot; released when dropped.
pub(crate) struct Slot<'a> {
    gate: &'a SlotGate,
}

impl SlotGate {
    pub fn new(capacity: usize) -> Self {
        Self {
            free: Mutex::new(capacity),
            freed: Condvar::new(),
            capacity,
        }
    }

    /// How many slots the gate has.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many slots are taken now.
    pub fn in_use(&self) -> usize {
        self.capacity - *self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a slot, waiting until one is free or `deadline` passes
    /// (`None` then). `give_up` is polled while waiting, so a cancelled
    /// caller stops waiting too.
    pub fn acquire(&self, deadline: Instant, give_up: &dyn Fn() -> bool) -> Option<Slot<'_>> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if *free > 0 {
                *free -= 1;
                return Some(Slot { gate: self });
            }
            let now = Instant::now();
            if now >= deadline || give_up() {
                return None;
            }
            // Wake at least every 10 ms to notice `give_up`.
            let wait = (deadline - now).min(std::time::Duration::from_millis(10));
            free = self
                .freed
                .wait_timeout(free, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.gate.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.gate.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn waits_for_a_slot_and_gives_up_at_the_deadline() {
        let gate = SlotGate::new(1);
        let first = gate.acquire(Instant::now(), &|| false).expect("free slot");
        assert_eq!(gate.in_use(), 1);
        let started = Instant::now();
        assert!(
            gate.acquire(started + Duration::from_millis(30), &|| false)
                .is_none()
        );
        assert!(started.elapsed() >= Duration::from_millis(30));
        drop(first);
        assert!(gate.acquire(Instant::now(), &|| false).is_some());
        assert_eq!(gate.in_use(), 0);
    }

    #[test]
    fn a_released_slot_wakes_a_waiter() {
        let gate = std::sync::Arc::new(SlotGate::new(1));
        let held = gate.acquire(Instant::now(), &|| false).map(|s| {
            std::mem::forget(s);
        });
        assert!(held.is_some());
        let waiter = {
            let gate = gate.clone();
            std::thread::spawn(move || {
                gate.acquire(Instant::now() + Duration::from_secs(5), &|| false)
                    .is_some()
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        drop(Slot { gate: &gate });
        assert!(waiter.join().unwrap());
    }
}
