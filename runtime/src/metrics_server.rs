//! The standalone metrics server, for processes without an HTTP server of
//! their own ([`serve`], [`serve_configured`]): HTTP/1.1 (hyper) on its own
//! thread with a current-thread Tokio runtime, so it works in a sync
//! program and beside any runtime of the application's. It answers `GET`
//! (and `HEAD`) on `metrics.endpoint`, 404 on other paths and 405 on other
//! methods, with the scrape answer and access rules of `metrics`; with
//! `dev_console.enabled`, the dev console under `/o11y/` (`dev_console`).
//!
//! ```no_run
//! fn main() -> Result<(), o11y_runtime::Error> {
//!     let _o11y = o11y_runtime::init()?;
//!     // Serves until dropped: keep it for the life of the worker.
//!     let _metrics = o11y_runtime::metrics_server::serve("127.0.0.1:9464")?;
//!     // ... the worker's loop ...
//!     Ok(())
//! }
//! ```

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http::header::ALLOW;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::oneshot;

use crate::dev_console;
use crate::error::Error;
use crate::metrics::scrape_response;
use crate::metrics::server::{active, plain};

/// A client that has not sent its request head within this is disconnected.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A running standalone metrics server; stops when dropped (or at
/// [`MetricsServer::shutdown`]).
#[must_use = "the metrics server stops when dropped: keep it, e.g. `let _metrics = o11y::metrics::serve(addr)?;`"]
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts a standalone metrics server on `addr` (e.g. `"127.0.0.1:9464"`,
/// or port 0 for any free port; see [`MetricsServer::local_addr`]).
///
/// The address is bound before this returns, so a port in use is an error
/// here, not later. The server runs on a thread of its own until the
/// returned [`MetricsServer`] is dropped.
pub fn serve(addr: impl ToSocketAddrs) -> Result<MetricsServer, Error> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|source| serve_error("the given address", source))?
        .collect();
    let shown = addrs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let listener =
        std::net::TcpListener::bind(&addrs[..]).map_err(|source| serve_error(&shown, source))?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| serve_error(&shown, source))?;
    listener
        .set_nonblocking(true)
        .map_err(|source| serve_error(&shown, source))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|source| serve_error(&shown, source))?;
    let (stop, stopped) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("o11y-metrics".into())
        .spawn(move || runtime.block_on(accept_loop(listener, stopped)))
        .map_err(|source| serve_error(&shown, source))?;
    Ok(MetricsServer {
        local_addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

/// Starts the standalone metrics server on `metrics.listen` from the active
/// configuration (`127.0.0.1:9464` when o11y is not initialised). Call it
/// after `init()`.
pub fn serve_configured() -> Result<MetricsServer, Error> {
    serve(active().listen)
}

fn serve_error(addr: &str, source: std::io::Error) -> Error {
    Error::MetricsServer {
        addr: addr.to_owned(),
        source,
    }
}

impl MetricsServer {
    /// The address it listens on (the actual port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes open connections and waits for the server
    /// thread to end. Dropping the server does the same.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

async fn accept_loop(listener: std::net::TcpListener, mut stopped: oneshot::Receiver<()>) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(target: "o11y::metrics", %error, "the metrics server cannot start");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tokio::spawn(connection(stream, peer));
                }
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(target: "o11y::metrics", %error, "the metrics server cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
    // Returning ends `block_on`; dropping the runtime drops the open connections.
}

async fn connection(stream: tokio::net::TcpStream, peer: SocketAddr) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| async move {
        if dev_console::enabled() && dev_console::is_console_path(request.uri().path()) {
            return Ok::<_, Infallible>(console(request, peer.ip()).await.map(Full::new));
        }
        Ok(handle(&request, peer.ip()).map(|body| Full::new(Bytes::from(body))))
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(error) = served {
        tracing::debug!(target: "o11y::metrics", %error, %peer, "metrics connection ended with an error");
    }
}

/// The dev console: the body read up to `dev_console.max_body_bytes`, then
/// the handler the axum routes call too.
async fn console(request: Request<Incoming>, peer: IpAddr) -> Response<Bytes> {
    let limit = dev_console::max_body_bytes();
    let (parts, body) = request.into_parts();
    let Ok(body) = Limited::new(body, limit).collect().await else {
        return dev_console::too_large(limit);
    };
    dev_console::handle(Request::from_parts(parts, body.to_bytes()), Some(peer))
}

/// Routes a request of the standalone server.
fn handle<B>(request: &Request<B>, peer: IpAddr) -> Response<String> {
    if request.uri().path() != active().endpoint {
        return plain(StatusCode::NOT_FOUND, "404 Not Found\n");
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        let mut response = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "405 Method Not Allowed: use GET\n",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    scrape_response(Some(peer), request.headers())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_path_and_method() {
        let localhost: IpAddr = [127, 0, 0, 1].into();
        let get = |path: &str| Request::get(path).body(()).unwrap();
        assert_eq!(handle(&get("/metrics"), localhost).status(), StatusCode::OK);
        assert_eq!(
            handle(&get("/metrics?x=1"), localhost).status(),
            StatusCode::OK
        );
        assert_eq!(
            handle(&get("/other"), localhost).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            handle(&get("/metrics/"), localhost).status(),
            StatusCode::NOT_FOUND
        );
        let post = Request::post("/metrics").body(()).unwrap();
        let response = handle(&post, localhost);
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[ALLOW], "GET, HEAD");
    }

    #[test]
    fn serves_until_shut_down() {
        use std::io::{Read, Write};
        let server = serve("127.0.0.1:0").unwrap();
        let addr = server.local_addr();
        assert_ne!(addr.port(), 0);
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
        assert!(
            response.contains("# TYPE o11y_build_info gauge"),
            "{response}"
        );
        server.shutdown();
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "still listening after shutdown"
        );
    }

    #[test]
    fn a_port_in_use_is_an_error_naming_it() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let error = serve(addr).unwrap_err().to_string();
        assert!(error.contains(&addr.to_string()), "{error}");
    }
}
