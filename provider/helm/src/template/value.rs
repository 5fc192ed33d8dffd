//! The values a template works with, modelled on the Go types Helm's templates actually see.
//!
//! Helm decodes values through JSON, so every number in `.Values` is a `float64`; template
//! literals are `int` or `float64`; Sprig returns `int64` from its integer maths and `[]string`
//! from its string splitters. `typeOf`, `kindIs`, `printf "%d"` and comparisons all depend on
//! these distinctions, so the value keeps them.
//!
//! Maps are shared and mutable, like Go maps: Sprig's `set`, `unset` and `merge` change the map
//! they are given, and charts rely on that (`$_ := set $ctx "key" 1`). Lists are immutable:
//! every Sprig list function returns a new slice.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// A Go map with string keys. Keys are kept sorted: Go's `fmt`, `range`, `encoding/json` and
/// Helm's YAML all visit map keys in sorted order.
pub type Map = BTreeMap<String, Value>;

/// The Go integer type a value carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntType {
    /// `int`: template literals, `len`, `int`, `atoi`.
    Int,
    /// `int64`: Sprig's integer arithmetic and `int64`.
    Int64,
}

/// The element type of a Go slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemType {
    /// `[]interface {}`: `list`, values from YAML or JSON.
    Any,
    /// A nil `[]interface {}` (Sprig's `rest` of an empty list): printed `[]` like an empty
    /// one, but JSON `null`, and not deeply equal to an empty list.
    NilAny,
    /// `[]string`: `splitList`, `keys`, `sortAlpha`, `regexFindAll`...
    String,
    /// `[]int`: `until`, `untilStep`.
    Int,
}

/// A built-in Helm object with fields and methods (`.Files`, `.Capabilities`, `.Chart`).
pub trait Object: fmt::Debug {
    /// The Go type name, as `typeOf` and error messages print it (`*chart.Metadata`).
    fn type_name(&self) -> &str;
    /// A field or a method without arguments, or `None` when the type has no such member.
    fn field(&self, name: &str) -> Option<Value>;
    /// A method called with arguments; `None` when the type has no such method.
    fn call(&self, _name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        None
    }
    /// Whether `name` is a method (which may take arguments) rather than a field.
    fn has_method(&self, _name: &str) -> bool {
        false
    }
    /// How `fmt`'s `%v` prints it.
    fn go_string(&self) -> String;
    /// The elements `range` visits, for objects that are Go slices.
    fn items(&self) -> Option<Vec<Value>> {
        None
    }
}

#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Go's untyped nil: a missing map key, `nil`, a nil interface.
    #[default]
    Nil,
    Bool(bool),
    Int(i64, IntType),
    Float(f64),
    Str(Rc<str>),
    List(Rc<Vec<Value>>, ElemType),
    Map(Rc<RefCell<Map>>),
    Object(Rc<dyn Object>),
}

impl Value {
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    pub fn int(i: i64) -> Value {
        Value::Int(i, IntType::Int)
    }

    pub fn int64(i: i64) -> Value {
        Value::Int(i, IntType::Int64)
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items), ElemType::Any)
    }

    /// A list that Go would leave as a nil slice when it is empty.
    pub fn list_or_nil(items: Vec<Value>) -> Value {
        let elem = if items.is_empty() { ElemType::NilAny } else { ElemType::Any };
        Value::List(Rc::new(items), elem)
    }

    pub fn strings(items: Vec<String>) -> Value {
        Value::List(Rc::new(items.into_iter().map(Value::str).collect()), ElemType::String)
    }

    pub fn map(map: Map) -> Value {
        Value::Map(Rc::new(RefCell::new(map)))
    }

    pub fn empty_map() -> Value {
        Value::map(Map::new())
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Go's `reflect.Type.String()` of the value, as Sprig's `typeOf` prints it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_, IntType::Int) => "int".into(),
            Value::Int(_, IntType::Int64) => "int64".into(),
            Value::Float(_) => "float64".into(),
            Value::Str(_) => "string".into(),
            Value::List(_, ElemType::Any | ElemType::NilAny) => "[]interface {}".into(),
            Value::List(_, ElemType::String) => "[]string".into(),
            Value::List(_, ElemType::Int) => "[]int".into(),
            Value::Map(_) => "map[string]interface {}".into(),
            Value::Object(o) => o.type_name().into(),
        }
    }

    /// Go's `reflect.Kind` name, as Sprig's `kindOf` prints it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_, IntType::Int) => "int",
            Value::Int(_, IntType::Int64) => "int64",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::List(..) => "slice",
            Value::Map(_) => "map",
            Value::Object(_) => "ptr",
        }
    }

    /// text/template's truth: false, 0, nil, and empty strings, lists and maps are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i, _) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(items, _) => !items.is_empty(),
            Value::Map(map) => !map.borrow().is_empty(),
            Value::Object(_) => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A copy that shares nothing mutable with the original (Sprig's `deepCopy`).
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::List(items, elem) => Value::List(Rc::new(items.iter().map(Value::deep_copy).collect()), *elem),
            Value::Map(map) => Value::map(map.borrow().iter().map(|(k, v)| (k.clone(), v.deep_copy())).collect()),
            other => other.clone(),
        }
    }

    /// Converts JSON (Helm's values, `fromJson`, `fromYaml`) the way Go's `encoding/json`
    /// decodes into `interface{}`: every number becomes a `float64`.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.to_string().parse().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(items) => Value::list(items.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(map) => Value::map(map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::str(s)
    }
}
