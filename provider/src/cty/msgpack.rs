//! The msgpack encoding of cty values: what Terraform sends in `DynamicValue.msgpack` and
//! what the provider answers with.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use super::{DecodeError, EncodeError, Number, Path, Refinements, Trail, Type, Value};

/// Extension code of a refined unknown (Terraform >= 1.6); any other code is a plain unknown.
const REFINED_UNKNOWN: i8 = 12;

/// Decodes `bytes` as a value of type `ty`; the whole input must be one value.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut rest = bytes;
    let tree = rmpv::decode::read_value(&mut rest)
        .map_err(|e| DecodeError { path: Path::root(), message: format!("invalid msgpack: {e}") })?;
    if !rest.is_empty() {
        return Err(DecodeError { path: Path::root(), message: format!("{} bytes after the value", rest.len()) });
    }
    from_tree(&tree, ty, &Trail::Root)
}

fn fail<T>(path: &Trail, message: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError { path: path.to_path(), message: message.into() })
}

fn from_tree(tree: &Mp, ty: &Type, path: &Trail) -> Result<Value, DecodeError> {
    match tree {
        Mp::Nil => return Ok(Value::Null),
        Mp::Ext(code, payload) => return Ok(Value::Unknown(Box::new(refinements(*code, payload)))),
        _ => {}
    }
    match ty {
        Type::Dynamic => {
            let Mp::Array(pair) = tree else { return fail(path, "a dynamic value must be a [type, value] pair") };
            let [type_json, inner] = pair.as_slice() else { return fail(path, "a dynamic value must be a [type, value] pair") };
            let type_bytes = match type_json {
                Mp::Binary(b) => b.as_slice(),
                Mp::String(s) => s.as_bytes(),
                _ => return fail(path, "a dynamic value's type must be JSON bytes"),
            };
            let concrete = Type::from_json_bytes(type_bytes).map_err(|e| DecodeError { path: path.to_path(), message: e.to_string() })?;
            if concrete == Type::Dynamic {
                return fail(path, "a dynamic value's type must be concrete");
            }
            Ok(Value::Dynamic(concrete.clone(), Box::new(from_tree(inner, &concrete, path)?)))
        }
        Type::String => match tree {
            Mp::String(s) => match s.as_str() {
                Some(text) => Ok(Value::String(super::nfc(text))),
                None => fail(path, "string is not valid UTF-8"),
            },
            _ => fail(path, "a string is required"),
        },
        Type::Number => number(tree).map(Value::Number).ok_or_else(|| DecodeError { path: path.to_path(), message: "a number is required".into() }),
        Type::Bool => match tree {
            Mp::Boolean(b) => Ok(Value::Bool(*b)),
            _ => fail(path, "a bool is required"),
        },
        Type::List(element) | Type::Set(element) => {
            let Mp::Array(items) = tree else { return fail(path, format!("a {} is required", ty)) };
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let value = from_tree(item, element, &path.index(i as i64))?;
                // A set holds each known value once, as Terraform does on decode.
                if matches!(ty, Type::Set(_)) && value.is_wholly_known() && out.contains(&value) {
                    continue;
                }
                out.push(value);
            }
            Ok(if matches!(ty, Type::Set(_)) { Value::Set(out) } else { Value::List(out) })
        }
        Type::Tuple(elements) => {
            let Mp::Array(items) = tree else { return fail(path, format!("a {ty} is required")) };
            if items.len() != elements.len() {
                return fail(path, format!("a tuple of {} elements is required ({} given)", elements.len(), items.len()));
            }
            let values = items.iter().zip(elements).enumerate().map(|(i, (item, t))| from_tree(item, t, &path.index(i as i64)));
            Ok(Value::Tuple(values.collect::<Result<_, _>>()?))
        }
        Type::Map(element) => {
            let entries = string_keyed(tree, path)?;
            let mut out = BTreeMap::new();
            for (key, item) in entries {
                let value = from_tree(item, element, &path.key(&key))?;
                out.insert(key, value);
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let entries = string_keyed(tree, path)?;
            let mut out = BTreeMap::new();
            for (key, item) in entries {
                let Some(attr_type) = attrs.get(&key) else { return fail(path, format!("unsupported attribute {key:?}")) };
                out.insert(key.clone(), from_tree(item, attr_type, &path.attr(&key))?);
            }
            if let Some(missing) = attrs.keys().find(|k| !out.contains_key(*k)) {
                return fail(path, format!("attribute {missing:?} is required"));
            }
            Ok(Value::Object(out))
        }
    }
}

fn string_keyed<'t>(tree: &'t Mp, path: &Trail) -> Result<Vec<(String, &'t Mp)>, DecodeError> {
    let Mp::Map(entries) = tree else { return fail(path, "a map or object is required") };
    entries
        .iter()
        .map(|(k, v)| match k {
            Mp::String(s) => match s.as_str() {
                Some(key) => Ok((super::nfc(key), v)),
                None => fail(path, "a key is not valid UTF-8"),
            },
            _ => fail(path, "keys must be strings"),
        })
        .collect()
}

fn number(tree: &Mp) -> Option<Number> {
    match tree {
        Mp::Integer(i) => i.as_i64().map(Number::from).or_else(|| i.as_u64().map(Number::from)),
        Mp::F32(f) => Number::from_f64_exact(f64::from(*f)),
        Mp::F64(f) => Number::from_f64_exact(*f),
        Mp::String(s) => s.as_str().and_then(|t| Number::parse(t).ok()),
        _ => None,
    }
}

/// Reads the refinements of an ext-12 unknown; anything malformed degrades to a plain
/// unknown, which is always a safe reading.
fn refinements(code: i8, payload: &[u8]) -> Refinements {
    let mut out = Refinements::default();
    if code != REFINED_UNKNOWN {
        return out;
    }
    let mut rest = payload;
    let Ok(Mp::Map(entries)) = rmpv::decode::read_value(&mut rest) else { return out };
    let bound = |v: &Mp| match v {
        Mp::Array(pair) if pair.len() == 2 => Some((number(&pair[0])?, pair[1].as_bool()?)),
        _ => None,
    };
    for (key, value) in &entries {
        match key.as_i64() {
            Some(1) => out.nullable = value.as_bool(),
            Some(2) => out.string_prefix = value.as_str().map(str::to_string),
            Some(3) => out.number_lower = bound(value),
            Some(4) => out.number_upper = bound(value),
            Some(5) => out.length_lower = value.as_u64(),
            Some(6) => out.length_upper = value.as_u64(),
            _ => {}
        }
    }
    out
}

/// Encodes a value of type `ty`. Deterministic: map and object keys are sorted.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write(&mut out, value, ty, &Trail::Root)?;
    Ok(out)
}

fn mismatch<T>(path: &Trail, ty: &Type, value: &Value) -> Result<T, EncodeError> {
    Err(EncodeError { path: path.to_path(), message: format!("a {ty} is required, not {}", shape(value)) })
}

fn shape(value: &Value) -> &'static str {
    match value {
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
    }
}

// Writing into a Vec cannot fail; rmp's signatures are generic over io errors.
fn io<T, E: std::fmt::Debug>(r: Result<T, E>) {
    r.expect("writing msgpack into memory");
}

fn write(out: &mut Vec<u8>, value: &Value, ty: &Type, path: &Trail) -> Result<(), EncodeError> {
    use rmp::encode as w;
    match (value, ty) {
        (Value::Null, _) => io(w::write_nil(out)),
        (Value::Unknown(r), _) => write_unknown(out, r),
        (Value::Dynamic(concrete, inner), Type::Dynamic) => {
            io(w::write_array_len(out, 2));
            io(w::write_bin(out, &concrete.to_json_bytes()));
            write(out, inner, concrete, path)?;
        }
        (Value::String(s), Type::String) => io(w::write_str(out, s)),
        (Value::Bool(b), Type::Bool) => io(w::write_bool(out, *b)),
        (Value::Number(n), Type::Number) => write_number(out, n),
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => {
            io(w::write_array_len(out, len32(items.len(), path)?));
            for (i, item) in items.iter().enumerate() {
                write(out, item, element, &path.index(i as i64))?;
            }
        }
        (Value::Tuple(items), Type::Tuple(elements)) => {
            if items.len() != elements.len() {
                return Err(EncodeError { path: path.to_path(), message: format!("a tuple of {} elements is required ({} given)", elements.len(), items.len()) });
            }
            io(w::write_array_len(out, len32(items.len(), path)?));
            for (i, (item, t)) in items.iter().zip(elements).enumerate() {
                write(out, item, t, &path.index(i as i64))?;
            }
        }
        (Value::Map(items), Type::Map(element)) => {
            io(w::write_map_len(out, len32(items.len(), path)?));
            for (key, item) in items {
                io(w::write_str(out, key));
                write(out, item, element, &path.key(key))?;
            }
        }
        (Value::Object(items), Type::Object(attrs)) => {
            if let Some(extra) = items.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(EncodeError { path: path.to_path(), message: format!("unsupported attribute {extra:?}") });
            }
            // Terraform requires every attribute; absent ones are null.
            io(w::write_map_len(out, len32(attrs.len(), path)?));
            for (name, attr_type) in attrs {
                io(w::write_str(out, name));
                write(out, items.get(name).unwrap_or(&Value::Null), attr_type, &path.attr(name))?;
            }
        }
        (value, ty) => return mismatch(path, ty, value),
    }
    Ok(())
}

fn len32(len: usize, path: &Trail) -> Result<u32, EncodeError> {
    u32::try_from(len).map_err(|_| EncodeError { path: path.to_path(), message: "collection too large for msgpack".into() })
}

/// cty's rule: an integer if it is one that fits, a float64 if that holds it exactly,
/// otherwise the decimal text.
fn write_number(out: &mut Vec<u8>, n: &Number) {
    use rmp::encode as w;
    if let Some(i) = n.to_i64() {
        io(w::write_sint(out, i));
    } else if let Some(u) = n.to_u64() {
        io(w::write_uint(out, u));
    } else if let Some(f) = n.to_f64_exact() {
        io(w::write_f64(out, f));
    } else {
        io(w::write_str(out, &n.to_string()));
    }
}

fn write_unknown(out: &mut Vec<u8>, r: &Refinements) {
    use rmp::encode as w;
    let mut payload = Vec::new();
    let mut entries = 0u32;
    let mut body = Vec::new();
    if r.nullable == Some(false) {
        entries += 1;
        io(w::write_sint(&mut body, 1));
        io(w::write_bool(&mut body, false));
    }
    if let Some(prefix) = &r.string_prefix {
        entries += 1;
        io(w::write_sint(&mut body, 2));
        io(w::write_str(&mut body, prefix));
    }
    for (key, bound) in [(3, &r.number_lower), (4, &r.number_upper)] {
        if let Some((n, inclusive)) = bound {
            entries += 1;
            io(w::write_sint(&mut body, key));
            io(w::write_array_len(&mut body, 2));
            write_number(&mut body, n);
            io(w::write_bool(&mut body, *inclusive));
        }
    }
    for (key, bound) in [(5, r.length_lower), (6, r.length_upper)] {
        if let Some(n) = bound {
            entries += 1;
            io(w::write_sint(&mut body, key));
            io(w::write_uint(&mut body, n));
        }
    }
    if entries == 0 {
        // A plain unknown, as cty writes it: fixext1, code 0, one zero byte.
        out.extend_from_slice(&[0xd4, 0x00, 0x00]);
        return;
    }
    io(w::write_map_len(&mut payload, entries));
    payload.extend_from_slice(&body);
    io(w::write_ext_meta(out, payload.len() as u32, REFINED_UNKNOWN));
    out.extend_from_slice(&payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn unknown_is_fixext_zero() {
        assert_eq!(encode(&Value::unknown(), &Type::String).unwrap(), vec![0xd4, 0, 0]);
        assert_eq!(decode(&[0xd4, 0, 0], &Type::String).unwrap(), Value::unknown());
        // Any extension code reads as unknown.
        assert_eq!(decode(&[0xc7, 0, 5], &Type::Number).unwrap(), Value::unknown());
    }

    #[test]
    fn refined_unknown_from_terraform() {
        // "pre-${unknown}" as Terraform 1.11 sends it.
        let bytes = [0xc7, 0x09, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa4, b'p', b'r', b'e', b'-'];
        let value = decode(&bytes, &Type::String).unwrap();
        let Value::Unknown(r) = &value else { panic!("not unknown: {value:?}") };
        assert_eq!(r.nullable, Some(false));
        assert_eq!(r.string_prefix.as_deref(), Some("pre-"));
        assert_eq!(hex(&encode(&value, &Type::String).unwrap()), hex(&bytes));
    }

    #[test]
    fn dynamic_carries_its_type() {
        let mut bytes = vec![0x92, 0xc4, 0x32];
        bytes.extend_from_slice(br#"["object",{"x":"number","y":["tuple",["string"]]}]"#);
        bytes.extend_from_slice(&[0x82, 0xa1, b'x', 0x01, 0xa1, b'y', 0x91, 0xa1, b'a']);
        let value = decode(&bytes, &Type::Dynamic).unwrap();
        let Value::Dynamic(ty, inner) = &value else { panic!("not dynamic") };
        assert_eq!(ty, &Type::object([("x", Type::Number), ("y", Type::Tuple(vec![Type::String]))]));
        assert_eq!(inner.get("x"), Some(&Value::from(1)));
        assert_eq!(encode(&value, &Type::Dynamic).unwrap(), bytes);
    }

    #[test]
    fn numbers_follow_ctys_rules() {
        let n = |t: &str| Value::Number(Number::parse(t).unwrap());
        assert_eq!(encode(&n("80"), &Type::Number).unwrap(), vec![0x50]);
        assert_eq!(encode(&n("0.5"), &Type::Number).unwrap(), [vec![0xcb], 0.5f64.to_be_bytes().to_vec()].concat());
        assert_eq!(encode(&n("0.1"), &Type::Number).unwrap(), [vec![0xa3], b"0.1".to_vec()].concat());
        let big = "1180591620717411303424.5";
        let bytes = encode(&n(big), &Type::Number).unwrap();
        assert_eq!(bytes[0], 0xb8);
        assert_eq!(decode(&bytes, &Type::Number).unwrap(), n(big));
        assert_eq!(decode(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], &Type::Number).unwrap(), Value::Number(Number::from(u64::MAX)));
        let inf = Value::Number(Number::infinity(true));
        assert_eq!(decode(&encode(&inf, &Type::Number).unwrap(), &Type::Number).unwrap(), inf);
    }

    #[test]
    fn objects_need_every_attribute_and_no_other() {
        let ty = Type::object([("a", Type::String), ("b", Type::Bool)]);
        let missing = [0x81, 0xa1, b'a', 0xa1, b'x'];
        assert!(decode(&missing, &ty).unwrap_err().message.contains("\"b\" is required"));
        let extra = [0x83, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xc0, 0xa1, b'c', 0xc0];
        assert!(decode(&extra, &ty).unwrap_err().message.contains("unsupported attribute \"c\""));
        // Absent attributes of a value are written as null.
        let bytes = encode(&Value::object([("a", Value::from("x"))]), &ty).unwrap();
        assert_eq!(decode(&bytes, &ty).unwrap(), Value::object([("a", Value::from("x")), ("b", Value::Null)]));
    }

    #[test]
    fn errors_name_the_path() {
        let ty = Type::object([("items", Type::list(Type::Number))]);
        let bytes = [0x81, 0xa5, b'i', b't', b'e', b'm', b's', 0x92, 0x01, 0xa1, b'x'];
        let err = decode(&bytes, &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "items[1]");
    }

    #[test]
    fn strings_are_nfc() {
        let decomposed = "e\u{301}";
        let bytes = encode(&Value::from(decomposed), &Type::String).unwrap();
        assert_eq!(decode(&bytes, &Type::String).unwrap(), Value::from("\u{e9}"));
    }

    #[test]
    fn sets_drop_duplicates_and_trailing_bytes_are_rejected() {
        let ty = Type::set(Type::Number);
        assert_eq!(decode(&[0x93, 0x01, 0x01, 0x02], &ty).unwrap(), Value::Set(vec![Value::from(1), Value::from(2)]));
        assert!(decode(&[0x01, 0x02], &Type::Number).is_err());
    }
}
