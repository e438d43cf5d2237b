//! Stopping invocations whose result nobody wants any more.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Asks running sandboxes to stop early.
///
/// A sandbox checks its token at every epoch tick (about once a
/// millisecond) and ends with error kind `timeout` once it is cancelled.
/// [`crate::Pipeline::run`] cancels its token when its future is dropped (the
/// caller went away); a server cancels a shared parent token at the end of
/// its shutdown grace period. Cheap to clone: clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    parent: Option<CancelToken>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new token that is cancelled when `self` is (or by itself, without
    /// affecting `self`).
    pub fn child(&self) -> Self {
        Self {
            inner: Arc::new(Inner {
                cancelled: AtomicBool::new(false),
                parent: Some(self.clone()),
            }),
        }
    }

    /// Cancels this token and its children.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::Release);
    }

    /// True once this token or one of its parents was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::Acquire)
            || self.inner.parent.as_ref().is_some_and(|p| p.is_cancelled())
    }
}

/// Cancels its token when dropped, unless disarmed first.
pub(crate) struct CancelOnDrop {
    token: Option<CancelToken>,
}

impl CancelOnDrop {
    pub fn new(token: CancelToken) -> Self {
        Self { token: Some(token) }
    }

    /// The work finished: dropping no longer cancels.
    pub fn disarm(mut self) {
        self.token = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(token) = &self.token {
            token.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_follow_their_parent_but_not_the_other_way() {
        let parent = CancelToken::new();
        let child = parent.child();
        child.cancel();
        assert!(child.is_cancelled());
        assert!(!parent.is_cancelled());
        let other = parent.child();
        parent.cancel();
        assert!(other.is_cancelled());
    }

    #[test]
    fn cancel_on_drop_unless_disarmed() {
        let token = CancelToken::new();
        CancelOnDrop::new(token.clone()).disarm();
        assert!(!token.is_cancelled());
        drop(CancelOnDrop::new(token.clone()));
        assert!(token.is_cancelled());
    }
}
