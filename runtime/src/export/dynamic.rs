//! Object-safe forms of the SDK's `SpanExporter` and `LogExporter` traits
//! (whose `export` returns `impl Future`), so the export thread can hold a
//! list of different destinations, including ones given in code.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

type BoxFuture<'a> = Pin<Box<dyn Future<Output = OTelSdkResult> + Send + 'a>>;

/// A [`SpanExporter`] behind a `Box<dyn …>`; implemented for every `SpanExporter`.
pub trait DynSpanExporter: Send + Sync + 'static {
    /// See [`SpanExporter::export`].
    fn export_boxed(&self, batch: Vec<SpanData>) -> BoxFuture<'_>;
    /// See [`SpanExporter::set_resource`].
    fn set_resource_dyn(&mut self, resource: &Resource);
    /// See [`SpanExporter::shutdown_with_timeout`].
    fn shutdown_dyn(&self, timeout: Duration) -> OTelSdkResult;
}

impl<T: SpanExporter + 'static> DynSpanExporter for T {
    fn export_boxed(&self, batch: Vec<SpanData>) -> BoxFuture<'_> {
        Box::pin(self.export(batch))
    }
    fn set_resource_dyn(&mut self, resource: &Resource) {
        self.set_resource(resource);
    }
    fn shutdown_dyn(&self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }
}

/// A [`LogExporter`] behind a `Box<dyn …>`; implemented for every `LogExporter`.
pub trait DynLogExporter: Send + Sync + 'static {
    /// See [`LogExporter::export`].
    fn export_boxed<'a>(
        &'a self,
        batch: &'a [(&'a SdkLogRecord, &'a InstrumentationScope)],
    ) -> BoxFuture<'a>;
    /// See [`LogExporter::set_resource`].
    fn set_resource_dyn(&mut self, resource: &Resource);
    /// See [`LogExporter::shutdown_with_timeout`].
    fn shutdown_dyn(&self, timeout: Duration) -> OTelSdkResult;
}

impl<T: LogExporter + 'static> DynLogExporter for T {
    fn export_boxed<'a>(
        &'a self,
        batch: &'a [(&'a SdkLogRecord, &'a InstrumentationScope)],
    ) -> BoxFuture<'a> {
        Box::pin(self.export(LogBatch::new(batch)))
    }
    fn set_resource_dyn(&mut self, resource: &Resource) {
        self.set_resource(resource);
    }
    fn shutdown_dyn(&self, timeout: Duration) -> OTelSdkResult {
        self.shutdown_with_timeout(timeout)
    }
}
