//! Templates of workflow arguments, conditions and outputs (minijinja, Jinja2 syntax).
//!
//! A string that is one `{{ expression }}` and nothing else keeps the expression's JSON type
//! (`"{{ inputs.count }}"` stays a number, `"{{ steps.a.json }}"` an object); any other string
//! is rendered as text. Undefined values are errors (strict mode), never empty strings: a typo
//! must fail the step, not call a tool with a blank argument. Every render has a fuel budget.

use std::collections::BTreeSet;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

/// Instructions one template may execute (bounds loops over large step outputs).
const FUEL: u64 = 200_000;

/// Why a template or condition does not compile or cannot be rendered. The message is
/// minijinja's (the expression, what is wrong with it, and where), so the fix is in the template
/// it names.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The template or expression is not valid Jinja2 syntax.
    #[error("{0}")]
    Compile(minijinja::Error),
    /// Evaluation failed (an undefined value in strict mode, a type error, the fuel budget
    /// spent); the message carries minijinja's chain of causes.
    #[error("{}", describe(.0))]
    Render(minijinja::Error),
    /// A whole-expression template evaluated to an undefined value.
    #[error("`{expression}` is undefined")]
    Undefined {
        /// The expression, as written inside `{{ … }}`.
        expression: String,
    },
    /// The rendered value has no JSON form.
    #[error("{0}")]
    Json(serde_json::Error),
}

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(64);
    env
}

/// `Some(inner)` when `s` is exactly one `{{ … }}` expression.
pub fn whole_expression(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    Some(
        inner
            .trim()
            .trim_start_matches('-')
            .trim_end_matches('-')
            .trim(),
    )
}

/// A condition may be written bare (`inputs.deep`) or braced (`{{ inputs.deep }}`).
pub fn condition_expression(s: &str) -> &str {
    whole_expression(s).unwrap_or(s.trim())
}

/// Check that `s` compiles; returns the variable paths it reads (`inputs.path`, `steps.a.text`).
pub fn references(env: &Environment<'_>, s: &str) -> Result<BTreeSet<String>, TemplateError> {
    let vars = match whole_expression(s) {
        Some(e) => env
            .compile_expression(e)
            .map_err(TemplateError::Compile)?
            .undeclared_variables(true),
        None => env
            .template_from_str(s)
            .map_err(TemplateError::Compile)?
            .undeclared_variables(true),
    };
    Ok(vars.into_iter().collect())
}

/// Check that a condition compiles; returns the variable paths it reads.
pub fn condition_references(
    env: &Environment<'_>,
    s: &str,
) -> Result<BTreeSet<String>, TemplateError> {
    let e = env
        .compile_expression(condition_expression(s))
        .map_err(TemplateError::Compile)?;
    Ok(e.undeclared_variables(true).into_iter().collect())
}

/// Every template string inside a JSON value (object values and array items, recursively).
pub fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.contains("{{") || s.contains("{%") => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Render one template string against `ctx`.
pub fn render_string(env: &Environment<'_>, s: &str, ctx: &Value) -> Result<Value, TemplateError> {
    if let Some(e) = whole_expression(s) {
        let v = env
            .compile_expression(e)
            .and_then(|x| x.eval(Serde(ctx)))
            .map_err(TemplateError::Render)?;
        if v.is_undefined() {
            return Err(TemplateError::Undefined {
                expression: e.to_owned(),
            });
        }
        return serde_json::to_value(&v).map_err(TemplateError::Json);
    }
    if !s.contains("{{") && !s.contains("{%") {
        return Ok(Value::String(s.to_owned()));
    }
    env.render_str(s, Serde(ctx))
        .map(Value::String)
        .map_err(TemplateError::Render)
}

/// Render every template string inside `v`.
pub fn render_value(env: &Environment<'_>, v: &Value, ctx: &Value) -> Result<Value, TemplateError> {
    Ok(match v {
        Value::String(s) => render_string(env, s, ctx)?,
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| render_value(env, x, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => {
            let mut m = serde_json::Map::new();
            for (k, x) in o {
                m.insert(k.clone(), render_value(env, x, ctx)?);
            }
            Value::Object(m)
        }
        other => other.clone(),
    })
}

/// Evaluate a condition to true or false.
pub fn condition(env: &Environment<'_>, s: &str, ctx: &Value) -> Result<bool, TemplateError> {
    env.compile_expression(condition_expression(s))
        .and_then(|e| e.eval(Serde(ctx)))
        .map(|v| v.is_true())
        .map_err(TemplateError::Render)
}

fn describe(e: &minijinja::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}
