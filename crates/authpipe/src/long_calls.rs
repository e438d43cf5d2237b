//! Long-running calls share the cores in turns.
//!
//! A call that has run for [`SHORT_CALL`] becomes *long* (an auth function
//! normally finishes in well under a millisecond; a long one is usually
//! spinning towards a limit). Long calls run only while holding one of the
//! process's slots, one per core but one (at least one), taken at an epoch
//! tick and handed on, first come first served, every [`SLICE_TICKS`]
//! ticks when others wait. So however many long calls one tenant starts,
//! they take turns with every other tenant's long calls on all cores but
//! one, and short calls never wait for a slot: one core is always free of
//! long calls for them. (Measured: an ordinary invocation's p50 rose 3-4x
//! beside four spinning sandboxes on two cores without slots, 20-45% with.)
//!
//! A call waiting for a slot still ends at its deadline (or when
//! cancelled); a call blocked in `fetch` gives its slot up.

use crate::cancel::CancelToken;
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a call counts as short.
pub(crate) const SHORT_CALL: Duration = Duration::from_millis(2);
/// Epoch ticks a long call runs before handing its slot on to a waiter.
pub(crate) const SLICE_TICKS: u32 = 4;

/// The process's long-call slots.
pub(crate) struct LongSlots {
    #[cfg_attr(not(test), allow(dead_code))]
    capacity: usize,
    state: Mutex<Queue>,
    turn: Condvar,
}

struct Queue {
    free: usize,
    next_ticket: u64,
    waiting: VecDeque<u64>,
}

/// Why a wait for a slot ended without one.
pub(crate) enum Stop {
    /// The call's deadline passed.
    Deadline,
    /// The call was cancelled.
    Cancelled,
}

/// A held slot; released when dropped.
pub(crate) struct LongSlot(&'static LongSlots);

impl Drop for LongSlot {
    fn drop(&mut self) {
        let mut queue = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        queue.free += 1;
        drop(queue);
        self.0.turn.notify_all();
    }
}

impl LongSlots {
    /// The slots of this process: one per core but one, at least one.
    pub(crate) fn global() -> &'static LongSlots {
        static SLOTS: OnceLock<LongSlots> = OnceLock::new();
        SLOTS.get_or_init(|| {
            let capacity = std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1).max(1));
            LongSlots {
                capacity,
                state: Mutex::new(Queue {
                    free: capacity,
                    next_ticket: 0,
                    waiting: VecDeque::new(),
                }),
                turn: Condvar::new(),
            }
        })
    }

    /// Slots in all.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// True when a long call waits for a slot.
    pub(crate) fn contended(&self) -> bool {
        !self
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .waiting
            .is_empty()
    }

    /// Waits for a slot, in arrival order, until `deadline` or `cancel`.
    pub(crate) fn acquire(
        &'static self,
        deadline: Instant,
        cancel: Option<&CancelToken>,
    ) -> Result<LongSlot, Stop> {
        let mut queue = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if queue.free > 0 && queue.waiting.is_empty() {
            queue.free -= 1;
            return Ok(LongSlot(self));
        }
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.waiting.push_back(ticket);
        loop {
            if queue.free > 0 && queue.waiting.front() == Some(&ticket) {
                queue.waiting.pop_front();
                queue.free -= 1;
                let more = queue.free > 0 && !queue.waiting.is_empty();
                drop(queue);
                if more {
                    self.turn.notify_all();
                }
                return Ok(LongSlot(self));
            }
            let now = Instant::now();
            let stop = if cancel.is_some_and(CancelToken::is_cancelled) {
                Some(Stop::Cancelled)
            } else if now >= deadline {
                Some(Stop::Deadline)
            } else {
                None
            };
            if let Some(stop) = stop {
                queue.waiting.retain(|t| *t != ticket);
                drop(queue);
                self.turn.notify_all();
                return Err(stop);
            }
            // Wake at least every millisecond to notice a cancellation.
            let wait = (deadline - now).min(Duration::from_millis(1));
            queue = self
                .turn
                .wait_timeout(queue, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_taken_in_turn_and_waits_end_at_the_deadline() {
        let slots = LongSlots::global();
        let held: Vec<LongSlot> = (0..slots.capacity())
            .map(|_| {
                slots
                    .acquire(Instant::now() + Duration::from_secs(1), None)
                    .ok()
                    .unwrap()
            })
            .collect();
        let started = Instant::now();
        let refused = slots.acquire(Instant::now() + Duration::from_millis(30), None);
        assert!(matches!(refused, Err(Stop::Deadline)));
        assert!(started.elapsed() >= Duration::from_millis(30));
        let cancel = CancelToken::new();
        cancel.cancel();
        let refused = slots.acquire(Instant::now() + Duration::from_secs(5), Some(&cancel));
        assert!(matches!(refused, Err(Stop::Cancelled)));
        let waiter = std::thread::spawn(move || {
            slots
                .acquire(Instant::now() + Duration::from_secs(5), None)
                .is_ok()
        });
        std::thread::sleep(Duration::from_millis(20));
        assert!(slots.contended());
        drop(held);
        assert!(waiter.join().unwrap());
        assert!(!slots.contended());
    }
}
