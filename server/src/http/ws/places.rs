//! How many live-event connections and subscriptions may be open, and the
//! times a connection is given. One valid token must not be able to hold
//! the server with thousands of sockets: each costs a task, buffers and a
//! token lookup every few seconds, and each subscription a receiver on the
//! event bus. So connections and subscriptions are counted per tenant (one
//! tenant's flood never takes another tenant's places), and sockets that
//! have not authenticated yet are counted over all and given
//! [`Settings::init_timeout`] to do it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Seconds a socket has to send `connection_init` (`serve --ws-init-timeout`).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the server pings each socket (`serve --ws-keepalive`); a socket
/// from which nothing came in two of these is dropped.
pub const KEEPALIVE: Duration = Duration::from_secs(15);

/// Open connections of one tenant (`serve --ws-connections-per-tenant`): a
/// large warehouse has a few hundred handhelds, each following with one.
pub const CONNECTIONS_PER_TENANT: usize = 1_000;

/// Open subscriptions of one tenant (`serve --ws-subscriptions-per-tenant`).
pub const SUBSCRIPTIONS_PER_TENANT: usize = 2_000;

/// Sockets of all tenants that have not authenticated yet (no token on the
/// upgrade, no `connection_init` yet): each leaves within the init timeout.
pub const PENDING: usize = 256;

/// The times and bounds of the live-event route.
#[derive(Debug, Clone)]
pub struct Settings {
    pub init_timeout: Duration,
    pub keepalive: Duration,
    pub connections_per_tenant: usize,
    pub subscriptions_per_tenant: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            init_timeout: INIT_TIMEOUT,
            keepalive: KEEPALIVE,
            connections_per_tenant: CONNECTIONS_PER_TENANT,
            subscriptions_per_tenant: SUBSCRIPTIONS_PER_TENANT,
        }
    }
}

struct Tenant {
    connections: Arc<Semaphore>,
    subscriptions: Arc<Semaphore>,
}

/// The places of the live-event route; a place is held as long as its
/// permit lives.
pub struct Places {
    pub settings: Settings,
    pending: Arc<Semaphore>,
    tenants: Mutex<HashMap<i64, Tenant>>,
}

impl Places {
    pub fn new(settings: Settings) -> Places {
        Places {
            settings,
            pending: Arc::new(Semaphore::new(PENDING)),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// A place for a socket still to authenticate, or `None` when
    /// [`PENDING`] are waiting.
    pub fn pending(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.pending).try_acquire_owned().ok()
    }

    /// A place for one connection of `tenant`, or `None` when it has
    /// [`Settings::connections_per_tenant`] open.
    pub fn connection(&self, tenant: i64) -> Option<OwnedSemaphorePermit> {
        self.with_tenant(tenant, |t| Arc::clone(&t.connections))
            .try_acquire_owned()
            .ok()
    }

    /// A place for one subscription of `tenant`, or `None` when it has
    /// [`Settings::subscriptions_per_tenant`] open.
    pub fn subscription(&self, tenant: i64) -> Option<OwnedSemaphorePermit> {
        self.with_tenant(tenant, |t| Arc::clone(&t.subscriptions))
            .try_acquire_owned()
            .ok()
    }

    /// Subscriptions open now, over all tenants (for `/metrics`).
    pub fn subscriptions_open(&self) -> usize {
        let tenants = self
            .tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tenants
            .values()
            .map(|t| {
                self.settings
                    .subscriptions_per_tenant
                    .saturating_sub(t.subscriptions.available_permits())
            })
            .sum()
    }

    fn with_tenant(
        &self,
        tenant: i64,
        pick: impl FnOnce(&Tenant) -> Arc<Semaphore>,
    ) -> Arc<Semaphore> {
        let mut tenants = self
            .tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = tenants.entry(tenant).or_insert_with(|| Tenant {
            connections: Arc::new(Semaphore::new(self.settings.connections_per_tenant)),
            subscriptions: Arc::new(Semaphore::new(self.settings.subscriptions_per_tenant)),
        });
        pick(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_per_tenant_and_come_back_when_dropped() {
        let places = Places::new(Settings {
            connections_per_tenant: 2,
            subscriptions_per_tenant: 1,
            ..Settings::default()
        });
        let a1 = places.connection(1);
        let a2 = places.connection(1);
        assert!(a1.is_some() && a2.is_some());
        assert!(places.connection(1).is_none());
        // Another tenant is not held back.
        assert!(places.connection(2).is_some());
        drop(a1);
        assert!(places.connection(1).is_some());

        let s = places.subscription(1);
        assert!(s.is_some());
        assert!(places.subscription(1).is_none());
        drop(s);
        assert!(places.subscription(1).is_some());

        let pending: Vec<_> = (0..PENDING).map(|_| places.pending()).collect();
        assert!(pending.iter().all(Option::is_some));
        assert!(places.pending().is_none());
    }
}
