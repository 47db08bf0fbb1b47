//! The quickstart's HTTP API: the routes, their handlers (each observed:
//! a span, RED metrics, errors recorded), and the JSON errors they answer.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sqlx::sqlite::SqlitePool;

use crate::orders::{Invalid, NewOrder, Order};
use crate::queue::Confirmations;
use crate::store;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The orders database.
    pub db: SqlitePool,
    /// The queue of orders to confirm in the background.
    pub confirmations: Confirmations,
}

#[o11y::metric(counter, help = "Orders placed through the API")]
static ORDERS_PLACED: o11y::Counter;

/// The routes, as the README lists them.
pub const ROUTES: &[&str] = &[
    "GET  /orders/{id}   one order (one query)",
    "GET  /orders        every order, with a deliberate N+1 (one query per order)",
    "GET  /orders/fast   the same data with one joined query",
    "POST /orders        place an order: {\"customer\": \"ada\", \"items\": [{\"sku\": \"A-1\", \"quantity\": 2, \"unit_price\": \"9.99\"}]}",
    "GET  /boom          a handler error: 500",
    "GET  /health        liveness (not traced)",
    "GET  /metrics       Prometheus / OpenMetrics",
];

/// The application: the routes, o11y's metrics endpoint, and o11y's layer
/// around all of it (request spans, request ids, RED metrics, access log).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/orders", get(list_orders).post(place_order))
        .route("/orders/fast", get(list_orders_fast))
        .route("/orders/{id}", get(get_order))
        .route("/boom", get(boom))
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
        .merge(o11y::http::routes())
        .layer(o11y::http::layer())
}

/// The app served on `listener` (with the clients' addresses, which the
/// layer records) on a task of its own, until `stop` sends or is dropped.
pub fn spawn_server(
    listener: tokio::net::TcpListener,
    app: Router,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> tokio::task::JoinHandle<std::io::Result<()>> {
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop.await;
            })
            .into_future(),
    )
}

/// An order, or a JSON 404. A missing order is an answer, not a failure:
/// `Ok`, so neither the span nor the function's metrics count an error.
/// An id that is not a whole number gets a JSON 400. Its objective (99.9 %
/// of calls succeed, 99 % within 250 ms) becomes recording rules, burn-rate
/// alerts and the SLO dashboard (`cargo o11y rules`, `cargo o11y dashboards`).
#[o11y::observe(objective(success = 99.9, latency = "250ms" at 99))]
async fn get_order(
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> Result<Response, AppError> {
    let Ok(Path(id)) = id else {
        return Ok(answer(
            StatusCode::BAD_REQUEST,
            "an order id is a whole number",
        ));
    };
    o11y::tag("order_id", id);
    Ok(match store::order(&state.db, id).await? {
        Some(order) => Json(order).into_response(),
        None => answer(StatusCode::NOT_FOUND, &format!("no order {id}")),
    })
}

/// A JSON answer `{"error": message}`.
fn answer(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

#[o11y::observe]
async fn list_orders(State(state): State<AppState>) -> Result<Json<Vec<Order>>, AppError> {
    Ok(Json(store::orders_one_by_one(&state.db).await?))
}

#[o11y::observe]
async fn list_orders_fast(State(state): State<AppState>) -> Result<Json<Vec<Order>>, AppError> {
    Ok(Json(store::orders_joined(&state.db).await?))
}

/// Validates the body, stores the order, and hands it to the background
/// worker for confirmation; answers 201 with the stored order.
#[o11y::observe(err(level = "warn"))]
async fn place_order(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Order>), AppError> {
    let new = NewOrder::from_json(&body)?;
    // Room in the queue first: never an order stored that no task confirms.
    let slot = state.confirmations.reserve().ok_or(AppError::Busy)?;
    let order = store::insert(&state.db, &new).await?;
    o11y::tag("order_id", order.id);
    ORDERS_PLACED.inc();
    tracing::info!(order_id = order.id, customer = %order.customer, total = %order.total, "order placed");
    slot.enqueue(&order).await;
    Ok((StatusCode::CREATED, Json(order)))
}

/// Always fails: what a 500 looks like in the span, the logs and the metrics.
#[o11y::observe(err)]
async fn boom() -> Result<&'static str, AppError> {
    Err(AppError::Internal("the boom route always fails".to_owned()))
}

/// A handler's error, answered as JSON with its status.
#[derive(Debug)]
pub enum AppError {
    /// 503: too many orders wait for processing; retry later.
    Busy,
    /// 422: the body is malformed or invalid; names the field.
    Invalid(Invalid),
    /// 500: the database failed.
    Database(sqlx::Error),
    /// 500: anything else.
    Internal(String),
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppError::Busy => f.write_str("too many orders waiting for processing"),
            AppError::Invalid(invalid) => {
                write!(f, "invalid {}: {}", invalid.field, invalid.message)
            }
            AppError::Database(error) => write!(f, "database error: {error}"),
            AppError::Internal(what) => write!(f, "internal error: {what}"),
        }
    }
}

impl std::error::Error for AppError {}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::Database(error)
    }
}

impl From<Invalid> for AppError {
    fn from(invalid: Invalid) -> Self {
        AppError::Invalid(invalid)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            AppError::Busy => {
                let body = serde_json::json!({ "error": "too many orders waiting; retry later" });
                let retry = [(axum::http::header::RETRY_AFTER, "1")];
                return (StatusCode::SERVICE_UNAVAILABLE, retry, Json(body)).into_response();
            }
            AppError::Invalid(invalid) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                serde_json::json!({ "error": "invalid request body", "field": invalid.field, "message": invalid.message }),
            ),
            // The details are in the span and the log line, not in the answer.
            AppError::Database(_) | AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({ "error": "internal server error" }),
            ),
        };
        (status, Json(body)).into_response()
    }
}
