//! One log line per request: method, path, status and latency, inside a span
//! that carries the request id. Query strings are left out because they can
//! carry user input.

use axum::body::Body;
use axum::http::Request;
use tower_http::LatencyUnit;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnResponse, MakeSpan, TraceLayer};
use tracing::{Level, Span};

#[derive(Clone, Copy)]
pub struct RequestSpan;

impl MakeSpan<Body> for RequestSpan {
    fn make_span(&mut self, request: &Request<Body>) -> Span {
        let request_id = request.headers().get("x-request-id").and_then(|value| value.to_str().ok()).unwrap_or("-");
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id = %request_id,
        )
    }
}

/// Builds the request-logging layer. Failures are not logged again here,
/// because `AppError` already logs each internal error once.
pub fn layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), DefaultOnResponse, (), (), ()> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
        .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis))
}

/// Gives every request a fresh id. An id sent by the client is replaced, so
/// log lines cannot carry text that a client chose.
pub async fn assign_request_id(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id =
        axum::http::HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("a UUID is a valid header value");
    request.headers_mut().insert("x-request-id", id);
    next.run(request).await
}
