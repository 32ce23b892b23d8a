//! The demo's prompt, resources, resource template and completions: fixed content, so a test
//! can assert on every byte.

use serde_json::{Value, json};

use super::DemoError;
use super::tools::MAX_SLOW_MS;

pub(super) const README_TEXT: &str = "Portcullis demo server\n\
\n\
This is a tiny MCP server built into Portcullis so the quickstart has something to talk to.\n\
Tools: echo, add, get_time, slow, whoami, fail. Prompt: greeting. \
Resources: demo://readme, demo://config, demo://items/{id}.\n";

const GREETING_NAMES: [&str; 8] = [
    "Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Mallory",
];

pub(super) fn greeting_prompt_definition() -> Value {
    json!({
        "name": "greeting",
        "title": "Greeting",
        "description": "Asks the model to greet someone by name.",
        "arguments": [
            { "name": "name", "description": "Who to greet.", "required": true }
        ],
    })
}

pub(super) fn get_prompt(params: &Value) -> Result<Value, DemoError> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| DemoError::InvalidParams("`name` must be a string".into()))?;
    if name != "greeting" {
        return Err(DemoError::InvalidParams(format!("unknown prompt `{name}`")));
    }
    let who = params
        .get("arguments")
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            DemoError::InvalidParams("prompt `greeting` needs the argument `name`".into())
        })?;
    Ok(json!({
        "description": "A friendly greeting",
        "messages": [{
            "role": "user",
            "content": { "type": "text", "text": format!("Please greet {who} warmly, in one sentence.") },
        }],
    }))
}

fn config_json() -> Value {
    json!({ "name": "portcullis-demo", "features": ["tools", "prompts", "resources"], "max_slow_ms": MAX_SLOW_MS })
}

pub(super) fn resource_definitions() -> Value {
    json!([
        {
            "uri": "demo://readme",
            "name": "readme",
            "title": "Demo README",
            "description": "What this demo server offers.",
            "mimeType": "text/plain",
            "size": README_TEXT.len(),
        },
        {
            "uri": "demo://config",
            "name": "config",
            "title": "Demo configuration",
            "description": "The demo server's (fixed) configuration, as JSON.",
            "mimeType": "application/json",
        },
    ])
}

pub(super) fn item_template() -> Value {
    json!({
        "uriTemplate": "demo://items/{id}",
        "name": "item",
        "title": "Demo item",
        "description": "A generated item; `id` is 1 to 64 letters, digits, `-` or `_`.",
        "mimeType": "application/json",
    })
}

pub(super) fn resource_uri(params: &Value) -> Result<&str, DemoError> {
    params
        .get("uri")
        .and_then(Value::as_str)
        .ok_or_else(|| DemoError::InvalidParams("`uri` must be a string".into()))
}

fn valid_item_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `(mimeType, text)` of a resource, or not found.
pub(super) fn resource_contents(uri: &str) -> Result<(&'static str, String), DemoError> {
    match uri {
        "demo://readme" => Ok(("text/plain", README_TEXT.to_string())),
        "demo://config" => Ok(("application/json", config_json().to_string())),
        _ => match uri.strip_prefix("demo://items/") {
            Some(id) if valid_item_id(id) => Ok((
                "application/json",
                json!({ "id": id, "name": format!("Item {id}") }).to_string(),
            )),
            _ => Err(DemoError::ResourceNotFound(uri.to_string())),
        },
    }
}

pub(super) fn read_resource(params: &Value) -> Result<Value, DemoError> {
    let uri = resource_uri(params)?;
    let (mime, text) = resource_contents(uri)?;
    Ok(json!({ "contents": [{ "uri": uri, "mimeType": mime, "text": text }] }))
}

pub(super) fn complete(params: &Value) -> Result<Value, DemoError> {
    let reference = params
        .get("ref")
        .ok_or_else(|| DemoError::InvalidParams("missing `ref`".into()))?;
    let arg_name = params
        .get("argument")
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .ok_or_else(|| DemoError::InvalidParams("`argument.name` must be a string".into()))?;
    let prefix = params
        .get("argument")
        .and_then(|a| a.get("value"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let kind = reference.get("type").and_then(Value::as_str);
    let candidates: Vec<String> = match (kind, arg_name) {
        (Some("ref/prompt"), "name")
            if reference.get("name").and_then(Value::as_str) == Some("greeting") =>
        {
            GREETING_NAMES.iter().map(|s| s.to_string()).collect()
        }
        (Some("ref/resource"), "id")
            if reference.get("uri").and_then(Value::as_str) == Some("demo://items/{id}") =>
        {
            (1..=20).map(|n| n.to_string()).collect()
        }
        _ => {
            return Err(DemoError::InvalidParams(format!(
                "nothing to complete for argument `{arg_name}` of {reference}"
            )));
        }
    };
    let values: Vec<String> = candidates
        .into_iter()
        .filter(|c| c.to_lowercase().starts_with(&prefix))
        .collect();
    Ok(json!({
        "completion": { "values": values, "total": values.len(), "hasMore": false }
    }))
}
