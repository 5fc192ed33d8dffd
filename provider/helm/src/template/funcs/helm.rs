//! Helm's own functions: `include`, `tpl`, `required`, `fail`, `lookup` and the YAML ones.
//! `required` and `fail` wrap their message in markers, which the renderer turns into
//! Helm's "execution error at (FILE:LINE:COL): message".

use std::rc::Rc;

use super::super::value::{Object, Value};
use super::{table, to_json_value};
use crate::semver::Version;
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
    // Without a cluster (`helm template`) lookups find nothing, as Helm's do offline.
    fixed "lookup"(Str, Str, Str, Str) => |engine, a| {
        let arg = |i: usize| a[i].as_str().unwrap_or_default();
        // An answer from the cluster can change before the next render (an apply that
        // replaces the release deletes what the plan's render read): marked as random is.
        engine.entropy.drawn |= engine.cluster.is_live();
        engine.cluster.lookup(arg(0), arg(1), arg(2), arg(3)).map(|found| Value::from_json(&found))
    },
    fixed "toYaml"(Any) => |_, a| Ok(Value::str(to_json_value(&a[0]).map(|j| yaml::helm_to_yaml(&j)).unwrap_or_default())),
    fixed "mustToYaml"(Any) => |_, a| to_json_value(&a[0]).map(|j| Value::str(yaml::helm_to_yaml(&j))),
    fixed "fromYaml"(Str) => |_, a| Ok(Value::from_json(&serde_json::Value::Object(yaml::helm_from_yaml(a[0].as_str().unwrap_or_default())))),
    fixed "semver"(Str) => |_, a| SemverValue::parse(a[0].as_str().unwrap_or_default()),
    fixed "semverCompare"(Str, Str) => |_, a| crate::semver::compare(a[0].as_str().unwrap_or_default(), a[1].as_str().unwrap_or_default()).map(Value::Bool),
    fixed "fromYamlArray"(Str) => |_, a| Ok(Value::from_json(&serde_json::Value::Array(yaml::helm_from_yaml_array(a[0].as_str().unwrap_or_default())))),
}

/// Helm's markers around `fail` and `required` messages.
pub const FAIL_START: &str = "HELM_ERR_START";
pub const FAIL_END: &str = "HELM_ERR_END";

fn wrap(msg: &Value) -> String {
    format!("{FAIL_START}{}{FAIL_END}", msg.as_str().unwrap_or_default())
}

/// Sprig's `semver`: a `*semver.Version` with its fields (`Major`, `Minor`, `Patch`,
/// `Prerelease`, `Metadata`, `Original`) and comparison methods, printed in normal form.
#[derive(Debug)]
struct SemverValue {
    version: Version,
    metadata: String,
    original: String,
}

impl SemverValue {
    fn parse(text: &str) -> Result<Value, String> {
        let version = Version::parse(text)?;
        let metadata = text.split_once('+').map(|(_, m)| m.to_string()).unwrap_or_default();
        Ok(Value::Object(Rc::new(SemverValue { version, metadata, original: text.to_string() })))
    }

    /// The other operand of a method: another version (read back from how it prints).
    fn operand(args: &[Value]) -> Result<Version, String> {
        match args {
            [Value::Object(other)] if other.type_name() == "*semver.Version" => Version::parse(&other.go_string()),
            [other] => Err(format!("wrong type for value; expected *semver.Version; got {}", other.type_name())),
            _ => Err(format!("wrong number of args: want 1 got {}", args.len())),
        }
    }
}

impl Object for SemverValue {
    fn type_name(&self) -> &str {
        "*semver.Version"
    }

    fn field(&self, name: &str) -> Option<Value> {
        let v = &self.version;
        Some(match name {
            "Major" => Value::int64(v.major as i64),
            "Minor" => Value::int64(v.minor as i64),
            "Patch" => Value::int64(v.patch as i64),
            "Prerelease" => Value::str(v.pre.as_str()),
            "Metadata" => Value::str(self.metadata.as_str()),
            "Original" => Value::str(self.original.as_str()),
            "String" => Value::str(self.go_string()),
            _ => return None,
        })
    }

    fn has_method(&self, name: &str) -> bool {
        matches!(name, "Compare" | "LessThan" | "GreaterThan" | "Equal")
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let compare = |args: &[Value]| Self::operand(args).map(|other| self.version.cmp(&other));
        Some(match name {
            "Compare" => compare(args).map(|o| Value::int(o as i64)),
            "LessThan" => compare(args).map(|o| Value::Bool(o.is_lt())),
            "GreaterThan" => compare(args).map(|o| Value::Bool(o.is_gt())),
            "Equal" => compare(args).map(|o| Value::Bool(o.is_eq())),
            _ => return None,
        })
    }

    fn go_string(&self) -> String {
        let v = &self.version;
        let mut out = format!("{}.{}.{}", v.major, v.minor, v.patch);
        if !v.pre.is_empty() {
            out.push('-');
            out.push_str(&v.pre);
        }
        if !self.metadata.is_empty() {
            out.push('+');
            out.push_str(&self.metadata);
        }
        out
    }
}
