//! The functions templates can call: Go's built-ins, Sprig's, and Helm's own. Each has Go's
//! parameter types, because text/template converts and checks arguments against them (a
//! float64 from values given to `trunc` is an error in Helm, so it is here).

mod builtin;
mod convert;
mod crypto;
mod defaults;
mod dicts;
mod encoding;
mod helm;
mod lists;
mod numbers;
mod paths;
mod random;
mod regex;
mod strings;
mod toml;

use super::exec::Engine;
use super::value::{ElemType, IntType, Value};

pub use convert::{empty, strval, to_float, to_int};
pub use encoding::{json_text, to_json_value};
pub use helm::{FAIL_END, FAIL_START};

/// A Go parameter type, as far as argument checking needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Any,
    Str,
    Int,
    Int64,
    Float,
    Bool,
    /// `[]interface {}`
    List,
    /// `map[string]interface {}`
    Map,
}

impl Ty {
    pub fn go_name(self) -> &'static str {
        match self {
            Ty::Any => "interface {}",
            Ty::Str => "string",
            Ty::Int => "int",
            Ty::Int64 => "int64",
            Ty::Float => "float64",
            Ty::Bool => "bool",
            Ty::List => "[]interface {}",
            Ty::Map => "map[string]interface {}",
        }
    }

    pub fn can_be_nil(self) -> bool {
        matches!(self, Ty::Any | Ty::List | Ty::Map)
    }

    /// Go's `validateType`: the value must already have the parameter's type.
    pub fn validate(self, value: Value) -> Result<Value, String> {
        let ok = match (&value, self) {
            (_, Ty::Any) => true,
            (Value::Nil, ty) if ty.can_be_nil() => true,
            (Value::Nil, ty) => return Err(format!("invalid value; expected {}", ty.go_name())),
            (Value::Str(_), Ty::Str) | (Value::Bool(_), Ty::Bool) | (Value::Float(_), Ty::Float) | (Value::Map(_), Ty::Map) => true,
            (Value::Int(_, IntType::Int), Ty::Int) | (Value::Int(_, IntType::Int64), Ty::Int64) => true,
            (Value::List(_, ElemType::Any | ElemType::NilAny), Ty::List) => true,
            _ => false,
        };
        if ok {
            Ok(value)
        } else {
            Err(format!("wrong type for value; expected {}; got {}", self.go_name(), value.type_name()))
        }
    }
}

pub type FuncImpl = fn(&mut Engine, &[Value]) -> Result<Value, String>;

/// A function's parameters (the last repeats when `variadic`) and its body.
#[derive(Clone, Copy)]
pub struct Func {
    pub params: &'static [Ty],
    pub variadic: bool,
    pub call: FuncImpl,
}

pub fn exists(name: &str) -> bool {
    name == "and" || name == "or" || lookup(name).is_some()
}

/// Sprig's `must` variants: the same function, returning its error instead of panicking,
/// which a template sees the same way.
const MUST_VARIANTS: &[&str] = &[
    "mustAppend",
    "mustChunk",
    "mustCompact",
    "mustDeepCopy",
    "mustFirst",
    "mustFromJson",
    "mustHas",
    "mustInitial",
    "mustLast",
    "mustMerge",
    "mustMergeOverwrite",
    "mustPrepend",
    "mustPush",
    "mustRegexFind",
    "mustRegexFindAll",
    "mustRegexMatch",
    "mustRegexReplaceAll",
    "mustRegexReplaceAllLiteral",
    "mustRegexSplit",
    "mustRest",
    "mustReverse",
    "mustSlice",
    "mustToPrettyJson",
    "mustToRawJson",
    "mustUniq",
    "mustWithout",
];

/// Sprig's functions come first: where both define a name (`slice`), Sprig's replaces Go's.
pub fn lookup(name: &str) -> Option<Func> {
    if MUST_VARIANTS.contains(&name) {
        let plain = &name["must".len()..];
        let mut chars = plain.chars();
        let first = chars.next().map(|c| c.to_ascii_lowercase()).unwrap_or_default();
        return lookup(&format!("{first}{}", chars.as_str()));
    }
    strings::lookup(name)
        .or_else(|| lists::lookup(name))
        .or_else(|| defaults::lookup(name))
        .or_else(|| dicts::lookup(name))
        .or_else(|| numbers::lookup(name))
        .or_else(|| encoding::lookup(name))
        .or_else(|| helm::lookup(name))
        .or_else(|| paths::lookup(name))
        .or_else(|| regex::lookup(name))
        .or_else(|| random::lookup(name))
        .or_else(|| toml::lookup(name))
        .or_else(|| crypto::lookup(name))
        .or_else(|| builtin::lookup(name))
}

/// Declares a function table, one line a function:
/// `fixed "name"(Str, Int) => body` or `variadic "name"(Str, Any) => body` (the last repeats).
macro_rules! table {
    ($($kind:ident $name:literal ($($ty:ident),*) => $body:expr),* $(,)?) => {
        pub(super) fn lookup(name: &str) -> Option<super::Func> {
            #[allow(unused_imports)]
            use super::Ty::*;
            Some(match name {
                $($name => super::Func {
                    params: &[$($ty),*],
                    variadic: table!(@variadic $kind),
                    call: $body,
                },)*
                _ => return None,
            })
        }
    };
    (@variadic fixed) => { false };
    (@variadic variadic) => { true };
}
pub(crate) use table;
