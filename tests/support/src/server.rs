//! Serving an axum app under test on a free loopback port, from a tokio
//! runtime of its own (dropping the runtime stops the server), and the
//! multi-threaded runtime the tests' async bodies run on.

use std::net::SocketAddr;

use axum::Router;
use tokio::runtime::Runtime;

/// A multi-threaded runtime with two workers, everything enabled.
pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Serves `app` with connect info (the peer address o11y's layer and the
/// metrics routes' `allow_from` read) on a free loopback port of `runtime`.
pub fn serve_on(runtime: &Runtime, app: Router) -> SocketAddr {
    spawn(runtime, app, true)
}

/// [`serve_on`] a new [`runtime`]; keep the runtime while serving.
pub fn serve(app: Router) -> (SocketAddr, Runtime) {
    let runtime = runtime();
    let addr = serve_on(&runtime, app);
    (addr, runtime)
}

/// Like [`serve`], as a plain `axum::serve(listener, app)`: no connect
/// info, so the app sees no peer address.
pub fn serve_without_connect_info(app: Router) -> (SocketAddr, Runtime) {
    let runtime = runtime();
    let addr = spawn(&runtime, app, false);
    (addr, runtime)
}

fn spawn(runtime: &Runtime, app: Router, connect_info: bool) -> SocketAddr {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    runtime.spawn(async move {
        let served = if connect_info {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        } else {
            axum::serve(listener, app).await
        };
        served.expect("axum::serve");
    });
    addr
}
