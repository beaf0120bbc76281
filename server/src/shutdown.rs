//! The server's stop signal: `serve` raises it on SIGTERM or Ctrl-C, and
//! whatever holds a long-lived connection (a subscription) or a long task
//! (the workflow engine) watches it to end cleanly instead of being cut.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// More long-lived holders than a server will ever have at once.
const MAX_HOLDERS: u32 = 1 << 20;

/// Cloneable: every holder sees the same signal.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: watch::Sender<bool>,
    /// One permit per task that must end before the process does (a
    /// subscription sending its close frame): upgraded connections are not
    /// part of the HTTP server's own graceful drain.
    holders: Arc<Semaphore>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            tx: watch::channel(false).0,
            holders: Arc::new(Semaphore::new(MAX_HOLDERS as usize)),
        }
    }
}

impl Shutdown {
    /// Raises the signal (once is enough; again does nothing).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Marks a task the stop waits for, until the returned guard drops.
    pub fn hold(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.holders).try_acquire_owned().ok()
    }

    /// Resolves once every [`Shutdown::hold`] guard is dropped.
    pub async fn released(&self) {
        let _ = self.holders.acquire_many(MAX_HOLDERS).await;
    }

    /// Resolves once the signal is raised (at once if it already was).
    pub async fn triggered(&self) {
        let mut rx = self.tx.subscribe();
        // An error means every sender is gone, and this holds one: never.
        let _ = rx.wait_for(|raised| *raised).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_sees_the_signal_even_after_it_was_raised() {
        let s = Shutdown::default();
        let other = s.clone();
        let waiting = tokio::spawn(async move { other.triggered().await });
        assert!(!s.is_triggered());
        s.trigger();
        waiting.await.unwrap();
        // Raised before anyone waits: resolves at once.
        s.triggered().await;
        assert!(s.clone().is_triggered());
    }

    #[tokio::test]
    async fn released_waits_for_every_holder() {
        let s = Shutdown::default();
        let held = s.hold().unwrap();
        let waiting = tokio::spawn({
            let s = s.clone();
            async move { s.released().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(held);
        waiting.await.unwrap();
    }
}
