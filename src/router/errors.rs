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
    #[error("`ref.type` must be `ref/prompt` or `ref/resource`")]
    BadReference,
    /// Invalid arguments to one of the gateway's own tools (meta-tools, workflows).
    #[error("{0}")]
    InvalidArguments(String),
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
            | RouteError::InvalidArguments(_) => code::INVALID_PARAMS,
            RouteError::ResourceNotFound(_) => code::RESOURCE_NOT_FOUND,
            RouteError::Cancelled(_) => code::REQUEST_CANCELLED,
            RouteError::Internal(_) => code::INTERNAL_ERROR,
        }
    }

    fn data(&self) -> Option<Value> {
        match self {
            RouteError::Unknown { unavailable, .. } if !unavailable.is_empty() => {
                Some(json!({ "unavailable": unavailable }))
            }
            RouteError::ResourceNotFound(uri) => Some(json!({ "uri": uri })),
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
