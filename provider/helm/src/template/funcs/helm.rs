//! Helm's own functions: `include`, `tpl`, `required`, `fail`, `lookup` and the YAML ones.
//! `required` and `fail` wrap their message in markers, which the renderer turns into
//! Helm's "execution error at (FILE:LINE:COL): message".

use super::super::value::Value;
use super::{table, to_json_value};
use crate::yaml;

table! {
    fixed "include"(Str, Any) => |engine, a| engine.include(a[0].as_str().unwrap_or_default(), a[1].clone()).map(Value::str),
    fixed "tpl"(Str, Any) => |engine, a| engine.tpl(a[0].as_str().unwrap_or_default(), a[1].clone()).map(Value::str),
    fixed "required"(Str, Any) => |_, a| match &a[1] {
        Value::Nil => Err(wrap(&a[0])),
        Value::Str(s) if s.is_empty() => Err(wrap(&a[0])),
        other => Ok(other.clone()),
    },
    fixed "fail"(Str) => |_, a| Err(wrap(&a[0])),
    // `helm template` has no cluster: lookups find nothing, as Helm's do offline.
    fixed "lookup"(Str, Str, Str, Str) => |_, _| Ok(Value::empty_map()),
    fixed "toYaml"(Any) => |_, a| Ok(Value::str(to_json_value(&a[0]).map(|j| yaml::helm_to_yaml(&j)).unwrap_or_default())),
    fixed "mustToYaml"(Any) => |_, a| to_json_value(&a[0]).map(|j| Value::str(yaml::helm_to_yaml(&j))),
    fixed "fromYaml"(Str) => |_, a| Ok(Value::from_json(&serde_json::Value::Object(yaml::helm_from_yaml(a[0].as_str().unwrap_or_default())))),
    fixed "semverCompare"(Str, Str) => |_, a| crate::semver::compare(a[0].as_str().unwrap_or_default(), a[1].as_str().unwrap_or_default()).map(Value::Bool),
    fixed "fromYamlArray"(Str) => |_, a| Ok(Value::from_json(&serde_json::Value::Array(yaml::helm_from_yaml_array(a[0].as_str().unwrap_or_default())))),
}

/// Helm's markers around `fail` and `required` messages.
pub const FAIL_START: &str = "HELM_ERR_START";
pub const FAIL_END: &str = "HELM_ERR_END";

fn wrap(msg: &Value) -> String {
    format!("{FAIL_START}{}{FAIL_END}", msg.as_str().unwrap_or_default())
}
