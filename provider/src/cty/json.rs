//! The JSON encoding of cty values: how state is stored (`RawState.json`) and the fallback
//! for `DynamicValue.json`. Unknown values have no JSON form.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{DecodeError, EncodeError, Number, Path, Trail, Type, Value};

pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| DecodeError { path: Path::root(), message: format!("invalid JSON: {e}") })?;
    decode_value(&json, ty)
}

pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    Ok(serde_json::to_vec(&encode_value(value, ty)?).expect("JSON value always serialises"))
}

fn fail<T>(path: &Trail, message: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError { path: path.to_path(), message: message.into() })
}

pub fn decode_value(json: &Json, ty: &Type) -> Result<Value, DecodeError> {
    from_json(json, ty, &Trail::Root)
}

fn from_json(json: &Json, ty: &Type, path: &Trail) -> Result<Value, DecodeError> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::Dynamic => {
            let (Some(type_json), Some(inner)) = (json.get("type"), json.get("value")) else {
                return fail(path, "a dynamic value must be an object with \"type\" and \"value\"");
            };
            let concrete = Type::from_json(type_json).map_err(|e| DecodeError { path: path.to_path(), message: e.to_string() })?;
            Ok(Value::Dynamic(concrete.clone(), Box::new(from_json(inner, &concrete, path)?)))
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
            Number::parse(&text).map(Value::Number).map_err(|e| DecodeError { path: path.to_path(), message: e.to_string() })
        }
        Type::Bool => match json {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            _ => fail(path, "a bool is required"),
        },
        Type::List(element) | Type::Set(element) => {
            let Json::Array(items) = json else { return fail(path, format!("a {ty} is required")) };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let value = from_json(item, element, &path.index(i as i64))?;
                if matches!(ty, Type::Set(_)) && out.contains(&value) {
                    continue;
                }
                out.push(value);
            }
            Ok(if matches!(ty, Type::Set(_)) { Value::Set(out) } else { Value::List(out) })
        }
        Type::Tuple(elements) => {
            let Json::Array(items) = json else { return fail(path, format!("a {ty} is required")) };
            if items.len() != elements.len() {
                return fail(path, format!("a tuple of {} elements is required ({} given)", elements.len(), items.len()));
            }
            let values = items.iter().zip(elements).enumerate().map(|(i, (item, t))| from_json(item, t, &path.index(i as i64)));
            Ok(Value::Tuple(values.collect::<Result<_, _>>()?))
        }
        Type::Map(element) => {
            let Json::Object(entries) = json else { return fail(path, format!("a {ty} is required")) };
            let mut out = BTreeMap::new();
            for (key, item) in entries {
                let key = super::nfc(key);
                let value = from_json(item, element, &path.key(&key))?;
                out.insert(key, value);
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let Json::Object(entries) = json else { return fail(path, format!("an {ty} is required")) };
            if let Some(extra) = entries.keys().find(|k| !attrs.contains_key(*k)) {
                return fail(path, format!("unsupported attribute {extra:?}"));
            }
            // Attributes missing from stored JSON are null.
            let mut out = BTreeMap::new();
            for (name, attr_type) in attrs {
                let value = match entries.get(name) {
                    Some(item) => from_json(item, attr_type, &path.attr(name))?,
                    None => Value::Null,
                };
                out.insert(name.clone(), value);
            }
            Ok(Value::Object(out))
        }
    }
}

pub fn encode_value(value: &Value, ty: &Type) -> Result<Json, EncodeError> {
    to_json(value, ty, &Trail::Root)
}

fn to_json(value: &Value, ty: &Type, path: &Trail) -> Result<Json, EncodeError> {
    let err = |message: String| EncodeError { path: path.to_path(), message };
    Ok(match (value, ty) {
        (Value::Null, _) => Json::Null,
        (Value::Unknown(_), _) => return Err(err("an unknown value has no JSON form".into())),
        (Value::Dynamic(concrete, inner), Type::Dynamic) => {
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
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => Json::Array(
            items.iter().enumerate().map(|(i, item)| to_json(item, element, &path.index(i as i64))).collect::<Result<_, _>>()?,
        ),
        (Value::Tuple(items), Type::Tuple(elements)) if items.len() == elements.len() => Json::Array(
            items.iter().zip(elements).enumerate().map(|(i, (item, t))| to_json(item, t, &path.index(i as i64))).collect::<Result<_, _>>()?,
        ),
        (Value::Map(items), Type::Map(element)) => {
            Json::Object(items.iter().map(|(k, v)| Ok((k.clone(), to_json(v, element, &path.key(k))?))).collect::<Result<_, EncodeError>>()?)
        }
        (Value::Object(items), Type::Object(attrs)) => {
            if let Some(extra) = items.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(err(format!("unsupported attribute {extra:?}")));
            }
            Json::Object(
                attrs
                    .iter()
                    .map(|(name, t)| Ok((name.clone(), to_json(items.get(name).unwrap_or(&Value::Null), t, &path.attr(name))?)))
                    .collect::<Result<_, EncodeError>>()?,
            )
        }
        (value, ty) => return Err(err(format!("a {ty} is required, not {value:?}"))),
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
    }

    #[test]
    fn dynamic_values_are_wrapped_with_their_type() {
        let value = Value::Dynamic(Type::list(Type::String), Box::new(Value::List(vec![Value::from("a")])));
        let bytes = encode(&value, &Type::Dynamic).unwrap();
        assert_eq!(bytes, br#"{"value":["a"],"type":["list","string"]}"#.to_vec());
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), value);
    }

    #[test]
    fn stored_objects_may_miss_attributes_but_not_add_them() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        assert_eq!(decode(br#"{"a":"x"}"#, &ty).unwrap(), Value::object([("a", Value::from("x")), ("b", Value::Null)]));
        let err = decode(br#"{"a":"x","c":1}"#, &ty).unwrap_err();
        assert!(err.message.contains("unsupported attribute \"c\""));
    }

    #[test]
    fn unknowns_cannot_be_stored() {
        assert!(encode(&Value::unknown(), &Type::String).is_err());
    }
}
