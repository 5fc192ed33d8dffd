//! Shared by the fuzz targets: how an input picks the type to decode against, and the
//! invariants every successfully decoded value must satisfy.
//!
//! Input layout: the first byte chooses the type. Below 0x80 it indexes [`fixed_types`];
//! otherwise a small type is derived from the next bytes ([`derive_type`]). Everything after
//! that is the encoded value.

use aqemia_tfplugin::cty::{json, msgpack, Type, Value};

/// Types with every shape the decoders branch on, modelled on real schemas.
pub fn fixed_types() -> Vec<Type> {
    let obj = |attrs: &[(&str, Type)]| Type::object(attrs.to_vec());
    vec![
        Type::String,
        Type::Number,
        Type::Bool,
        Type::Dynamic,
        Type::list(Type::String),
        Type::set(Type::Number),
        Type::map(Type::Bool),
        // A list block of objects with nested collections.
        Type::list(obj(&[("name", Type::String), ("port", Type::Number), ("tags", Type::map(Type::String))])),
        // A set block whose objects carry computed (often unknown) attributes.
        Type::set(obj(&[("id", Type::String), ("arn", Type::String), ("size", Type::Number), ("enabled", Type::Bool)])),
        Type::map(obj(&[("enabled", Type::Bool), ("items", Type::list(Type::Number)), ("extra", Type::Dynamic)])),
        Type::Tuple(vec![Type::String, Type::Number, Type::Bool, Type::Dynamic]),
        obj(&[("a", Type::Dynamic), ("b", Type::String), ("c", Type::list(Type::Dynamic))]),
        Type::set(Type::set(Type::String)),
        Type::list(Type::Tuple(vec![Type::map(Type::Number), Type::set(Type::Bool)])),
        Type::map(Type::Dynamic),
        Type::set(Type::Dynamic),
        Type::list(Type::Dynamic),
        Type::object::<&str>([]),
        Type::Tuple(vec![]),
        obj(&[("nested", obj(&[("deeper", obj(&[("leaf", Type::Number), ("any", Type::Dynamic)]))]))]),
        Type::set(obj(&[("values", Type::set(Type::Number)), ("labels", Type::map(Type::String))])),
    ]
}

/// Attribute names a derived object type draws from: identifiers, an empty name and a
/// non-ASCII one (already NFC, as every name that decodes is).
const NAMES: [&str; 6] = ["a", "b", "id", "", "é", "名前"];

/// Reads a type from the front of `bytes`: one byte picks the kind, structures read more.
/// Nesting stops at depth 3.
pub fn derive_type(bytes: &mut &[u8], depth: u32) -> Type {
    let Some((&b, rest)) = bytes.split_first() else { return Type::String };
    *bytes = rest;
    let kinds = if depth >= 3 { 4 } else { 9 };
    match b % kinds {
        0 => Type::String,
        1 => Type::Number,
        2 => Type::Bool,
        3 => Type::Dynamic,
        4 => Type::list(derive_type(bytes, depth + 1)),
        5 => Type::set(derive_type(bytes, depth + 1)),
        6 => Type::map(derive_type(bytes, depth + 1)),
        7 => {
            // The high bits say which names are present; a name may repeat (last wins).
            let attrs: Vec<(&str, Type)> = (0..(b / 9) % 5)
                .map(|i| {
                    let name = NAMES[(usize::from(b) + usize::from(i) * 7) % NAMES.len()];
                    (name, derive_type(bytes, depth + 1))
                })
                .collect();
            Type::object(attrs)
        }
        _ => {
            let n = (b / 9) % 4;
            Type::Tuple((0..n).map(|_| derive_type(bytes, depth + 1)).collect())
        }
    }
}

/// Splits a fuzz input into the type to decode against and the encoded value.
pub fn split_input(data: &[u8]) -> Option<(Type, &[u8])> {
    let (&first, mut rest) = data.split_first()?;
    if first < 0x80 {
        static TYPES: std::sync::OnceLock<Vec<Type>> = std::sync::OnceLock::new();
        let types = TYPES.get_or_init(fixed_types);
        let ty = types[usize::from(first) % types.len()].clone();
        Some((ty, rest))
    } else {
        let ty = derive_type(&mut rest, 0);
        Some((ty, rest))
    }
}

/// A value that decoded from msgpack re-encodes, decodes to the same value and re-encodes
/// to the same bytes; when JSON can hold it, it round-trips through JSON too.
pub fn check_msgpack(value: &Value, ty: &Type) {
    let first = msgpack::encode(value, ty).unwrap_or_else(|e| panic!("re-encoding {value:?} as {ty}: {e}"));
    let again = msgpack::decode(&first, ty).unwrap_or_else(|e| panic!("decoding re-encoded {first:02x?} as {ty}: {e}"));
    assert_eq!(&again, value, "msgpack round trip changed the value");
    let second = msgpack::encode(&again, ty).expect("encoding a decoded value");
    assert_eq!(second, first, "msgpack re-encoding is not byte-identical");

    if value.is_wholly_known() && !value.contains_infinity() {
        let text = json::encode(value, ty).unwrap_or_else(|e| panic!("JSON-encoding {value:?} as {ty}: {e}"));
        let from_json = json::decode(&text, ty).unwrap_or_else(|e| panic!("decoding {} as {ty}: {e}", String::from_utf8_lossy(&text)));
        assert_eq!(&from_json, value, "JSON round trip changed a msgpack-decoded value");
    }
}

/// A value that decoded from JSON re-encodes (unless it holds an infinity, which JSON cannot
/// write), decodes to the same value and re-encodes to the same bytes; and it crosses to
/// msgpack and back unchanged, as state read from JSON is sent to Terraform as msgpack.
pub fn check_json(value: &Value, ty: &Type) {
    assert!(value.is_wholly_known(), "JSON decoded an unknown");
    match json::encode(value, ty) {
        Ok(first) => {
            let again =
                json::decode(&first, ty).unwrap_or_else(|e| panic!("decoding re-encoded {} as {ty}: {e}", String::from_utf8_lossy(&first)));
            assert_eq!(&again, value, "JSON round trip changed the value");
            let second = json::encode(&again, ty).expect("encoding a decoded value");
            assert_eq!(second, first, "JSON re-encoding is not byte-identical");
        }
        Err(e) => assert!(value.contains_infinity(), "re-encoding {value:?} as {ty}: {e}"),
    }

    let packed = msgpack::encode(value, ty).unwrap_or_else(|e| panic!("msgpack-encoding {value:?} as {ty}: {e}"));
    let unpacked = msgpack::decode(&packed, ty).unwrap_or_else(|e| panic!("msgpack-decoding {packed:02x?} as {ty}: {e}"));
    assert_eq!(&unpacked, value, "msgpack round trip changed a JSON-decoded value");
}

/// The whole msgpack target, callable outside libFuzzer (tests, replays).
pub fn fuzz_msgpack(data: &[u8]) {
    if let Some((ty, bytes)) = split_input(data) {
        if let Ok(value) = msgpack::decode(bytes, &ty) {
            check_msgpack(&value, &ty);
        }
    }
}

/// The whole JSON target, callable outside libFuzzer.
pub fn fuzz_json(data: &[u8]) {
    if let Some((ty, bytes)) = split_input(data) {
        if let Ok(value) = json::decode(bytes, &ty) {
            check_json(&value, &ty);
        }
    }
}

/// Representative inputs for both targets: the type byte followed by a real encoding of a
/// value with nulls, refined unknowns, dynamic slots and awkward numbers. `tests/replay.rs`
/// writes them to `seeds/` (checked in) and replays them on stable.
pub fn seeds() -> Vec<(String, Vec<u8>, Option<Vec<u8>>)> {
    use aqemia_tfplugin::cty::{Number, Refinements};
    let num = |t: &str| Value::Number(Number::parse(t).expect("seed number"));
    let refined = |r: Refinements| Value::Unknown(Box::new(r));
    let not_null = Refinements { nullable: Some(false), ..Refinements::default() };
    let dynamic = |ty: Type, v: Value| Value::Dynamic(ty, Box::new(v));
    let types = fixed_types();
    let index = |ty: &Type| types.iter().position(|t| t == ty).expect("a fixed type") as u8;

    let values: Vec<(&str, Type, Value)> = vec![
        ("string", Type::String, Value::from("caf\u{e9} \u{1F980}")),
        ("string_prefix", Type::String, refined(Refinements { string_prefix: Some("pre-".into()), ..not_null.clone() })),
        ("number_decimal", Type::Number, num("1180591620717411303424.5")),
        ("number_float", Type::Number, Value::Number(Number::from_f64_exact(0.5).unwrap())),
        ("number_subnormal", Type::Number, Value::Number(Number::from_f64_exact(5e-324).unwrap())),
        ("number_u64", Type::Number, Value::Number(Number::from(u64::MAX))),
        ("number_inf", Type::Number, Value::Number(Number::infinity(false))),
        (
            "number_bounds",
            Type::Number,
            refined(Refinements {
                number_lower: Some((Number::parse("-1.5").unwrap(), true)),
                number_upper: Some((Number::infinity(true), false)),
                ..not_null.clone()
            }),
        ),
        ("bool", Type::Bool, Value::Bool(true)),
        (
            "dynamic_object",
            Type::Dynamic,
            dynamic(
                Type::object([("x", Type::Number), ("y", Type::Tuple(vec![Type::String]))]),
                Value::object([("x", Value::from(1)), ("y", Value::Tuple(vec![Value::from("a")]))]),
            ),
        ),
        ("dynamic_null_typed", Type::Dynamic, dynamic(Type::list(Type::String), Value::Null)),
        (
            "list_lengths",
            Type::list(Type::String),
            refined(Refinements { length_lower: Some(1), length_upper: Some(3), ..Refinements::default() }),
        ),
        ("set_numbers", Type::set(Type::Number), Value::Set(vec![Value::from(1), num("0.1"), Value::unknown()])),
        (
            "list_objects",
            types[7].clone(),
            Value::List(vec![
                Value::object([
                    ("name", Value::from("web")),
                    ("port", Value::from(443)),
                    ("tags", Value::Map([("env".to_string(), Value::from("prod"))].into())),
                ]),
                Value::object([("name", Value::Null), ("port", Value::unknown()), ("tags", Value::Null)]),
            ]),
        ),
        (
            "set_objects_unknown",
            types[8].clone(),
            Value::Set(vec![
                Value::object([
                    ("id", Value::unknown()),
                    ("arn", Value::unknown()),
                    ("size", Value::from(3)),
                    ("enabled", Value::Bool(false)),
                ]),
                Value::object([
                    ("id", Value::unknown()),
                    ("arn", Value::unknown()),
                    ("size", Value::from(3)),
                    ("enabled", Value::Bool(false)),
                ]),
            ]),
        ),
        (
            "map_objects_dynamic",
            types[9].clone(),
            Value::Map(
                [(
                    "a".to_string(),
                    Value::object([
                        ("enabled", Value::Bool(true)),
                        ("items", Value::List(vec![num("1e-7"), Value::from(-3)])),
                        ("extra", dynamic(Type::map(Type::Bool), Value::Map([("k".to_string(), Value::Bool(false))].into()))),
                    ]),
                )]
                .into(),
            ),
        ),
        (
            "tuple",
            types[10].clone(),
            Value::Tuple(vec![Value::from("s"), num("2.25"), Value::Null, dynamic(Type::String, Value::unknown())]),
        ),
        (
            "object_dynamic",
            types[11].clone(),
            Value::object([
                ("a", dynamic(Type::set(Type::Number), Value::Set(vec![Value::from(1)]))),
                ("b", Value::from("x")),
                ("c", Value::List(vec![Value::Null, dynamic(Type::Bool, Value::Bool(true)), Value::unknown()])),
            ]),
        ),
        (
            "nested",
            types[19].clone(),
            Value::object([(
                "nested",
                Value::object([(
                    "deeper",
                    Value::object([
                        ("leaf", num("-98765432109876543210.0123456789")),
                        (
                            "any",
                            dynamic(
                                Type::Tuple(vec![Type::Number, Type::Dynamic]),
                                Value::Tuple(vec![Value::from(7), dynamic(Type::String, Value::from("deep"))]),
                            ),
                        ),
                    ]),
                )]),
            )]),
        ),
    ];

    values
        .into_iter()
        .map(|(name, ty, value)| {
            let tag = index(&ty);
            let mut packed = vec![tag];
            packed.extend(msgpack::encode(&value, &ty).unwrap_or_else(|e| panic!("seed {name}: {e}")));
            let text = json::encode(&value, &ty).ok().map(|bytes| [vec![tag], bytes].concat());
            (name.to_string(), packed, text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every seed must decode, or it seeds nothing beyond the first byte.
    #[test]
    fn seeds_decode() {
        let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds");
        type Decode = fn(&[u8], &Type) -> Result<Value, aqemia_tfplugin::cty::DecodeError>;
        for (target, decode) in [("msgpack_decode", msgpack::decode as Decode), ("json_decode", json::decode as Decode)] {
            for entry in std::fs::read_dir(format!("{seeds}/{target}")).unwrap() {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let (ty, bytes) = split_input(&data).unwrap();
                let value = decode(bytes, &ty).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                if target == "msgpack_decode" {
                    check_msgpack(&value, &ty);
                } else {
                    check_json(&value, &ty);
                }
            }
        }
    }
}
