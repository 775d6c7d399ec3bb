//! Templates: the only way a workflow reads data (`{{ trigger.data.object.id }}`, `{{ result.status == 'paid' }}`).
//!
//! Templates are minijinja, compiled once when the workflow file is checked (so a typo is a diagnostic with a line
//! number, not a failure three days into a run) and evaluated over plain JSON. Two rules make them safe for money:
//!
//! - Undefined is an error, never an empty string. A call argument or a correlation key that silently rendered as
//!   `""` would pay or cancel the wrong thing.
//! - A template that is exactly one `{{ expression }}` evaluates to the expression's typed value, so
//!   `amount_minor = "{{ trigger.data.object.amount_due }}"` is the number 1999, not the string `"1999"`. Anything
//!   else (text around or between tags) renders to a string.
//!
//! Each template is checked against the variables its position may use (its [`Scope`]): a correlation key sees only
//! the incoming `event`; a step sees `trigger`, `steps` and `run`; a retry's `until` also sees `result`.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A checked template, kept as its source text so definitions serialize and compare plainly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template {
    source: String,
    /// Set when the template is exactly one `{{ expression }}`; holds the expression's text.
    expression: Option<String>,
    /// Step ids this template reads through `steps.<id>`, checked against the workflow's steps.
    step_refs: BTreeSet<String>,
}

/// Which variables a template may read, by where it appears in a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Correlation keys of the trigger, `cancel_on` and `wait_for`: only the incoming `event`.
    Event,
    /// Everything a step computes: `trigger`, `steps`, `run`.
    Step,
    /// A retry policy's `until`: the step variables and the call's `result`.
    Until,
    /// A `wait_for`'s `when`: the step variables and the incoming `event`.
    Filter,
}

/// Why a template did not compile or did not evaluate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template does not compile: {0}")]
    Syntax(String),
    #[error("template uses `{name}`, which is not available here; use {allowed}")]
    UnknownVariable { name: String, allowed: &'static str },
    #[error("template failed: {0}")]
    Render(String),
    #[error("template `{0}` is undefined for this run")]
    Undefined(String),
    #[error("a key must be a non-empty string or a number, but `{template}` gave {got}")]
    NotAKey { template: String, got: String },
}

impl Template {
    /// Compiles `source` and checks that it only reads variables `scope` allows.
    pub fn parse(source: &str, scope: Scope) -> Result<Template, TemplateError> {
        let expression = single_expression(source);
        let environment = environment();
        let (variables, nested) = match &expression {
            Some(expression) => {
                let compiled = environment.compile_expression(expression).map_err(syntax)?;
                (compiled.undeclared_variables(false), compiled.undeclared_variables(true))
            }
            None => {
                let compiled = environment.template_from_str(source).map_err(syntax)?;
                (compiled.undeclared_variables(false), compiled.undeclared_variables(true))
            }
        };
        let allowed = scope.roots();
        let mut unknown: Vec<&String> = variables
            .iter()
            .filter(|name| {
                !allowed.contains(&name.as_str())
                    && environment.globals().all(|(global, _)| global != name.as_str())
            })
            .collect();
        unknown.sort();
        if let Some(name) = unknown.first() {
            return Err(TemplateError::UnknownVariable { name: (*name).clone(), allowed: scope.describe() });
        }
        let step_refs = nested
            .iter()
            .filter_map(|path| path.strip_prefix("steps."))
            .map(|rest| rest.split('.').next().unwrap_or(rest).to_owned())
            .collect();
        Ok(Template { source: source.to_owned(), expression, step_refs })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// The step ids this template reads through `steps.<id>.…`.
    pub fn step_refs(&self) -> impl Iterator<Item = &str> {
        self.step_refs.iter().map(String::as_str)
    }

    /// Evaluates over `context` (a JSON object whose keys are the root variables). Undefined is an error.
    pub fn render(&self, context: &Value) -> Result<Value, TemplateError> {
        let environment = shared_environment();
        let context = minijinja::Value::from_serialize(context);
        match &self.expression {
            Some(expression) => {
                let compiled = environment.compile_expression_owned(expression.clone()).map_err(syntax)?;
                let value = compiled.eval(context).map_err(|error| self.render_error(error))?;
                if value.is_undefined() {
                    return Err(TemplateError::Undefined(expression.trim().to_owned()));
                }
                serde_json::to_value(&value).map_err(|error| TemplateError::Render(error.to_string()))
            }
            None => environment
                .render_str(&self.source, context)
                .map(Value::String)
                .map_err(|error| self.render_error(error)),
        }
    }

    fn render_error(&self, error: minijinja::Error) -> TemplateError {
        if error.kind() == minijinja::ErrorKind::UndefinedError {
            let shown = self.expression.as_deref().unwrap_or(&self.source);
            TemplateError::Undefined(shown.trim().to_owned())
        } else {
            TemplateError::Render(describe(&error))
        }
    }

    /// Evaluates as a condition, by Jinja truthiness (`false`, `0`, `""`, `[]`, `none` are false).
    pub fn is_true(&self, context: &Value) -> Result<bool, TemplateError> {
        Ok(match self.render(context)? {
            Value::Null => false,
            Value::Bool(flag) => flag,
            Value::Number(number) => number.as_f64() != Some(0.0),
            Value::String(text) => !text.is_empty() && text != "false",
            Value::Array(items) => !items.is_empty(),
            Value::Object(fields) => !fields.is_empty(),
        })
    }

    /// Evaluates as a correlation key: a non-empty string, or a number written out.
    pub fn render_key(&self, context: &Value) -> Result<crate::EventKey, TemplateError> {
        let not_a_key = |got: String| TemplateError::NotAKey { template: self.source.clone(), got };
        let text = match self.render(context)? {
            Value::String(text) => text,
            Value::Number(number) => number.to_string(),
            other => return Err(not_a_key(other.to_string())),
        };
        crate::EventKey::new(text).map_err(|_| not_a_key("an empty string".to_owned()))
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl TryFrom<String> for Template {
    type Error = TemplateError;

    /// Used when a stored definition is read back; it was checked when first parsed, so any scope would do, and
    /// [`Scope::Until`] allows every variable.
    fn try_from(source: String) -> Result<Template, TemplateError> {
        Template::parse(&source, Scope::Until)
    }
}

impl From<Template> for String {
    fn from(template: Template) -> String {
        template.source
    }
}

impl Scope {
    fn roots(self) -> &'static [&'static str] {
        match self {
            Scope::Event => &["event"],
            Scope::Step => &["trigger", "steps", "run", "settings"],
            Scope::Until => &["trigger", "steps", "run", "settings", "result"],
            Scope::Filter => &["trigger", "steps", "run", "settings", "event"],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Scope::Event => "`event` (the incoming event)",
            Scope::Step => "`trigger`, `steps.<id>`, `run` or `settings`",
            Scope::Until => "`result`, `trigger`, `steps.<id>`, `run` or `settings`",
            Scope::Filter => "`event`, `trigger`, `steps.<id>`, `run` or `settings`",
        }
    }
}

/// If `source` is exactly one `{{ … }}` with nothing around it, returns the expression inside.
fn single_expression(source: &str) -> Option<String> {
    let inner = source.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") || inner.contains("{#") {
        return None;
    }
    Some(inner.to_owned())
}

fn environment<'source>() -> Environment<'source> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment.add_filter("fromjson", fromjson);
    environment.add_filter("plus", plus);
    environment.add_filter("regex_find", regex_find);
    environment
}

/// `"2026-01-05T10:00:00Z" | plus("7d")`: the time that much later, as the same RFC 3339 text, so a template can
/// compare it with `run.now` (texts in this one format order as the times do).
fn plus(time: &str, duration: &str) -> Result<String, minijinja::Error> {
    let bad = |what: String| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, what);
    let at = crate::Timestamp::parse_rfc3339(time).map_err(|error| bad(format!("{time:?}: {error}")))?;
    let by = crate::Duration::parse(duration).map_err(|error| bad(format!("{duration:?}: {error}")))?;
    Ok(at.plus(by).to_string())
}

/// `"Where is #1042?" | regex_find("#[0-9]+")`: the first match of the pattern (`regex-lite` syntax), or none.
fn regex_find(text: &str, pattern: &str) -> Result<minijinja::Value, minijinja::Error> {
    let regex = regex_lite::Regex::new(pattern).map_err(|error| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("{pattern:?} is not a pattern: {error}"),
        )
    })?;
    Ok(regex.find(text).map_or(minijinja::Value::from(()), |found| minijinja::Value::from(found.as_str())))
}

/// `"[1, 2]" | fromjson`: the value a JSON text holds, so a template that builds a list in a loop (and renders it
/// with `tojson`) can be read back as a list.
fn fromjson(text: &str) -> Result<minijinja::Value, minijinja::Error> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|error| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("not JSON: {error}"))
    })?;
    Ok(minijinja::Value::from_serialize(&value))
}

/// One environment for all rendering, built once: building one registers every filter, which is too slow to do
/// for each of thousands of steps a second.
fn shared_environment() -> &'static Environment<'static> {
    static ENVIRONMENT: OnceLock<Environment<'static>> = OnceLock::new();
    ENVIRONMENT.get_or_init(environment)
}

fn syntax(error: minijinja::Error) -> TemplateError {
    TemplateError::Syntax(describe(&error))
}

/// minijinja's message without the "(in <string>:1)" location, which means nothing to a workflow author; the
/// diagnostic already names the file, line and field.
fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(source: &str, context: Value, expect: &str) {
        let actual =
            match Template::parse(source, Scope::Until).and_then(|template| template.render(&context)) {
                Ok(value) => value.to_string(),
                Err(error) => format!("error: {error}"),
            };
        assert_eq!(actual, expect, "{source}");
    }

    #[test]
    fn renders_typed_values_and_rejects_undefined() {
        let context = json!({
            "trigger": {"data": {"object": {"id": "in_1", "amount_due": 1999}}},
            "result": {"status": "paid"},
        });
        check("{{ trigger.data.object.id }}", context.clone(), r#""in_1""#);
        check("{{ trigger.data.object.amount_due }}", context.clone(), "1999");
        check("{{ result.status == 'paid' }}", context.clone(), "true");
        check("Invoice {{ trigger.data.object.id }}", context.clone(), r#""Invoice in_1""#);
        check("plain", context.clone(), r#""plain""#);
        check(
            "{{ trigger.data.object.missing }}",
            context.clone(),
            "error: template `trigger.data.object.missing` is undefined for this run",
        );
        check(
            "x {{ trigger.data.nope.id }}",
            context.clone(),
            "error: template `x {{ trigger.data.nope.id }}` is undefined for this run",
        );
    }

    #[test]
    fn scopes_limit_variables() {
        let error = Template::parse("{{ trigger.id }}", Scope::Event).unwrap_err();
        assert_eq!(
            error.to_string(),
            "template uses `trigger`, which is not available here; use `event` (the incoming event)"
        );
        let template =
            Template::parse("{{ steps.retry.attempts > 1 and steps.other.x }}", Scope::Step).unwrap();
        assert_eq!(template.step_refs().collect::<Vec<_>>(), ["other", "retry"]);
    }
}
