//! The one mapping from edge errors to HTTP responses. Every refusal at the HTTP layer is a
//! specific status with a JSON-RPC error body saying what was wrong and how to fix it.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::Value;

use super::{Body, full};
use crate::identity::AuthError;
use crate::protocol::{self, DecodeError, code};

/// Why a 2026-07-28 request is refused before routing: each has the status and JSON-RPC code
/// the revision gives it (`basic/transports/streamable-http.mdx`), and the answer carries the
/// request's own id.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ModernError {
    #[error("malformed request metadata: {0}")]
    Meta(String),
    #[error("header mismatch: {0}")]
    Header(String),
    #[error("unsupported protocol version `{requested}`")]
    Version {
        requested: String,
        supported: Vec<&'static str>,
    },
}

impl ModernError {
    pub fn code(&self) -> i64 {
        match self {
            ModernError::Meta(_) => code::INVALID_PARAMS,
            ModernError::Header(_) => code::HEADER_MISMATCH,
            ModernError::Version { .. } => code::UNSUPPORTED_VERSION,
        }
    }

    fn data(&self) -> Option<Value> {
        match self {
            ModernError::Version {
                requested,
                supported,
            } => Some(serde_json::json!({ "supported": supported, "requested": requested })),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Rejection {
    #[error("host `{0}` is not allowed; add it to `listen.allowed_hosts`")]
    HostNotAllowed(String),
    #[error("origin `{0}` is not allowed; add it to `listen.allowed_origins`")]
    OriginNotAllowed(String),
    #[error("not acceptable: the `Accept` header must list {0}")]
    NotAcceptable(&'static str),
    #[error("unsupported media type: `Content-Type` must be `application/json`")]
    UnsupportedMediaType,
    #[error("request body exceeds the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("bad request: the `Mcp-Session-Id` header is required (initialize first)")]
    MissingSession,
    #[error("session not found: it expired or was ended; initialize a new session")]
    UnknownSession,
    #[error("unsupported protocol version `{0}`; supported: {1}")]
    UnsupportedVersion(String, String),
    #[error("method {0} is not allowed on this endpoint; use POST, GET or DELETE")]
    MethodNotAllowed(String),
    #[error("not found: the MCP endpoint is `{0}`")]
    NotFound(String),
    #[error("too many sessions ({0}); try again later")]
    TooManySessions(usize),
    #[error("could not read the request body: {0}")]
    BodyRead(String),
    #[error("request not completed within {0} s")]
    Timeout(u64),
    #[error("{}", slow_body(*received, *secs, *rate, *grace))]
    SlowBody {
        received: usize,
        secs: u64,
        rate: u64,
        grace: u64,
    },
    #[error("{0}")]
    Auth(AuthError, String),
    #[error("this session belongs to another principal")]
    SessionOfAnother,
    #[error("{0}")]
    RateLimited(String, u64),
    /// `[cluster]` with `on_redis_unavailable = "fail_closed"`: the shared state is needed and
    /// Redis does not answer.
    #[error(
        "the gateway cluster's shared state is unavailable ({0}); refused until it is back, \
         retry shortly"
    )]
    ClusterUnavailable(String),
    /// A 2026-07-28 request refused before routing, answered under its own id.
    #[error("{1}")]
    Modern(Value, ModernError),
}

fn slow_body(received: usize, secs: u64, rate: u64, grace: u64) -> String {
    if rate == 0 {
        format!(
            "request body not complete within {grace} s ({received} bytes received; \
             `http.body_timeout_secs`)"
        )
    } else {
        format!(
            "request body too slow: {received} bytes in {secs} s; a body gets {grace} s plus one \
             second for every {rate} bytes received (at least {rate} bytes/s; \
             `http.body_timeout_secs`, `http.min_body_bytes_per_sec`)"
        )
    }
}

impl Rejection {
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::HostNotAllowed(_) | Rejection::OriginNotAllowed(_) => StatusCode::FORBIDDEN,
            Rejection::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Rejection::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Rejection::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::Decode(_)
            | Rejection::MissingSession
            | Rejection::UnsupportedVersion(..)
            | Rejection::BodyRead(_) => StatusCode::BAD_REQUEST,
            Rejection::UnknownSession | Rejection::NotFound(_) => StatusCode::NOT_FOUND,
            Rejection::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Rejection::TooManySessions(_) => StatusCode::SERVICE_UNAVAILABLE,
            Rejection::Timeout(_) | Rejection::SlowBody { .. } => StatusCode::REQUEST_TIMEOUT,
            Rejection::Auth(e, _) if e.is_forbidden() => StatusCode::FORBIDDEN,
            Rejection::Auth(..) => StatusCode::UNAUTHORIZED,
            Rejection::SessionOfAnother => StatusCode::FORBIDDEN,
            Rejection::RateLimited(..) => StatusCode::TOO_MANY_REQUESTS,
            Rejection::ClusterUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Rejection::Modern(..) => StatusCode::BAD_REQUEST,
        }
    }

    pub fn rpc_code(&self) -> i64 {
        match self {
            Rejection::Decode(DecodeError::Json(_) | DecodeError::TooDeep(_)) => code::PARSE_ERROR,
            Rejection::Decode(_) | Rejection::UnknownSession | Rejection::MissingSession => {
                code::INVALID_REQUEST
            }
            Rejection::Modern(_, e) => e.code(),
            Rejection::ClusterUnavailable(_) => crate::guard::code::RATE_LIMITED,
            _ => code::INVALID_REQUEST,
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        let body = match &self {
            Rejection::Modern(id, e) => {
                protocol::error_response(id.clone(), e.code(), e.to_string(), e.data())
            }
            _ => protocol::error_response(Value::Null, self.rpc_code(), self.to_string(), None),
        };
        let mut resp = Response::new(full(Bytes::from(body.to_string())));
        *resp.status_mut() = status;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Rejection::Auth(_, challenge) = &self {
            if let Ok(v) = HeaderValue::from_str(challenge) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if let Rejection::RateLimited(_, secs) = &self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*secs));
        }
        if let Rejection::ClusterUnavailable(_) = &self {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(1u64));
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
        }
        resp
    }
}
