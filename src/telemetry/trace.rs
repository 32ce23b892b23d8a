//! Distributed tracing: the log subscriber, W3C Trace Context at both ends of the gateway, and
//! optional OTLP export of spans.
//!
//! Every span of this crate has a trace context (trace id, span id, flags, `tracestate`): that
//! context is what we propagate. When spans are exported it is `tracing-opentelemetry`'s; when
//! nothing is exported a small layer of our own ([`Propagation`]) keeps just the ids, which
//! costs a fraction of building OpenTelemetry spans nobody reads (those were ~5% of the
//! gateway's CPU per call in the e2e bench). The edge
//! opens a `request` span per HTTP request and makes a valid client `traceparent` its remote
//! parent (an invalid or absent one is ignored and the span starts a new trace); inside it an
//! `rpc` span per JSON-RPC message, and `upstream/http.rs` an `upstream` span per request to a
//! backend, whose span id is the parent id in the `traceparent` the backend receives. A POST the
//! gateway makes on its own (the start-up probe, a reconnect) has no request span above its
//! `upstream` span, so it starts a fresh trace of its own; the standalone GET stream and the
//! closing DELETE carry no `traceparent` at all.
//!
//! `[telemetry] otlp_endpoint = "http://127.0.0.1:4318"` exports the same spans (same trace
//! ids) over OTLP/HTTP protobuf to `<endpoint>/v1/traces` through a batch processor;
//! `service_name` (default `portcullis`) and `export_interval_ms` (default 5000) tune it. The
//! batch is flushed when the gateway shuts down.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry::trace::{
    SpanContext, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry::{Context, SpanId};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt as _;

/// The installed subscriber carries trace contexts in OpenTelemetry spans (exporting), not in
/// [`Propagation`]'s.
static OPENTELEMETRY: AtomicBool = AtomicBool::new(false);

pub use crate::config::telemetry::TelemetryConfig;

pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";
/// A longer `tracestate` from a client is dropped, not forwarded: W3C asks vendors to propagate
/// at least 512 characters, and a gateway should not relay an unbounded header to backends.
pub const MAX_TRACESTATE_BYTES: usize = 512;

/// A parsed W3C `traceparent` (version `00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: [u8; 16],
    pub parent_id: [u8; 8],
    pub flags: u8,
}

impl TraceParent {
    /// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, lower-case hex, ids not all
    /// zero. Anything else is `None`: a bad header from a client is ignored, never an error.
    pub fn parse(s: &str) -> Option<TraceParent> {
        let s = s.trim();
        let mut parts = s.split('-');
        let (version, trace, parent, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || version != "00" {
            return None;
        }
        let trace_id: [u8; 16] = lower_hex(trace)?.try_into().ok()?;
        let parent_id: [u8; 8] = lower_hex(parent)?.try_into().ok()?;
        let [flags]: [u8; 1] = lower_hex(flags)?.try_into().ok()?;
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            parent_id,
            flags,
        })
    }

    pub fn format(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            hex::encode(self.trace_id),
            hex::encode(self.parent_id),
            self.flags
        )
    }
}

fn lower_hex(s: &str) -> Option<Vec<u8>> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    hex::decode(s).ok()
}

/// The remote parent named by a client's `traceparent` (and `tracestate`, if short and valid),
/// or `None` when there is no valid one.
pub fn remote_parent(headers: &http::HeaderMap) -> Option<Context> {
    let tp = headers
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse)?;
    let state = headers
        .get(TRACESTATE)
        .and_then(|v| v.to_str().ok())
        .filter(|s| s.len() <= MAX_TRACESTATE_BYTES)
        .and_then(|s| TraceState::from_str(s).ok())
        .unwrap_or_default();
    let sc = SpanContext::new(
        TraceId::from_bytes(tp.trace_id),
        SpanId::from_bytes(tp.parent_id),
        TraceFlags::new(tp.flags),
        true,
        state,
    );
    Some(Context::new().with_remote_span_context(sc))
}

/// Make `span` continue the client's trace, when its headers name one. Must be called before
/// the span is first entered.
pub fn continue_trace(span: &tracing::Span, headers: &http::HeaderMap) {
    if !OPENTELEMETRY.load(Ordering::Relaxed) {
        let Some(cx) = remote_parent(headers) else {
            return;
        };
        let sc = cx.span().span_context().clone();
        with_span_cx(span, |own| {
            own.trace_id = sc.trace_id().to_bytes();
            own.flags = sc.trace_flags().to_u8();
            let state = sc.trace_state().header();
            own.state = (!state.is_empty()).then_some(state);
        });
        return;
    }
    if let Some(cx) = remote_parent(headers) {
        if let Err(e) = span.set_parent(cx) {
            tracing::debug!(error = %e, "cannot attach the client's trace context");
        }
    }
}

/// `traceparent` (and `tracestate`, when there is one) for a request sent inside the current
/// span: its trace id, its span id as the parent id. `None` outside any traced span.
pub fn outgoing() -> Option<(String, Option<String>)> {
    if !OPENTELEMETRY.load(Ordering::Relaxed) {
        return with_span_cx(&tracing::Span::current(), |cx| {
            let tp = TraceParent {
                trace_id: cx.trace_id,
                parent_id: cx.span_id,
                flags: cx.flags,
            };
            (tp.format(), cx.state.clone())
        });
    }
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return None;
    }
    let tp = TraceParent {
        trace_id: sc.trace_id().to_bytes(),
        parent_id: sc.span_id().to_bytes(),
        flags: sc.trace_flags().to_u8(),
    };
    let state = sc.trace_state().header();
    Some((tp.format(), (!state.is_empty()).then_some(state)))
}

/// The trace context [`Propagation`] keeps in a span's extensions.
#[derive(Debug, Clone)]
struct SpanCx {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
    state: Option<String>,
}

/// Gives every span it sees a trace context: its parent's trace (or a new one) and a span id
/// of its own. Used instead of `tracing-opentelemetry` when no spans are exported.
pub struct Propagation;

impl<S> Layer<S> for Propagation
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        _attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let Some(span) = ctx.span(id) else { return };
        let inherited = span
            .parent()
            .and_then(|p| p.extensions().get::<SpanCx>().cloned());
        let cx = match inherited {
            Some(p) => SpanCx {
                span_id: new_span_id(),
                ..p
            },
            // A root span starts a trace, sampled (as OpenTelemetry's default sampler does).
            None => SpanCx {
                trace_id: loop {
                    let t = rand::random::<[u8; 16]>();
                    if t != [0; 16] {
                        break t;
                    }
                },
                span_id: new_span_id(),
                flags: 1,
                state: None,
            },
        };
        span.extensions_mut().insert(cx);
    }
}

fn new_span_id() -> [u8; 8] {
    loop {
        let id = rand::random::<[u8; 8]>();
        if id != [0; 8] {
            return id;
        }
    }
}

/// `f` on `span`'s [`SpanCx`], when the installed subscriber keeps one for it.
fn with_span_cx<T>(span: &tracing::Span, f: impl FnOnce(&mut SpanCx) -> T) -> Option<T> {
    span.with_subscriber(|(id, dispatch)| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let data = registry.span(id)?;
        let mut ext = data.extensions_mut();
        ext.get_mut::<SpanCx>().map(f)
    })
    .flatten()
}

/// A request id for logs: 16 random bytes, hex.
pub fn new_request_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Owns the tracer provider; [`Telemetry::shutdown`] flushes what is still batched.
/// Why tracing cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TraceInitError {
    /// The OTLP exporter refuses `telemetry.otlp_endpoint`: write a URL such as
    /// `http://127.0.0.1:4318`.
    #[error("invalid `telemetry.otlp_endpoint` `{endpoint}`: {source}")]
    OtlpEndpoint {
        endpoint: String,
        source: opentelemetry_otlp::ExporterBuildError,
    },
}

pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::debug!(error = %e, "tracer provider shutdown");
        }
    }
}

/// Install the global subscriber: logs to stderr filtered by `PORTCULLIS_LOG` (default `info`),
/// and the OpenTelemetry layer, exporting when `cfg` names an endpoint. The log filter applies
/// to the log output only, so quiet logs do not switch off trace propagation.
pub fn init(cfg: Option<&TelemetryConfig>) -> Result<Telemetry, TraceInitError> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PORTCULLIS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let provider = provider(cfg)?;
    let exporting = cfg.is_some_and(|c| c.otlp_endpoint.is_some());
    // Only this crate's spans carry trace context: dependencies' spans (hyper, reqwest) would
    // otherwise become roots of traces of their own.
    let ours = || {
        tracing_subscriber::filter::Targets::new().with_target("portcullis", tracing::Level::INFO)
    };
    let otel = exporting.then(|| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("portcullis"))
            .with_filter(ours())
    });
    let propagation = (!exporting).then(|| Propagation.with_filter(ours()));
    // Logs go to stderr: stdout belongs to the MCP stdio protocol in `demo-server`.
    use std::io::IsTerminal;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(filter);
    if tracing_subscriber::registry()
        .with(otel)
        .with(propagation)
        .with(fmt)
        .try_init()
        .is_ok()
    {
        OPENTELEMETRY.store(exporting, Ordering::Relaxed);
    }
    Ok(Telemetry { provider })
}

fn provider(cfg: Option<&TelemetryConfig>) -> Result<SdkTracerProvider, TraceInitError> {
    let mut builder = SdkTracerProvider::builder();
    let Some(cfg) = cfg else {
        return Ok(builder.build());
    };
    let service = cfg
        .service_name
        .clone()
        .unwrap_or_else(|| "portcullis".into());
    builder = builder.with_resource(
        opentelemetry_sdk::Resource::builder()
            .with_service_name(service)
            .build(),
    );
    if let Some(endpoint) = &cfg.otlp_endpoint {
        // The exporter's own blocking reqwest client (built on a thread of its own) is driven by
        // the batch processor's thread, outside our runtime.
        use opentelemetry_otlp::WithExportConfig as _;
        let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_endpoint(url.clone())
            .with_timeout(Duration::from_secs(10))
            .build()
            .map_err(|source| TraceInitError::OtlpEndpoint {
                endpoint: endpoint.clone(),
                source,
            })?;
        let interval = Duration::from_millis(cfg.export_interval_ms.unwrap_or(5000).max(1));
        let processor = BatchSpanProcessor::builder(exporter)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_scheduled_delay(interval)
                    .build(),
            )
            .build();
        builder = builder.with_span_processor(processor);
        tracing::info!(%url, "exporting spans over OTLP/HTTP");
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const T: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const P: &str = "00f067aa0ba902b7";

    #[test]
    fn parses_and_formats_round_trip() {
        let s = format!("00-{T}-{P}-01");
        let tp = TraceParent::parse(&s).unwrap();
        assert_eq!(hex::encode(tp.trace_id), T);
        assert_eq!(hex::encode(tp.parent_id), P);
        assert_eq!(tp.flags, 1);
        assert_eq!(tp.format(), s);
        assert_eq!(
            TraceParent::parse(&format!("00-{T}-{P}-00")).unwrap().flags,
            0
        );
    }

    #[test]
    fn rejects_invalid_traceparents() {
        for bad in [
            String::new(),
            "garbage".into(),
            format!("01-{T}-{P}-01"),
            format!("ff-{T}-{P}-01"),
            format!("00-{}-{P}-01", "0".repeat(32)),
            format!("00-{T}-{}-01", "0".repeat(16)),
            format!("00-{}-{P}-01", T.to_uppercase()),
            format!("00-{}-{P}-01", &T[..31]),
            format!("00-{T}-{P}-1"),
            format!("00-{T}-{P}-01-extra"),
            format!("00-{T}-{P}-0g"),
            format!("00-{T}x-{P}-01"),
            format!("00-{T}--{P}-01"),
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        ] {
            assert_eq!(TraceParent::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn remote_parent_keeps_trace_and_bounded_state() {
        let mut h = http::HeaderMap::new();
        assert!(remote_parent(&h).is_none());
        h.insert(TRACEPARENT, format!("00-{T}-{P}-01").parse().unwrap());
        h.insert(TRACESTATE, "vendor=abc".parse().unwrap());
        let cx = remote_parent(&h).unwrap();
        let sc = cx.span().span_context().clone();
        assert_eq!(sc.trace_id().to_string(), T);
        assert_eq!(sc.span_id().to_string(), P);
        assert!(sc.is_sampled());
        assert_eq!(sc.trace_state().header(), "vendor=abc");
        h.insert(
            TRACESTATE,
            format!("v={}", "a".repeat(MAX_TRACESTATE_BYTES))
                .parse()
                .unwrap(),
        );
        let cx = remote_parent(&h).unwrap();
        assert_eq!(cx.span().span_context().trace_state().header(), "");
        h.insert(TRACEPARENT, "00-nonsense".parse().unwrap());
        assert!(remote_parent(&h).is_none());
    }

    #[test]
    fn request_ids_are_random_hex() {
        let a = new_request_id();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_request_id());
    }
}
