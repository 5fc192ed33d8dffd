use std::collections::BTreeMap;
use std::fmt;

/// A cty type. Its JSON form (`"string"`, `["list","number"]`, `["object",{...}]`) is what
/// schemas carry in `Attribute.type` and what a dynamic value is prefixed with on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    String,
    Number,
    Bool,
    /// Any type, decided by the value (`DynamicPseudoType`).
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid type constraint: {0}")]
pub struct TypeError(pub String);

impl Type {
    pub fn list(element: Type) -> Self {
        Type::List(Box::new(element))
    }
    pub fn set(element: Type) -> Self {
        Type::Set(Box::new(element))
    }
    pub fn map(element: Type) -> Self {
        Type::Map(Box::new(element))
    }
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Type)>) -> Self {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    /// The JSON type constraint, as Terraform expects it in schemas and dynamic values.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{json, Value as J};
        match self {
            Type::String => json!("string"),
            Type::Number => json!("number"),
            Type::Bool => json!("bool"),
            Type::Dynamic => json!("dynamic"),
            Type::List(e) => json!(["list", e.to_json()]),
            Type::Set(e) => json!(["set", e.to_json()]),
            Type::Map(e) => json!(["map", e.to_json()]),
            Type::Object(attrs) => {
                let map: serde_json::Map<String, J> = attrs.iter().map(|(k, t)| (k.clone(), t.to_json())).collect();
                json!(["object", J::Object(map)])
            }
            Type::Tuple(elems) => json!(["tuple", elems.iter().map(Type::to_json).collect::<Vec<_>>()]),
        }
    }

    pub fn to_json_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_json()).expect("type JSON always serialises")
    }

    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, TypeError> {
        let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| TypeError(e.to_string()))?;
        Type::from_json(&json)
    }

    pub fn from_json(json: &serde_json::Value) -> Result<Type, TypeError> {
        use serde_json::Value as J;
        match json {
            J::String(name) => match name.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(TypeError(format!("invalid primitive type name {other:?}"))),
            },
            J::Array(parts) => {
                let kind =
                    parts.first().and_then(J::as_str).ok_or_else(|| TypeError("a structural type must start with its kind name".into()))?;
                match (kind, parts.len()) {
                    ("list", 2) => Ok(Type::list(Type::from_json(&parts[1])?)),
                    ("set", 2) => Ok(Type::set(Type::from_json(&parts[1])?)),
                    ("map", 2) => Ok(Type::map(Type::from_json(&parts[1])?)),
                    // A third element lists optional attributes of an HCL type constraint;
                    // it does not change the value's shape.
                    ("object", 2) | ("object", 3) => {
                        let attrs = parts[1].as_object().ok_or_else(|| TypeError("object attributes must be a JSON object".into()))?;
                        let mut out = BTreeMap::new();
                        for (k, v) in attrs {
                            out.insert(k.clone(), Type::from_json(v)?);
                        }
                        Ok(Type::Object(out))
                    }
                    ("tuple", 2) => {
                        let elems = parts[1].as_array().ok_or_else(|| TypeError("tuple element types must be a JSON array".into()))?;
                        Ok(Type::Tuple(elems.iter().map(Type::from_json).collect::<Result<_, _>>()?))
                    }
                    (kind, n) => Err(TypeError(format!("invalid type {kind:?} with {n} parts"))),
                }
            }
            other => Err(TypeError(format!("a type must be a string or an array, not {other}"))),
        }
    }

    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// The type of this type's elements, for lists, sets and maps.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(e) | Type::Set(e) | Type::Map(e) => Some(e),
            _ => None,
        }
    }
}

/// Prints the type the way Terraform's messages do: `list(string)`, `object({a=number})`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::String => write!(f, "string"),
            Type::Number => write!(f, "number"),
            Type::Bool => write!(f, "bool"),
            Type::Dynamic => write!(f, "dynamic"),
            Type::List(e) => write!(f, "list({e})"),
            Type::Set(e) => write!(f, "set({e})"),
            Type::Map(e) => write!(f, "map({e})"),
            Type::Object(attrs) => {
                write!(f, "object({{")?;
                for (i, (k, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{k}={t}")?;
                }
                write!(f, "}})")
            }
            Type::Tuple(elems) => {
                write!(f, "tuple([")?;
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, "])")
            }
        }
    }
}
