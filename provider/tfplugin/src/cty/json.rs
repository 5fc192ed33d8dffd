//! The JSON encoding of cty values: how state is stored (`RawState.json`) and the fallback
//! for `DynamicValue.json`. Unknown values have no JSON form.
//!
//! Numbers keep every digit: serde_json is built with `arbitrary_precision`, so a JSON
//! number reaches [`Number::parse`] as the text it was written with.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::value::{tuple_length, unsupported_attribute};
use super::{DecodeError, EncodeError, Number, Path, Trail, Type, Value};

pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let json: Json =
        serde_json::from_slice(bytes).map_err(|e| DecodeError { path: Path::root(), message: format!("invalid JSON: {e}") })?;
    decode_value(&json, ty)
}

pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    Ok(serde_json::to_vec(&encode_value(value, ty)?).expect("a JSON tree always serialises"))
}

/// Decodes an already parsed JSON document (missing object attributes are null).
pub fn decode_value(json: &Json, ty: &Type) -> Result<Value, DecodeError> {
    from_json(json, ty, &Trail::Root)
}

/// Encodes as a JSON tree; object keys come out sorted, as the value holds them.
pub fn encode_value(value: &Value, ty: &Type) -> Result<Json, EncodeError> {
    to_json(value, ty, &Trail::Root)
}

fn fail<T>(path: &Trail, message: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError { path: path.to_path(), message: message.into() })
}

fn from_json(json: &Json, ty: &Type, path: &Trail) -> Result<Value, DecodeError> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::Dynamic => {
            let Json::Object(entries) = json else {
                return fail(path, "a dynamic value must be an object with \"value\" and \"type\"");
            };
            if let Some(key) = entries.keys().find(|k| *k != "value" && *k != "type") {
                return fail(path, format!("invalid key {key:?} in a dynamic value"));
            }
            let (Some(type_json), Some(inner)) = (entries.get("type"), entries.get("value")) else {
                return fail(path, "a dynamic value must have both \"value\" and \"type\"");
            };
            let concrete = Type::from_json(type_json).or_else(|e| fail(path, e.to_string()))?;
            if concrete == Type::Dynamic {
                return fail(path, "a dynamic value's type must be concrete");
            }
            let inner = from_json(inner, &concrete, path)?;
            Ok(Value::Dynamic(concrete, Box::new(inner)))
        }
        // cty converts primitive JSON tokens between primitive types, as HCL does.
        Type::String => match json {
            Json::String(s) => Ok(Value::String(super::nfc(s))),
            Json::Number(n) => Ok(Value::String(n.to_string())),
            Json::Bool(b) => Ok(Value::String(b.to_string())),
            _ => fail(path, "a string is required"),
        },
        Type::Number => {
            let text = match json {
                Json::Number(n) => n.to_string(),
                Json::String(s) => s.clone(),
                _ => return fail(path, "a number is required"),
            };
            Number::parse(&text).map(Value::Number).or_else(|e| fail(path, e.to_string()))
        }
        Type::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            _ => fail(path, "a bool is required"),
        },
        Type::List(element) => Ok(Value::List(elements(json, element, "a list", path)?)),
        Type::Set(element) => Ok(Value::set(elements(json, element, "a set", path)?)),
        Type::Tuple(elements) => {
            let Json::Array(items) = json else { return fail(path, "a tuple is required") };
            if items.len() != elements.len() {
                return fail(path, format!("a tuple of {} elements is required ({} given)", elements.len(), items.len()));
            }
            let values = items.iter().zip(elements).enumerate().map(|(i, (item, t))| from_json(item, t, &path.index(i as i64)));
            Ok(Value::Tuple(values.collect::<Result<_, _>>()?))
        }
        Type::Map(element) => {
            let Json::Object(entries) = json else { return fail(path, "a map is required") };
            let mut out = BTreeMap::new();
            for (key, item) in entries {
                let key = super::nfc(key);
                let value = from_json(item, element, &path.key(&key))?;
                out.insert(key, value);
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let Json::Object(entries) = json else { return fail(path, "an object is required") };
            let mut out = BTreeMap::new();
            for (key, item) in entries {
                let key = super::nfc(key);
                let Some(attr_type) = attrs.get(&key) else {
                    return fail(path, format!("unsupported attribute {key:?}"));
                };
                let value = from_json(item, attr_type, &path.attr(&key))?;
                out.insert(key, value);
            }
            // Stored state may predate an attribute: what is missing is null.
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
    }
}

fn elements(json: &Json, element: &Type, what: &str, path: &Trail) -> Result<Vec<Value>, DecodeError> {
    let Json::Array(items) = json else { return fail(path, format!("{what} is required")) };
    items.iter().enumerate().map(|(i, item)| from_json(item, element, &path.index(i as i64))).collect()
}

fn to_json(value: &Value, ty: &Type, path: &Trail) -> Result<Json, EncodeError> {
    let err = |message: String| EncodeError { path: path.to_path(), message };
    let each = |items: &[Value], element: &Type| -> Result<Json, EncodeError> {
        let items = items.iter().enumerate().map(|(i, item)| to_json(item, element, &path.index(i as i64)));
        Ok(Json::Array(items.collect::<Result<_, _>>()?))
    };
    Ok(match (value, ty) {
        (Value::Null, _) => Json::Null,
        (Value::Unknown(_), _) => return Err(err("an unknown value has no JSON form".into())),
        (Value::Dynamic(concrete, inner), Type::Dynamic) if *concrete != Type::Dynamic => {
            serde_json::json!({"value": to_json(inner, concrete, path)?, "type": concrete.to_json()})
        }
        (Value::String(s), Type::String) => Json::String(s.clone()),
        (Value::Bool(b), Type::Bool) => Json::Bool(*b),
        (Value::Number(n), Type::Number) => {
            if n.is_infinite() {
                return Err(err(format!("{n} has no JSON form")));
            }
            Json::Number(n.to_string().parse().map_err(|e| err(format!("number {n}: {e}")))?)
        }
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => each(items, element)?,
        (Value::Tuple(items), Type::Tuple(elements)) => {
            if items.len() != elements.len() {
                return Err(tuple_length(path, elements.len(), items.len()));
            }
            let items = items.iter().zip(elements).enumerate().map(|(i, (item, t))| to_json(item, t, &path.index(i as i64)));
            Json::Array(items.collect::<Result<_, _>>()?)
        }
        (Value::Map(items), Type::Map(element)) => Json::Object(
            items.iter().map(|(k, v)| Ok((k.clone(), to_json(v, element, &path.key(k))?))).collect::<Result<_, EncodeError>>()?,
        ),
        (Value::Object(items), Type::Object(attrs)) => {
            if let Some(extra) = items.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(unsupported_attribute(path, extra));
            }
            // Every attribute is written, as Terraform writes state; absent ones as null.
            let entries =
                attrs.iter().map(|(name, t)| Ok((name.clone(), to_json(items.get(name).unwrap_or(&Value::Null), t, &path.attr(name))?)));
            Json::Object(entries.collect::<Result<_, EncodeError>>()?)
        }
        (value, ty) => return Err(value.mismatch(ty, path)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_numbers_keep_every_digit() {
        let text = br#"123456789012345678901234567890.000000000000000000001"#;
        let value = decode(text, &Type::Number).unwrap();
        assert_eq!(encode(&value, &Type::Number).unwrap(), text.to_vec());
        // Exponents are read exactly and written out in plain notation.
        let value = decode(b"1.5e21", &Type::Number).unwrap();
        assert_eq!(encode(&value, &Type::Number).unwrap(), b"1500000000000000000000".to_vec());
        assert_eq!(decode(b"\"0.1\"", &Type::Number).unwrap(), Value::Number(Number::parse("0.1").unwrap()));
    }

    #[test]
    fn primitives_convert_like_cty() {
        assert_eq!(decode(b"12", &Type::String).unwrap(), Value::from("12"));
        assert_eq!(decode(b"true", &Type::String).unwrap(), Value::from("true"));
        assert_eq!(decode(b"\"false\"", &Type::Bool).unwrap(), Value::Bool(false));
        assert!(decode(b"\"yes\"", &Type::Bool).is_err());
        assert!(decode(b"[]", &Type::String).is_err());
    }

    #[test]
    fn dynamic_values_are_wrapped_with_their_type() {
        let value = Value::Dynamic(Type::list(Type::String), Box::new(Value::List(vec![Value::from("a")])));
        let bytes = encode(&value, &Type::Dynamic).unwrap();
        assert_eq!(bytes, br#"{"value":["a"],"type":["list","string"]}"#.to_vec());
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), value);
        assert_eq!(decode(b"null", &Type::Dynamic).unwrap(), Value::Null);
    }

    #[test]
    fn dynamic_wrappers_are_strict() {
        for (text, message) in [
            (r#"["a"]"#, "must be an object"),
            (r#"{"value":1}"#, "both"),
            (r#"{"value":1,"type":"number","extra":2}"#, "invalid key \"extra\""),
            (r#"{"value":1,"type":"dynamic"}"#, "concrete"),
            (r#"{"value":1,"type":"integer"}"#, "invalid primitive type"),
        ] {
            let err = decode(text.as_bytes(), &Type::Dynamic).unwrap_err();
            assert!(err.message.contains(message), "{text}: {err}");
        }
    }

    #[test]
    fn stored_objects_may_miss_attributes_but_not_add_them() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        assert_eq!(decode(br#"{"a":"x"}"#, &ty).unwrap(), Value::object([("a", Value::from("x")), ("b", Value::Null)]));
        let err = decode(br#"{"a":"x","c":1}"#, &ty).unwrap_err();
        assert!(err.message.contains("unsupported attribute \"c\""));
        assert_eq!(encode(&Value::object([("b", Value::from(2))]), &ty).unwrap(), br#"{"a":null,"b":2}"#.to_vec());
    }

    #[test]
    fn sets_drop_duplicates_and_errors_name_the_path() {
        let ty = Type::object([("s", Type::set(Type::Number))]);
        let value = decode(br#"{"s":[1,1.0,2,"1e0"]}"#, &ty).unwrap();
        assert_eq!(value.get("s"), Some(&Value::Set(vec![Value::from(1), Value::from(2)])));
        let err = decode(br#"{"s":[1,true]}"#, &ty).unwrap_err();
        assert_eq!(err.to_string(), "s[1]: a number is required");
    }

    #[test]
    fn unknowns_and_infinities_cannot_be_stored() {
        assert!(encode(&Value::unknown(), &Type::String).is_err());
        let nested = Value::object([("a", Value::List(vec![Value::unknown()]))]);
        let err = encode(&nested, &Type::object([("a", Type::list(Type::Bool))])).unwrap_err();
        assert_eq!(err.path.to_string(), "a[0]");
        assert!(encode(&Value::Number(Number::infinity(true)), &Type::Number).is_err());
    }

    #[test]
    fn trailing_garbage_is_rejected() {
        assert!(decode(b"1 2", &Type::Number).is_err());
        assert_eq!(decode(b" 1\n", &Type::Number).unwrap(), Value::from(1));
    }
}
