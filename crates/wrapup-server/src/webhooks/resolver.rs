//! The DNS resolver of webhook deliveries ([`GuardedResolver`]): the addresses a name
//! resolves to at send time, checked against the [`TargetPolicy`] (see `target.rs`).
//!
//! Name lookups are blocking calls (`getaddrinfo`), run on tokio's blocking threads, which
//! the store's reads share. A resolver that does not answer holds each lookup for seconds,
//! and every delivery resolves its endpoint's name: with a hundred endpoints of unresolvable
//! hosts and their retries due together, unbounded lookups took every blocking thread and
//! the API's reads and writes stalled for 4–5 s at each retry (measured under schemathesis's
//! fuzzing). So lookups are bounded and shared ([`Lookups`]): at most
//! [`CONCURRENT_LOOKUPS`] run at once, and deliveries that need the same name while it is
//! being looked up wait for that one lookup. Nothing is cached beyond it: the next send
//! looks the name up again (DNS rebinding is checked at every send).

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex};

use futures::future::{BoxFuture, FutureExt, Shared};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::Semaphore;

use super::target::TargetPolicy;

/// The most name lookups a node runs at once (of tokio's 512 blocking threads).
pub const CONCURRENT_LOOKUPS: usize = 8;

/// The DNS resolver of the webhook client: resolves a name, keeps only the addresses the
/// policy allows, and fails when none is left. The client connects only to what this
/// returns, so the address checked is the address connected to.
pub struct GuardedResolver {
    policy: TargetPolicy,
    lookups: Arc<Lookups>,
}

impl GuardedResolver {
    pub fn new(policy: TargetPolicy) -> GuardedResolver {
        GuardedResolver {
            policy,
            lookups: Lookups::new(CONCURRENT_LOOKUPS, Arc::new(system_lookup)),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        let lookups = self.lookups.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = lookups.resolve(&host).await.map_err(|e| e.to_string())?;
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused.get_or_insert(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refused.unwrap_or_else(|| "it resolves to no address".into());
                return Err(format!("refused: {host}: {why}").into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// A blocking name lookup: the system's (`getaddrinfo`), or a test's.
type LookupFn = Arc<dyn Fn(&str) -> io::Result<Vec<SocketAddr>> + Send + Sync>;

/// What a lookup found, shared by everyone who waited for it (errors as their message).
type Found = Result<Arc<[SocketAddr]>, Arc<str>>;

fn system_lookup(host: &str) -> io::Result<Vec<SocketAddr>> {
    Ok((host, 0).to_socket_addrs()?.collect())
}

/// The lookups running: at most `permits` at once, one per name.
struct Lookups {
    permits: Arc<Semaphore>,
    running: Mutex<HashMap<String, Shared<BoxFuture<'static, Found>>>>,
    lookup: LookupFn,
}

impl Lookups {
    fn new(concurrent: usize, lookup: LookupFn) -> Arc<Lookups> {
        Arc::new(Lookups {
            permits: Arc::new(Semaphore::new(concurrent)),
            running: Mutex::new(HashMap::new()),
            lookup,
        })
    }

    /// The addresses of `host`: joins the lookup of it that is running, or starts one.
    async fn resolve(self: &Arc<Self>, host: &str) -> Found {
        let running = {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            running
                .entry(host.to_string())
                .or_insert_with(|| self.start(host))
                .clone()
        };
        running.await
    }

    /// Starts looking `host` up in a task of its own, which runs to its end even if every
    /// delivery waiting for it gives up (their send timed out), then forgets the lookup. The
    /// permit is held by the blocking call itself, so a lookup that cannot be stopped still
    /// counts against the bound.
    fn start(self: &Arc<Self>, host: &str) -> Shared<BoxFuture<'static, Found>> {
        let lookups = self.clone();
        let host = host.to_string();
        let task = tokio::spawn(async move {
            let permit = lookups.permits.clone().acquire_owned().await;
            let lookup = lookups.lookup.clone();
            let name = host.clone();
            let found = tokio::task::spawn_blocking(move || {
                let _permit = permit;
                lookup(&name)
            })
            .await;
            // The map's entry for `host` is this lookup: another is inserted only after this
            // removal.
            lookups
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&host);
            match found {
                Ok(Ok(addresses)) => Ok(Arc::from(addresses)),
                Ok(Err(e)) => Err(Arc::from(e.to_string())),
                Err(e) => Err(Arc::from(format!("the name lookup failed: {e}"))),
            }
        });
        async move {
            task.await
                .unwrap_or_else(|e| Err(Arc::from(format!("the name lookup failed: {e}"))))
        }
        .boxed()
        .shared()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Condvar;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn names_resolving_to_refused_addresses_are_not_connected_to() {
        let name: Name = "localhost".parse().unwrap();
        let refused = GuardedResolver::new(TargetPolicy::PublicOnly)
            .resolve(name)
            .await;
        let message = refused.err().expect("refused").to_string();
        assert!(message.contains("refused: localhost"), "{message}");
        let name: Name = "localhost".parse().unwrap();
        let allowed = GuardedResolver::new(TargetPolicy::AllowLoopback)
            .resolve(name)
            .await;
        assert!(allowed.unwrap().all(|a| a.ip().is_loopback()));
    }

    /// A lookup that blocks until the test opens the gate, counting itself.
    #[derive(Default)]
    struct Gate {
        open: Mutex<bool>,
        opened: Condvar,
        calls: AtomicUsize,
        active: AtomicUsize,
        most_active: AtomicUsize,
    }

    impl Gate {
        fn lookup(
            self: &Arc<Self>,
            entered: tokio::sync::mpsc::UnboundedSender<String>,
        ) -> LookupFn {
            let gate = self.clone();
            Arc::new(move |host: &str| {
                gate.calls.fetch_add(1, Ordering::SeqCst);
                let active = gate.active.fetch_add(1, Ordering::SeqCst) + 1;
                gate.most_active.fetch_max(active, Ordering::SeqCst);
                let _ = entered.send(host.to_string());
                let mut open = gate.open.lock().unwrap();
                while !*open {
                    open = gate.opened.wait(open).unwrap();
                }
                gate.active.fetch_sub(1, Ordering::SeqCst);
                Ok(vec![SocketAddr::from(([93, 184, 216, 34], 0))])
            })
        }

        fn open(&self) {
            *self.open.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.opened.notify_all();
        }
    }

    /// Opens the gate when the test ends, failed or not: the runtime's drop waits for its
    /// blocking threads.
    struct OpenOnDrop(Arc<Gate>);

    impl Drop for OpenOnDrop {
        fn drop(&mut self) {
            self.0.open();
        }
    }

    /// Lookups that hang take at most their bound of blocking threads (others, such as the
    /// store's reads, still run), and deliveries to one name share one lookup.
    #[test]
    fn hanging_lookups_are_bounded_and_shared_by_name() {
        let bound = 3;
        // One blocking thread more than the lookups may take: it must stay free.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(bound + 1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let gate = Arc::new(Gate::default());
            let _open_at_the_end = OpenOnDrop(gate.clone());
            let (entered, mut entries) = tokio::sync::mpsc::unbounded_channel();
            let lookups = Lookups::new(bound, gate.lookup(entered));
            // 40 sends to 10 names, all asking before any lookup ends (the current-thread
            // runtime polls every one of them before a lookup task runs).
            let hosts: Vec<String> = (0..40).map(|i| format!("host-{}.example", i % 10)).collect();
            let all = tokio::spawn({
                let lookups = lookups.clone();
                async move {
                    futures::future::join_all(hosts.iter().map(|h| lookups.resolve(h))).await
                }
            });
            for _ in 0..bound {
                entries.recv().await.expect("a lookup started");
            }
            // The bound is taken; another blocking job still gets a thread. (The timeout only
            // turns a hang into a failure.)
            let other = tokio::time::timeout(
                Duration::from_secs(30),
                tokio::task::spawn_blocking(|| "ran"),
            )
            .await
            .expect("a blocking job waited for the lookups: they took every blocking thread");
            assert_eq!(other.unwrap(), "ran");

            gate.open();
            let found = all.await.unwrap();
            assert!(found.iter().all(|f| f.as_ref().is_ok_and(|a| a.len() == 1)));
            assert_eq!(gate.calls.load(Ordering::SeqCst), 10, "one lookup per name");
            assert_eq!(gate.most_active.load(Ordering::SeqCst), bound);
            assert!(lookups.running.lock().unwrap().is_empty());

            // A finished lookup is not reused: the next send looks the name up again.
            lookups.resolve("host-0.example").await.unwrap();
            assert_eq!(gate.calls.load(Ordering::SeqCst), 11);
        });
    }
}
