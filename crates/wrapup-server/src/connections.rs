//! Serving HTTP connections on worker threads, each with a runtime of its own.
//!
//! One acceptor hands each accepted connection to the next worker in turn. A worker is an OS
//! thread running a single-threaded tokio runtime, which serves every connection it is
//! handed, from its first request to its last, on that thread. So a request never wakes
//! another thread to be scheduled. On tokio's work-stealing runtime, a busy server's
//! workers park and wake each other around nearly every request; on two cores that cost
//! a cached GET about a tenth more CPU, and 10–18 % of the GETs a second (docs/benchmarks.md,
//! issue 29's tenth session).
//!
//! What the connections share stays shared: the router's state is behind `Arc`s, the store's
//! writer is a thread of its own, and channels and timers work across runtimes. The
//! background tasks stay on the runtime that calls [`Workers::serve`].
//!
//! Invariants:
//! - Nothing on a request's path needs the multi-threaded runtime: `block_in_place` would
//!   panic on a worker. `tokio::spawn` and `spawn_blocking` work; what they spawn runs on
//!   the worker's runtime (a websocket, once upgraded, included).
//! - A socket opened on a worker (a pooled database or HTTP connection made while handling
//!   a request) is driven by that worker's runtime wherever it is used. So the workers live
//!   until [`Workers`] is dropped, which the app does after it has closed the store, not
//!   when the last connection closes.

use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::pin::{pin, Pin};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, Request};
use axum::response::Response;
use axum::serve::Listener;
use axum::Router;
use bytes::Bytes;
use futures::future::{BoxFuture, Either};
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tower::Service;

use crate::middleware::context::WithContext;

/// A connection accepted, on its way to a worker.
type Accepted = (std::net::TcpStream, SocketAddr);

/// The worker threads serving a router's connections. Dropping it ends them, cutting short
/// whatever they still run.
pub struct Workers {
    /// Each worker's queue of connections to serve; emptied when the shutdown begins.
    queues: Vec<mpsc::UnboundedSender<Accepted>>,
    /// Dropped when the shutdown begins: each connection then closes once its request in
    /// flight is answered.
    begin: Option<watch::Sender<()>>,
    /// Closed (every receiver dropped) once every worker's connections have closed.
    drained: watch::Sender<()>,
    /// Dropped to end the workers' threads.
    stop: Option<watch::Sender<()>>,
}

impl Workers {
    /// Starts `count` worker threads, each serving a router of its own made by `router`:
    /// the router's reference counts, which every request updates, then stay in the
    /// worker's core's cache instead of going back and forth between cores.
    pub fn start(count: NonZeroUsize, router: impl Fn() -> Router) -> std::io::Result<Workers> {
        let (begin, begin_rx) = watch::channel(());
        let (drained, drained_rx) = watch::channel(());
        let (stop, stop_rx) = watch::channel(());
        let mut queues = Vec::with_capacity(count.get());
        for index in 0..count.get() {
            let (queue, accepted) = mpsc::unbounded_channel();
            let worker = Worker {
                router: router(),
                begin: begin_rx.clone(),
                accepted,
            };
            let drained = drained_rx.clone();
            let mut stop = stop_rx.clone();
            // The runtime is made on its thread: one made here and dropped here (a thread
            // that failed to start) would panic in the async caller.
            let (built_tx, built) = std::sync::mpsc::sync_channel(1);
            std::thread::Builder::new()
                .name(format!("wrapup-http-{index}"))
                .spawn(move || {
                    let runtime = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(runtime) => {
                            let _ = built_tx.send(Ok(()));
                            runtime
                        }
                        Err(e) => {
                            let _ = built_tx.send(Err(e));
                            return;
                        }
                    };
                    runtime.block_on(async move {
                        let serve = async move {
                            worker.run().await;
                            drop(drained);
                            std::future::pending::<()>().await;
                        };
                        tokio::select! {
                            () = serve => {}
                            _ = stop.changed() => {}
                        }
                    });
                    // Whatever still runs on it ends here, without waiting for a blocking
                    // read in progress.
                    runtime.shutdown_background();
                })?;
            built
                .recv()
                .map_err(|_| std::io::Error::other("an HTTP worker thread ended at its start"))??;
            queues.push(queue);
        }
        Ok(Workers {
            queues,
            begin: Some(begin),
            drained,
            stop: Some(stop),
        })
    }

    /// Accepts connections on `listener`, handing each to the next worker in turn, until
    /// `signal` completes. Then stops accepting, asks every connection to close once its
    /// request in flight is answered, and returns when all have closed. Websockets, no
    /// longer HTTP connections once upgraded, end on the app's shutdown signal themselves.
    /// The workers serve once: called again, this returns at once.
    pub async fn serve(&mut self, mut listener: TcpListener, signal: impl Future<Output = ()>) {
        if self.queues.is_empty() {
            return;
        }
        let mut signal = pin!(signal);
        let mut next = 0;
        loop {
            tokio::select! {
                () = &mut signal => break,
                (stream, addr) = Listener::accept(&mut listener) => {
                    // Out of this runtime's reactor, into the worker's.
                    match stream.into_std() {
                        Ok(stream) => {
                            // A worker's queue is open until `stop`, which `&mut self` rules out here.
                            let _ = self.queues[next].send((stream, addr));
                            next = (next + 1) % self.queues.len();
                        }
                        Err(e) => tracing::debug!(error = %e, "an accepted connection was lost"),
                    }
                }
            }
        }
        drop(listener);
        self.begin = None;
        self.queues.clear();
        self.drained.closed().await;
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop = None;
    }
}

/// One worker's part: the connections it is handed.
struct Worker {
    router: Router,
    begin: watch::Receiver<()>,
    accepted: mpsc::UnboundedReceiver<Accepted>,
}

impl Worker {
    /// Serves each connection handed over until the queue closes, then waits for them all
    /// to close.
    async fn run(self) {
        let Worker {
            router,
            begin: mut everyone,
            mut accepted,
        } = self;
        // Each connection holds a receiver: closed once all have ended.
        let (open, open_rx) = watch::channel(());
        // The shutdown's start, passed on to this worker's connections by a channel of its
        // own: a connection polls it each time it is woken, and a channel's waiters are
        // behind a lock, which one shared by every worker's connections would send from core
        // to core on every request.
        let (begin, begin_rx) = watch::channel(());
        tokio::spawn(async move {
            let _ = everyone.changed().await;
            drop(begin);
        });
        while let Some((stream, addr)) = accepted.recv().await {
            match TcpStream::from_std(stream) {
                Ok(stream) => {
                    let service = CloseIfBodyUnread(WithContext::new(addr, router.clone()));
                    tokio::spawn(connection(
                        stream,
                        service,
                        begin_rx.clone(),
                        open_rx.clone(),
                    ));
                }
                Err(e) => tracing::warn!(error = %e, "could not serve an accepted connection"),
            }
        }
        drop(open_rx);
        open.closed().await;
    }
}

/// Serves one connection until it closes (handing it over when a request upgrades it to a
/// websocket); once the shutdown begins, closes it when its request in flight is answered.
async fn connection<S>(
    stream: TcpStream,
    service: S,
    mut begin: watch::Receiver<()>,
    open: watch::Receiver<()>,
) where
    S: Service<Request<Incoming>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(
            TokioIo::new(Lingering::new(stream)),
            TowerToHyperService::new(service),
        )
        .with_upgrades();
    let mut conn = pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!(error = %e, "connection ended with an error");
                }
                break;
            }
            // The sender is dropped, never sent on: `changed` then returns an error.
            // hyper then closes an idle connection at once, and one that has not sent a
            // byte yet (a browser's spare connection) too.
            _ = begin.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
    drop(open);
}

/// How long a closing connection goes on reading what the client still sends.
const LINGER_TIME: Duration = Duration::from_secs(1);
/// How much of it a closing connection reads, at most.
const LINGER_BYTES: usize = 16 << 20;

/// A connection's socket that, when the server closes it, lets the client read the answer
/// first. A socket closed with input still unread sends a reset, and a client that gets the
/// reset before it has read the answer loses the answer: the `413` of a body refused before
/// it was read (`request.body.too.large`) would reach it as "connection reset". So closing
/// first ends the writing side (the client reads the answer, then the end), then reads and
/// drops what the client still sends until it closes its side, for at most [`LINGER_TIME`]
/// and [`LINGER_BYTES`], as web servers' "lingering close" does.
struct Lingering {
    stream: TcpStream,
    /// Set once the server began closing.
    linger: Option<Linger>,
}

struct Linger {
    until: Pin<Box<tokio::time::Sleep>>,
    dropped: usize,
}

impl Lingering {
    fn new(stream: TcpStream) -> Lingering {
        Lingering {
            stream,
            linger: None,
        }
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.linger.is_none() {
            ready!(Pin::new(&mut this.stream).poll_shutdown(cx))?;
            this.linger = Some(Linger {
                until: Box::pin(tokio::time::sleep(LINGER_TIME)),
                dropped: 0,
            });
        }
        let Some(linger) = this.linger.as_mut() else {
            unreachable!("set above")
        };
        let mut scratch = [0u8; 8192];
        loop {
            if linger.dropped >= LINGER_BYTES || linger.until.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
            let mut read = ReadBuf::new(&mut scratch);
            match ready!(Pin::new(&mut this.stream).poll_read(cx, &mut read)) {
                // The client closed its side (or the socket failed): nothing will be reset.
                Ok(()) if read.filled().is_empty() => return Poll::Ready(Ok(())),
                Ok(()) => linger.dropped += read.filled().len(),
                Err(_) => return Poll::Ready(Ok(())),
            }
        }
    }
}

/// Answers `Connection: close` when the handler did not read the request's body to its end
/// (a refusal before the body mattered: `413`, `401`, `404`…). hyper then cannot find where
/// the next request begins and closes the connection after the answer; without the header
/// a client may already have sent its next request on it, and would see it fail.
#[derive(Clone)]
struct CloseIfBodyUnread<S>(S);

impl<S> Service<Request<Incoming>> for CloseIfBodyUnread<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        // A request without a body (every GET) has nothing to leave unread.
        if request.body().is_end_stream() {
            return Either::Left(self.0.call(request.map(Body::new)));
        }
        let ended = Arc::new(AtomicBool::new(false));
        let request = request.map(|body| {
            Body::new(Tracked {
                body,
                ended: ended.clone(),
            })
        });
        let answer = self.0.call(request);
        Either::Right(Box::pin(async move {
            let mut response = answer.await?;
            if !ended.load(Ordering::Acquire) {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response)
        }))
    }
}

/// A request body that notes when it was read to its end.
struct Tracked {
    body: Incoming,
    ended: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let frame = ready!(Pin::new(&mut this.body).poll_frame(cx));
        if frame.is_none() || this.body.is_end_stream() {
            this.ended.store(true, Ordering::Release);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
