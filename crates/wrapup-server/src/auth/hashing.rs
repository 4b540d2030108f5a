//! The secret-hashing pool: argon2 (checking a client secret, hashing a new one) runs on a
//! few threads of its own, behind a bounded queue, never on the threads that serve requests
//! nor on tokio's blocking pool (which would run hundreds of 19 MiB hashes at once). When
//! the queue is full, a hash is refused at once (the token endpoint answers 503
//! `temporarily_unavailable`) instead of waiting: the queue cannot grow, and neither can
//! the time a good client waits. See docs/operations.md#secret-hashing.

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::metrics::Metrics;

type Job = Box<dyn FnOnce() + Send>;

/// The pool's queue is full: the hash was not started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolBusy;

/// How big the pool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingSettings {
    /// Threads hashing at once.
    pub threads: usize,
    /// Hashes waiting for a thread, at most; more are refused.
    pub queue: usize,
}

impl Default for HashingSettings {
    /// Half the CPUs (at least one), so hashing never takes every core from requests, and
    /// a queue of 32: at ~20 ms a hash, a wait of at most ~0.6 s per thread.
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        HashingSettings {
            threads: (cpus / 2).max(1),
            queue: 32,
        }
    }
}

/// See the module docs.
pub struct HashingPool {
    jobs: SyncSender<Job>,
    metrics: Arc<Metrics>,
    settings: HashingSettings,
}

impl HashingPool {
    /// Starts the pool's threads; they end when the pool is dropped.
    pub fn new(settings: HashingSettings, metrics: Arc<Metrics>) -> HashingPool {
        let settings = HashingSettings {
            threads: settings.threads.max(1),
            queue: settings.queue,
        };
        let (jobs, queue) = mpsc::sync_channel::<Job>(settings.queue);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..settings.threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("wrapup-hashing-{n}"))
                .spawn(move || loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("starting a hashing thread");
        }
        HashingPool {
            jobs,
            metrics,
            settings,
        }
    }

    pub fn settings(&self) -> HashingSettings {
        self.settings
    }

    /// Runs `hash` on the pool and waits for its result, or refuses at once when the
    /// queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        hash: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolBusy> {
        self.submit(hash)?.await.map_err(|_| PoolBusy)
    }

    /// Queues `hash` (or refuses it, the queue being full); its result comes on the
    /// receiver.
    fn submit<T: Send + 'static>(
        &self,
        hash: impl FnOnce() -> T + Send + 'static,
    ) -> Result<oneshot::Receiver<T>, PoolBusy> {
        let (done, result) = oneshot::channel();
        let metrics = self.metrics.clone();
        let job: Job = Box::new(move || {
            let output = hash();
            metrics.hashing_jobs.dec();
            let _ = done.send(output);
        });
        self.metrics.hashing_jobs.inc();
        match self.jobs.try_send(job) {
            Ok(()) => Ok(result),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.metrics.hashing_jobs.dec();
                self.metrics.hashing_refused.inc();
                Err(PoolBusy)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use super::*;

    /// With every thread busy and the queue full, the next hash is refused at once; once
    /// the threads are free, hashes run again.
    #[tokio::test]
    async fn a_full_queue_refuses_instead_of_growing() {
        let pool = HashingPool::new(
            HashingSettings {
                threads: 1,
                queue: 1,
            },
            Arc::new(Metrics::default()),
        );
        let (started, gate) = (Arc::new(Barrier::new(2)), Arc::new(Barrier::new(2)));
        let (s, g) = (started.clone(), gate.clone());
        let running = pool
            .submit(move || {
                s.wait();
                g.wait();
                1
            })
            .unwrap();
        // The thread has taken the first job and is held in it.
        tokio::task::spawn_blocking(move || started.wait())
            .await
            .unwrap();
        let queued = pool.submit(|| 2).unwrap();
        assert_eq!(pool.submit(|| 3).err(), Some(PoolBusy));
        assert_eq!(pool.metrics.hashing_refused.get(), 1);
        assert_eq!(pool.metrics.hashing_jobs.get(), 2);
        tokio::task::spawn_blocking(move || gate.wait())
            .await
            .unwrap();
        assert_eq!(running.await, Ok(1));
        assert_eq!(queued.await, Ok(2));
        assert_eq!(pool.run(|| 4).await, Ok(4));
        assert_eq!(pool.metrics.hashing_jobs.get(), 0);
    }
}
