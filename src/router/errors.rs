//! The router's own refusals: a request it cannot route. Each says what was wrong and how to
//! fix it; its JSON-RPC code and data are here, beside the message.

use serde_json::{Value, json};

use super::Reply;
use crate::protocol::{self, Fault, code};

#[derive(Debug, Clone, thiserror::Error)]
pub enum RouteError {
    #[error("this session is already initialized; start a new session without `Mcp-Session-Id`")]
    AlreadyInitialized,
    #[error("method `{0}` is not supported by this gateway")]
    MethodNotFound(String),
    #[error("invalid or expired `cursor`")]
    InvalidCursor,
    #[error("missing `{0}`")]
    Missing(&'static str),
    /// A name no backend offers now; `unavailable` lists backends that are not up.
    #[error("unknown {what} `{name}`{}", unavailable_suffix(.unavailable))]
    Unknown {
        what: &'static str,
        name: String,
        unavailable: Vec<String>,
    },
    #[error("resource not found: `{0}`")]
    ResourceNotFound(String),
    /// A URI that is not one spelling of one resource (`policy::uri`).
    #[error("resource URI `{uri}` is refused: {reason}")]
    BadUri {
        uri: String,
        reason: crate::policy::uri::UriError,
    },
    /// A URI matching a resource template that integrity holds back.
    #[error(
        "resource `{uri}` matches the template `{template}` of backend `{backend}`, which is \
         quarantined: {because}; an operator must review it (`portcullis pins diff \
         {backend}/{template}`) and approve it before its resources can be read"
    )]
    QuarantinedTemplate {
        uri: String,
        template: String,
        backend: String,
        code: &'static str,
        because: String,
    },
    #[error("`ref.type` must be `ref/prompt` or `ref/resource`")]
    BadReference,
    /// Invalid arguments: to one of the gateway's own tools (meta-tools, workflows), or of a
    /// shape policy cannot decide (`policy::args`).
    #[error("{0}")]
    InvalidArguments(String),
    /// A task id not bound to the caller (unknown, expired, or another principal's: the same
    /// answer, so a task's existence is not revealed).
    #[error("unknown task `{0}`")]
    UnknownTask(String),
    /// The request needs an extension its capabilities did not declare.
    #[error(
        "this request needs the `{0}` extension; declare it in `_meta[\"io.modelcontextprotocol/clientCapabilities\"].extensions`"
    )]
    MissingExtension(&'static str),
    /// A backend's task the gateway could not bind to its caller.
    #[error("{0}")]
    TaskUnbound(String),
    #[error("invalid `requestState`: {0}")]
    InvalidState(String),
    #[error("{0}")]
    Cancelled(String),
    #[error("{0}")]
    Internal(&'static str),
}

fn unavailable_suffix(down: &[String]) -> String {
    if down.is_empty() {
        String::new()
    } else {
        format!("; unavailable in this session: {}", down.join("; "))
    }
}

impl Fault for RouteError {
    fn code(&self) -> i64 {
        match self {
            RouteError::AlreadyInitialized => code::INVALID_REQUEST,
            RouteError::MethodNotFound(_) => code::METHOD_NOT_FOUND,
            RouteError::InvalidCursor
            | RouteError::Missing(_)
            | RouteError::Unknown { .. }
            | RouteError::BadReference
            | RouteError::InvalidState(_)
            | RouteError::UnknownTask(_)
            | RouteError::BadUri { .. }
            | RouteError::InvalidArguments(_) => code::INVALID_PARAMS,
            RouteError::ResourceNotFound(_) => code::RESOURCE_NOT_FOUND,
            RouteError::QuarantinedTemplate { .. } => crate::guard::code::QUARANTINED,
            RouteError::Cancelled(_) => code::REQUEST_CANCELLED,
            RouteError::MissingExtension(_) => code::MISSING_CAPABILITY,
            RouteError::Internal(_) | RouteError::TaskUnbound(_) => code::INTERNAL_ERROR,
        }
    }

    fn data(&self) -> Option<Value> {
        match self {
            RouteError::Unknown { unavailable, .. } if !unavailable.is_empty() => {
                Some(json!({ "unavailable": unavailable }))
            }
            RouteError::ResourceNotFound(uri) => Some(json!({ "uri": uri })),
            RouteError::MissingExtension(ext) => Some(json!({
                "requiredCapabilities": { "extensions": { *ext: {} } }
            })),
            RouteError::BadUri { uri, reason } => {
                let normal = match reason {
                    crate::policy::uri::UriError::NotNormal(n) => Some(n),
                    _ => None,
                };
                Some(json!({ "uri": uri, "normal": normal }))
            }
            RouteError::QuarantinedTemplate {
                backend,
                template,
                code,
                ..
            } => Some(json!({
                "reason": "quarantined",
                "quarantine": code,
                "backend": backend,
                "name": template,
            })),
            _ => None,
        }
    }
}

impl RouteError {
    /// The error response to request `id`.
    pub fn response(&self, id: Value) -> Value {
        protocol::fault_response(id, self)
    }

    pub(super) fn reply(self, id: Value) -> Reply {
        Reply::Json(self.response(id))
    }
}
