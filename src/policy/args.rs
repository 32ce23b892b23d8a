//! The shape arguments must have before policy reads them.
//!
//! Policy sees arguments as `context.args` string tags (`entities::arguments_entity`). A forbid
//! written against a string tag (`context.args.getTag("path") like "/etc/*"`) must hold for
//! every call a backend would act on the same way (issue 15, finding 13), so:
//!
//! - `arguments` is a JSON object (or absent, or `null`); a bare string, number or array is
//!   refused — it would reach policy with no tags at all;
//! - a prompt's arguments are strings (MCP: `{ [key]: string }`);
//! - a tool argument whose JSON type contradicts the tool's `inputSchema` is refused: a property
//!   declared `"type": "string"` arrives as a string, never as an array or object a lenient
//!   backend might coerce (`String(["/etc/passwd"])` is `/etc/passwd` in JavaScript). Declared
//!   types are checked through nested `properties` and array `items`; a property without a
//!   `type` (or under `anyOf`/`oneOf`) is not checked, and its tag is its JSON text.

use serde_json::Value;

use crate::protocol::type_name;

/// Deepest nesting checked (as deep as `context.args` flattens).
const MAX_DEPTH: usize = 16;

/// Why a call's arguments are refused before policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    #[error("`arguments` must be an object, not {0}")]
    NotAnObject(&'static str),
    #[error("prompt argument `{name}` must be a string, not {found}")]
    PromptArgument { name: String, found: &'static str },
    #[error("argument `{path}` must be {expected} (the tool's inputSchema), not {found}")]
    WrongType {
        path: String,
        expected: String,
        found: &'static str,
    },
}

/// The arguments of a `prompts/get`.
pub fn check_prompt(arguments: Option<&Value>) -> Result<(), ArgsError> {
    let Some(map) = object(arguments)? else {
        return Ok(());
    };
    for (name, v) in map {
        if !v.is_string() {
            return Err(ArgsError::PromptArgument {
                name: name.clone(),
                found: type_name(v),
            });
        }
    }
    Ok(())
}

/// The arguments of a `tools/call` of the tool `definition` (its `inputSchema` says the types).
pub fn check_tool(definition: &Value, arguments: Option<&Value>) -> Result<(), ArgsError> {
    let Some(map) = object(arguments)? else {
        return Ok(());
    };
    let Some(props) = definition
        .get("inputSchema")
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    for (k, v) in map {
        if let Some(schema) = props.get(k) {
            check_value(k, v, schema, 0)?;
        }
    }
    Ok(())
}

/// `arguments` as an object: `None` when absent or `null`.
fn object(arguments: Option<&Value>) -> Result<Option<&serde_json::Map<String, Value>>, ArgsError> {
    match arguments {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(other) => Err(ArgsError::NotAnObject(type_name(other))),
    }
}

fn check_value(path: &str, v: &Value, schema: &Value, depth: usize) -> Result<(), ArgsError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let declared: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !declared.is_empty() && !declared.iter().any(|t| is_type(v, t)) {
        return Err(ArgsError::WrongType {
            path: path.to_owned(),
            expected: declared
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(" or "),
            found: type_name(v),
        });
    }
    match v {
        Value::Object(m) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, sub) in m {
                    if let Some(s) = props.get(k) {
                        check_value(&format!("{path}.{k}"), sub, s, depth + 1)?;
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items").filter(|s| s.is_object()) {
                for (i, sub) in items.iter().enumerate() {
                    check_value(&format!("{path}.{i}"), sub, s, depth + 1)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Whether `v` is of the JSON Schema type `t` (an unknown type name accepts anything).
fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => {
            v.is_i64()
                || v.is_u64()
                || v.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool() -> Value {
        json!({"name": "read", "inputSchema": {"type": "object", "properties": {
            "path": {"type": "string"},
            "count": {"type": "integer"},
            "opts": {"type": "object", "properties": {"mode": {"type": "string"}}},
            "tags": {"type": "array", "items": {"type": "string"}},
            "maybe": {"type": ["string", "null"]},
            "anything": {}
        }}})
    }

    #[test]
    fn arguments_of_the_declared_types_pass() {
        let t = tool();
        for ok in [
            json!({"path": "/srv/a", "count": 2, "opts": {"mode": "r"}, "tags": ["x"]}),
            json!({"count": 2.0, "maybe": null, "anything": [1, {"a": 2}]}),
            json!({"undeclared": ["/etc/passwd"]}),
            json!({}),
        ] {
            assert_eq!(check_tool(&t, Some(&ok)), Ok(()), "{ok}");
        }
        assert_eq!(check_tool(&t, None), Ok(()));
        assert_eq!(check_tool(&t, Some(&Value::Null)), Ok(()));
        // A tool without a schema checks only that arguments are an object.
        assert_eq!(
            check_tool(&json!({"name": "x"}), Some(&json!({"path": [1]}))),
            Ok(())
        );
    }

    #[test]
    fn other_shapes_are_refused_naming_the_argument() {
        let t = tool();
        let wrong = |args: Value| check_tool(&t, Some(&args)).unwrap_err().to_string();
        assert_eq!(
            wrong(json!("/etc/passwd")),
            "`arguments` must be an object, not a string"
        );
        assert_eq!(
            wrong(json!(["/etc/passwd"])),
            "`arguments` must be an object, not an array"
        );
        assert_eq!(
            wrong(json!({"path": ["/etc/passwd"]})),
            "argument `path` must be `string` (the tool's inputSchema), not an array"
        );
        assert_eq!(
            wrong(json!({"path": {"toString": "/etc/passwd"}})),
            "argument `path` must be `string` (the tool's inputSchema), not an object"
        );
        assert_eq!(
            wrong(json!({"count": 1.5})),
            "argument `count` must be `integer` (the tool's inputSchema), not a number"
        );
        assert_eq!(
            wrong(json!({"opts": {"mode": 7}})),
            "argument `opts.mode` must be `string` (the tool's inputSchema), not a number"
        );
        assert_eq!(
            wrong(json!({"tags": ["a", ["b"]]})),
            "argument `tags.1` must be `string` (the tool's inputSchema), not an array"
        );
        assert_eq!(
            wrong(json!({"maybe": 3})),
            "argument `maybe` must be `string` or `null` (the tool's inputSchema), not a number"
        );
    }

    #[test]
    fn prompt_arguments_are_strings() {
        assert_eq!(check_prompt(Some(&json!({"name": "x"}))), Ok(()));
        assert_eq!(
            check_prompt(Some(&json!({"name": ["x"]})))
                .unwrap_err()
                .to_string(),
            "prompt argument `name` must be a string, not an array"
        );
        assert_eq!(
            check_prompt(Some(&json!("x"))).unwrap_err().to_string(),
            "`arguments` must be an object, not a string"
        );
    }
}
