use std::collections::{BTreeMap, HashSet};

use super::{EncodeError, Number, Trail, Type};

/// What Terraform knows about a value that is not known yet (cty refinements, msgpack
/// extension 12). All fields empty means a plain unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Refinements {
    /// `Some(false)`: definitely not null.
    pub nullable: Option<bool>,
    pub string_prefix: Option<String>,
    /// Bound and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    pub number_upper: Option<(Number, bool)>,
    pub length_lower: Option<u64>,
    pub length_upper: Option<u64>,
}

impl Refinements {
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A cty value. Its shape follows the type it was decoded with; `Dynamic` appears only in
/// slots whose schema type is `dynamic` and carries the concrete type the value arrived with,
/// so it can be sent back exactly (object stays object, tuple stays tuple).
///
/// Equality is structural (set order counts) except for numbers, which compare numerically.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    /// Boxed: refinements are rare and large, and every value would pay for their size.
    Unknown(Box<Refinements>),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Tuple(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Dynamic(Type, Box<Value>),
}

impl Value {
    pub fn unknown() -> Value {
        Value::Unknown(Box::default())
    }
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }
    pub fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A set holding each wholly known element once (the first occurrence), as Terraform
    /// does on decode. Elements with unknowns inside are all kept: they may differ once known.
    pub fn set(items: impl IntoIterator<Item = Value>) -> Value {
        let items: Vec<Value> = items.into_iter().collect();
        let mut seen = HashSet::with_capacity(items.len());
        let keep: Vec<bool> = items.iter().map(|v| !v.is_wholly_known() || seen.insert(v)).collect();
        drop(seen);
        if keep.iter().all(|k| *k) {
            return Value::Set(items);
        }
        Value::Set(items.into_iter().zip(keep).filter_map(|(v, k)| k.then_some(v)).collect())
    }

    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Dynamic(_, inner) => inner.is_null(),
            _ => false,
        }
    }

    pub fn is_unknown(&self) -> bool {
        match self {
            Value::Unknown(_) => true,
            Value::Dynamic(_, inner) => inner.is_unknown(),
            _ => false,
        }
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        !self.any_nested(&|v| matches!(v, Value::Unknown(_)))
    }

    /// Whether an infinite number is anywhere in the value: JSON, and so the state, cannot
    /// hold one.
    pub fn contains_infinity(&self) -> bool {
        self.any_nested(&|v| matches!(v, Value::Number(n) if n.is_infinite()))
    }

    /// Whether `pred` holds for this value or any value nested in it.
    pub fn any_nested(&self, pred: &impl Fn(&Value) -> bool) -> bool {
        pred(self)
            || match self {
                Value::List(items) | Value::Set(items) | Value::Tuple(items) => items.iter().any(|v| v.any_nested(pred)),
                Value::Map(items) | Value::Object(items) => items.values().any(|v| v.any_nested(pred)),
                Value::Dynamic(_, inner) => inner.any_nested(pred),
                _ => false,
            }
    }

    /// An object's (or map's) attribute; `None` for other shapes or missing names.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(items) | Value::Map(items) => items.get(name),
            Value::Dynamic(_, inner) => inner.get(name),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(items) | Value::Map(items) => items.get_mut(name),
            Value::Dynamic(_, inner) => inner.get_mut(name),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::Dynamic(_, inner) => inner.as_str(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Dynamic(_, inner) => inner.as_bool(),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self {
            Value::Number(n) => Some(n),
            Value::Dynamic(_, inner) => inner.as_number(),
            _ => None,
        }
    }

    /// Elements of a list, set or tuple.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            Value::Dynamic(_, inner) => inner.as_seq(),
            _ => None,
        }
    }

    /// Entries of a map or object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(items) | Value::Object(items) => Some(items),
            Value::Dynamic(_, inner) => inner.as_entries(),
            _ => None,
        }
    }

    /// Whether this value can be encoded as `ty`, by the same rules as the encoders: null and
    /// unknown fit any type, a `dynamic` slot holds `Value::Dynamic` with a concrete type, and
    /// an object may leave attributes out (they are sent as null) but not add any.
    pub fn conforms(&self, ty: &Type) -> Result<(), EncodeError> {
        self.conforms_at(ty, &Trail::Root)
    }

    fn conforms_at(&self, ty: &Type, path: &Trail) -> Result<(), EncodeError> {
        let each = |items: &[Value], element: &Type| {
            items.iter().enumerate().try_for_each(|(i, item)| item.conforms_at(element, &path.index(i as i64)))
        };
        match (self, ty) {
            (Value::Null | Value::Unknown(_), _)
            | (Value::String(_), Type::String)
            | (Value::Number(_), Type::Number)
            | (Value::Bool(_), Type::Bool) => Ok(()),
            (Value::Dynamic(concrete, _), Type::Dynamic) if *concrete == Type::Dynamic => {
                Err(EncodeError { path: path.to_path(), message: "a dynamic value's type must be concrete".into() })
            }
            (Value::Dynamic(concrete, inner), Type::Dynamic) => inner.conforms_at(concrete, path),
            (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => each(items, element),
            (Value::Tuple(items), Type::Tuple(elements)) => {
                if items.len() != elements.len() {
                    return Err(tuple_length(path, elements.len(), items.len()));
                }
                items.iter().zip(elements).enumerate().try_for_each(|(i, (item, t))| item.conforms_at(t, &path.index(i as i64)))
            }
            (Value::Map(items), Type::Map(element)) => items.iter().try_for_each(|(key, item)| item.conforms_at(element, &path.key(key))),
            (Value::Object(items), Type::Object(attrs)) => items.iter().try_for_each(|(name, item)| match attrs.get(name) {
                Some(attr_type) => item.conforms_at(attr_type, &path.attr(name)),
                None => Err(unsupported_attribute(path, name)),
            }),
            (value, ty) => Err(value.mismatch(ty, path)),
        }
    }

    /// The error for a value of the wrong shape for `ty`.
    pub(crate) fn mismatch(&self, ty: &Type, path: &Trail) -> EncodeError {
        let shape = match self {
            Value::Null => "null",
            Value::Unknown(_) => "unknown",
            Value::Bool(_) => "a bool",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Set(_) => "a set",
            Value::Tuple(_) => "a tuple",
            Value::Map(_) => "a map",
            Value::Object(_) => "an object",
            Value::Dynamic(..) => "a dynamic value",
        };
        EncodeError { path: path.to_path(), message: format!("a value of type {ty} is required, not {shape}") }
    }

    /// Equality as Terraform's plan checks see it: refinements of unknowns are ignored and
    /// set order does not matter.
    pub fn equivalent(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Unknown(_), Value::Unknown(_)) => true,
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| b.iter().any(|y| x.equivalent(y)))
                    && b.iter().all(|y| a.iter().any(|x| x.equivalent(y)))
            }
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.equivalent(y))
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| x.equivalent(y)))
            }
            (Value::Dynamic(ta, a), Value::Dynamic(tb, b)) => ta == tb && a.equivalent(b),
            (a, b) => a == b,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(Number::from(n))
    }
}

pub(crate) fn tuple_length(path: &Trail, want: usize, got: usize) -> EncodeError {
    EncodeError { path: path.to_path(), message: format!("a tuple of {want} elements is required ({got} given)") }
}

pub(crate) fn unsupported_attribute(path: &Trail, name: &str) -> EncodeError {
    EncodeError { path: path.to_path(), message: format!("unsupported attribute {name:?}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_hold_each_known_element_once() {
        let one_point_zero = Value::Number(Number::parse("1.0").unwrap());
        let set = Value::set([Value::from(1), Value::unknown(), one_point_zero, Value::from(2), Value::unknown()]);
        assert_eq!(set, Value::Set(vec![Value::from(1), Value::unknown(), Value::from(2), Value::unknown()]));
    }

    #[test]
    fn conformance_follows_the_encoders() {
        let ty = Type::object([("name", Type::String), ("any", Type::Dynamic), ("pair", Type::Tuple(vec![Type::Bool, Type::Number]))]);
        // Null and unknown fit anywhere; absent attributes are allowed.
        assert!(Value::object([("name", Value::unknown()), ("any", Value::Null)]).conforms(&ty).is_ok());
        let dynamic = Value::Dynamic(Type::list(Type::Number), Box::new(Value::List(vec![Value::from(1)])));
        assert!(Value::object([("any", dynamic)]).conforms(&ty).is_ok());

        let err = Value::object([("extra", Value::Null)]).conforms(&ty).unwrap_err();
        assert_eq!(err.to_string(), "unsupported attribute \"extra\"");
        let err = Value::object([("any", Value::from("bare"))]).conforms(&ty).unwrap_err();
        assert_eq!(err.to_string(), "any: a value of type dynamic is required, not a string");
        let err = Value::object([("pair", Value::Tuple(vec![Value::Bool(true)]))]).conforms(&ty).unwrap_err();
        assert_eq!(err.to_string(), "pair: a tuple of 2 elements is required (1 given)");
        let wrong_inner = Value::Dynamic(Type::list(Type::Number), Box::new(Value::List(vec![Value::from("x")])));
        let err = Value::object([("any", wrong_inner)]).conforms(&ty).unwrap_err();
        assert_eq!(err.path.to_string(), "any[0]");
        assert!(Value::Dynamic(Type::Dynamic, Box::new(Value::Null)).conforms(&Type::Dynamic).is_err());
    }
}
