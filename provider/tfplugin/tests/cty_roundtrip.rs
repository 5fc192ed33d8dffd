//! Property-based tests of the cty codecs: arbitrary types, values that conform to them, and
//! the round-trip laws the provider relies on when it echoes Terraform's values back.
//!
//! - msgpack: `decode(encode(v, t), t) == v` for every conforming value (nulls, refined
//!   unknowns, dynamic slots, big decimals and infinities included), and the encoding is
//!   deterministic and stable under a second round trip;
//! - `Value::conforms` agrees with what the encoders accept;
//! - JSON: the same for wholly known values without infinities (JSON has no form for either);
//! - `Number`: `Display` then `parse` gives the same number;
//! - decoding arbitrary or corrupted bytes never panics, and whatever decodes round-trips.

use std::collections::BTreeMap;

use aqemia_tfplugin::cty::{json, msgpack, Number, Refinements, Type, Value};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

/// Cases per property; `PROPTEST_CASES=20000` in the environment runs a deeper search.
const CASES: u32 = 256;

fn config() -> ProptestConfig {
    let defaults = ProptestConfig::default();
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() { defaults.cases } else { CASES };
    ProptestConfig { cases, max_shrink_iters: 4096, ..defaults }
}

// ---------------------------------------------------------------------------------------------
// Strings and numbers
// ---------------------------------------------------------------------------------------------

/// Decoding normalises every string to NFC, so generated text is normalised before use.
fn nfc(text: String) -> String {
    text.nfc().collect()
}

/// Any Unicode text (combining marks, astral planes, controls), plus plain ASCII so that
/// ordinary names and values are common too.
fn arb_text(max: usize) -> BoxedStrategy<String> {
    prop_oneof![
        vec(any::<char>(), 0..=max).prop_map(|chars| nfc(chars.into_iter().collect())),
        proptest::string::string_regex(&format!("[a-z0-9 _.-]{{0,{max}}}")).unwrap(),
        // Decomposed accents, which NFC composes: exercises the normalisation path.
        vec(prop_oneof![Just("e\u{301}"), Just("A\u{30a}"), Just("\u{1100}\u{1161}"), Just("x")], 0..4)
            .prop_map(|parts| nfc(parts.concat())),
    ]
    .boxed()
}

/// Object attribute names: identifiers mostly, sometimes arbitrary (NFC) text.
fn arb_attr_name() -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::string::string_regex("[a-z_][a-z0-9_]{0,8}").unwrap(),
        1 => arb_text(6),
    ]
    .boxed()
}

/// A binary float's exact value, subnormals included.
fn arb_exact_f64() -> BoxedStrategy<f64> {
    use proptest::num::f64 as F;
    prop_oneof![
        (F::POSITIVE | F::NEGATIVE | F::NORMAL | F::SUBNORMAL | F::ZERO),
        // Subnormals built from their bits: 2^-1074 .. just under 2^-1022.
        (1u64..(1u64 << 52), any::<bool>()).prop_map(|(m, neg)| f64::from_bits(m | (u64::from(neg) << 63))),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(0.1),
    ]
    .boxed()
}

/// A decimal with up to 40 significant digits and an exponent in -30..30.
fn arb_decimal() -> BoxedStrategy<Number> {
    (any::<bool>(), proptest::string::string_regex("[0-9]{1,40}").unwrap(), -30i32..30, any::<Option<u8>>())
        .prop_map(|(negative, digits, exponent, point)| {
            let sign = if negative { "-" } else { "" };
            // Sometimes put a decimal point inside the digits too.
            let body = match point {
                Some(p) if digits.len() > 1 => {
                    let at = 1 + usize::from(p) % (digits.len() - 1);
                    format!("{}.{}", &digits[..at], &digits[at..])
                }
                _ => digits,
            };
            let text = format!("{sign}{body}e{exponent}");
            Number::parse(&text).unwrap_or_else(|e| panic!("generated decimal {text:?}: {e}"))
        })
        .boxed()
}

fn arb_number(infinities: bool) -> BoxedStrategy<Number> {
    let finite = prop_oneof![
        1 => any::<i64>().prop_map(Number::from),
        1 => any::<u64>().prop_map(Number::from),
        1 => arb_exact_f64().prop_map(|f| Number::from_f64_exact(f).expect("finite float")),
        1 => arb_decimal(),
        2 => (-1000i64..1000).prop_map(Number::from),
    ];
    if infinities {
        prop_oneof![8 => finite, 1 => any::<bool>().prop_map(Number::infinity)].boxed()
    } else {
        finite.boxed()
    }
}

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

fn arb_primitive(dynamic: bool) -> BoxedStrategy<Type> {
    if dynamic {
        prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool), Just(Type::Dynamic)].boxed()
    } else {
        prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)].boxed()
    }
}

/// A type whose collections and structures nest at most `depth` deep; `dynamic` allows
/// `dynamic` slots anywhere inside.
fn arb_type_at(depth: u32, dynamic: bool) -> BoxedStrategy<Type> {
    let leaf = arb_primitive(dynamic);
    if depth == 0 {
        return leaf;
    }
    let inner = arb_type_at(depth - 1, dynamic);
    prop_oneof![
        3 => leaf,
        1 => inner.clone().prop_map(Type::list),
        1 => inner.clone().prop_map(Type::set),
        1 => inner.clone().prop_map(Type::map),
        1 => btree_map(arb_attr_name(), inner.clone(), 0..=4).prop_map(Type::Object),
        1 => vec(inner, 0..=3).prop_map(Type::Tuple),
    ]
    .boxed()
}

fn arb_type() -> BoxedStrategy<Type> {
    arb_type_at(3, true)
}

/// The concrete type a dynamic slot's value arrives with (never `dynamic` itself).
fn arb_concrete_type(dynamic_inside: bool) -> BoxedStrategy<Type> {
    arb_type_at(2, dynamic_inside).prop_filter("a dynamic value's type is concrete", |t| *t != Type::Dynamic).boxed()
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Opts {
    /// Unknowns (msgpack only: JSON has no form for them).
    unknowns: bool,
    /// ±Inf numbers (msgpack only).
    infinities: bool,
}

const MSGPACK: Opts = Opts { unknowns: true, infinities: true };
const JSON: Opts = Opts { unknowns: false, infinities: false };

/// How many dynamic slots may nest inside each other's concrete types.
const DYNAMIC_NESTING: u32 = 2;

fn ordered<T: PartialOrd>(a: Option<T>, b: Option<T>) -> (Option<T>, Option<T>) {
    match (a, b) {
        (Some(a), Some(b)) if b < a => (Some(b), Some(a)),
        other => other,
    }
}

/// Refinements that make sense for the type: not-null for all, a prefix for strings,
/// bounds for numbers and lengths for collections. Terraform only ever says "not null", so
/// `nullable` is `None` or `Some(false)`.
fn arb_refinements(ty: &Type, infinities: bool) -> BoxedStrategy<Refinements> {
    let nullable = prop_oneof![Just(None), Just(Some(false))];
    match ty {
        Type::String => (nullable, proptest::option::of(arb_text(12)))
            .prop_map(|(nullable, string_prefix)| Refinements { nullable, string_prefix, ..Refinements::default() })
            .boxed(),
        Type::Number => {
            let bound = || proptest::option::of((arb_number(infinities), any::<bool>()));
            (nullable, bound(), bound())
                .prop_map(|(nullable, lower, upper)| {
                    let (number_lower, number_upper) = match (lower, upper) {
                        (Some(l), Some(u)) if u.0 < l.0 => (Some(u), Some(l)),
                        other => other,
                    };
                    Refinements { nullable, number_lower, number_upper, ..Refinements::default() }
                })
                .boxed()
        }
        Type::List(_) | Type::Set(_) | Type::Map(_) => {
            let length = || proptest::option::of(prop_oneof![0u64..10, any::<u64>()]);
            (nullable, length(), length())
                .prop_map(|(nullable, lower, upper)| {
                    let (length_lower, length_upper) = ordered(lower, upper);
                    Refinements { nullable, length_lower, length_upper, ..Refinements::default() }
                })
                .boxed()
        }
        _ => nullable.prop_map(|nullable| Refinements { nullable, ..Refinements::default() }).boxed(),
    }
}

fn arb_unknown(ty: &Type, infinities: bool) -> BoxedStrategy<Value> {
    prop_oneof![Just(Value::unknown()), arb_refinements(ty, infinities).prop_map(|r| Value::Unknown(Box::new(r))),].boxed()
}

/// Drops the elements a set cannot hold twice: Terraform (and our decoder) keep one copy of
/// each wholly known element; elements with unknowns inside may repeat.
fn as_set(items: Vec<Value>) -> Value {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if item.is_wholly_known() && out.contains(&item) {
            continue;
        }
        out.push(item);
    }
    Value::Set(out)
}

/// A known (non-null, non-unknown at the top) value of `ty`.
fn arb_known(ty: &Type, opts: Opts, dynamic_budget: u32) -> BoxedStrategy<Value> {
    match ty {
        Type::String => arb_text(16).prop_map(Value::String).boxed(),
        Type::Number => arb_number(opts.infinities).prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::List(e) => vec(arb_value(e, opts, dynamic_budget), 0..4).prop_map(Value::List).boxed(),
        Type::Set(e) => vec(arb_value(e, opts, dynamic_budget), 0..5).prop_map(as_set).boxed(),
        Type::Map(e) => btree_map(arb_text(6), arb_value(e, opts, dynamic_budget), 0..4).prop_map(Value::Map).boxed(),
        Type::Object(attrs) => {
            let names: Vec<String> = attrs.keys().cloned().collect();
            let values: Vec<BoxedStrategy<Value>> = attrs.values().map(|t| arb_value(t, opts, dynamic_budget)).collect();
            values.prop_map(move |values| Value::Object(names.iter().cloned().zip(values).collect::<BTreeMap<_, _>>())).boxed()
        }
        Type::Tuple(elements) => {
            let values: Vec<BoxedStrategy<Value>> = elements.iter().map(|t| arb_value(t, opts, dynamic_budget)).collect();
            values.prop_map(Value::Tuple).boxed()
        }
        Type::Dynamic => {
            // The concrete type may hold dynamic slots again, a bounded number of times.
            let budget = dynamic_budget.saturating_sub(1);
            arb_concrete_type(budget > 0)
                .prop_flat_map(move |concrete| {
                    let wrap = concrete.clone();
                    arb_value(&concrete, opts, budget).prop_map(move |v| Value::Dynamic(wrap.clone(), Box::new(v)))
                })
                .boxed()
        }
    }
}

/// Any value that conforms to `ty`: null or unknown anywhere, otherwise known.
fn arb_value(ty: &Type, opts: Opts, dynamic_budget: u32) -> BoxedStrategy<Value> {
    let known = arb_known(ty, opts, dynamic_budget);
    if opts.unknowns {
        prop_oneof![1 => Just(Value::Null), 1 => arb_unknown(ty, opts.infinities), 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
    }
}

fn arb_typed_value(opts: Opts) -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(move |ty| {
        let v = arb_value(&ty, opts, DYNAMIC_NESTING);
        (Just(ty), v)
    })
}

// ---------------------------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------------------------

/// What any successfully decoded msgpack must satisfy: it re-encodes, decodes to the same
/// value, and re-encodes to the same bytes.
fn assert_msgpack_stable(value: &Value, ty: &Type) -> Result<(), TestCaseError> {
    let first = msgpack::encode(value, ty).map_err(|e| TestCaseError::fail(format!("re-encode failed: {e}")))?;
    let again = msgpack::decode(&first, ty).map_err(|e| TestCaseError::fail(format!("re-decode failed: {e}")))?;
    prop_assert_eq!(&again, value);
    let second = msgpack::encode(&again, ty).map_err(|e| TestCaseError::fail(format!("second encode failed: {e}")))?;
    prop_assert_eq!(second, first);
    Ok(())
}

/// The same for JSON; a decoded infinity (`"Inf"` given as a string) has no JSON form.
fn assert_json_stable(value: &Value, ty: &Type) -> Result<(), TestCaseError> {
    let first = match json::encode(value, ty) {
        Ok(bytes) => bytes,
        Err(e) => {
            prop_assert!(value.contains_infinity(), "re-encode failed: {}", e);
            return Ok(());
        }
    };
    let again = json::decode(&first, ty).map_err(|e| TestCaseError::fail(format!("re-decode failed: {e}")))?;
    prop_assert_eq!(&again, value);
    let second = json::encode(&again, ty).map_err(|e| TestCaseError::fail(format!("second encode failed: {e}")))?;
    prop_assert_eq!(second, first);
    Ok(())
}

/// Types with every shape the decoders branch on, for the corrupted-input tests.
fn fixed_types() -> Vec<Type> {
    vec![
        Type::String,
        Type::Number,
        Type::Bool,
        Type::Dynamic,
        Type::list(Type::object([("name", Type::String), ("port", Type::Number), ("tags", Type::map(Type::String))])),
        Type::set(Type::object([("id", Type::String), ("value", Type::Dynamic), ("n", Type::Number)])),
        Type::map(Type::Tuple(vec![Type::Bool, Type::Number, Type::set(Type::String)])),
        Type::object([("a", Type::Dynamic), ("b", Type::list(Type::Dynamic)), ("c", Type::String)]),
    ]
}

fn arb_fixed_type() -> impl Strategy<Value = Type> {
    proptest::sample::select(fixed_types())
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn msgpack_round_trips((ty, value) in arb_typed_value(MSGPACK)) {
        let bytes = msgpack::encode(&value, &ty).map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
        let decoded = msgpack::decode(&bytes, &ty).map_err(|e| TestCaseError::fail(format!("decode: {e}")))?;
        prop_assert_eq!(decoded, value);
    }

    #[test]
    fn msgpack_encoding_is_deterministic((ty, value) in arb_typed_value(MSGPACK)) {
        let first = msgpack::encode(&value, &ty).unwrap();
        let second = msgpack::encode(&value.clone(), &ty).unwrap();
        prop_assert_eq!(&first, &second);
        // And stable: what decodes from it encodes to the very same bytes.
        let decoded = msgpack::decode(&first, &ty).unwrap();
        prop_assert_eq!(msgpack::encode(&decoded, &ty).unwrap(), first);
    }

    #[test]
    fn json_round_trips_known_finite_values((ty, value) in arb_typed_value(JSON)) {
        prop_assert!(value.is_wholly_known() && !value.contains_infinity());
        let bytes = json::encode(&value, &ty).map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
        let decoded = json::decode(&bytes, &ty).map_err(|e| {
            TestCaseError::fail(format!("decode of {}: {e}", String::from_utf8_lossy(&bytes)))
        })?;
        prop_assert_eq!(&decoded, &value);
        prop_assert_eq!(json::encode(&decoded, &ty).unwrap(), bytes);
    }

    /// A value read from state (JSON) can be sent to Terraform (msgpack) unchanged.
    #[test]
    fn json_values_cross_to_msgpack((ty, value) in arb_typed_value(JSON)) {
        let from_json = json::decode(&json::encode(&value, &ty).unwrap(), &ty).unwrap();
        let bytes = msgpack::encode(&from_json, &ty).unwrap();
        prop_assert_eq!(msgpack::decode(&bytes, &ty).unwrap(), value);
    }

    /// `Value::conforms` accepts exactly what the encoders accept, for values checked against
    /// their own type or an unrelated one.
    #[test]
    fn conforms_agrees_with_the_encoders(
        (own, value) in arb_typed_value(MSGPACK),
        other in arb_type(),
        use_other in any::<bool>(),
    ) {
        let ty = if use_other { other } else { own };
        let conforms = value.conforms(&ty);
        prop_assert_eq!(conforms.is_ok(), msgpack::encode(&value, &ty).is_ok(), "{:?}", conforms);
        if value.is_wholly_known() && !value.contains_infinity() {
            prop_assert_eq!(conforms.is_ok(), json::encode(&value, &ty).is_ok());
        }
        if !use_other {
            prop_assert!(conforms.is_ok(), "a generated value conforms to its own type: {:?}", conforms);
        }
    }

    #[test]
    fn number_display_parses_back(n in arb_number(true)) {
        let text = n.to_string();
        let parsed = Number::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(&parsed, &n);
        // Display is canonical: printing the parsed number gives the same text.
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn exact_floats_convert_back_exactly(f in arb_exact_f64()) {
        let n = Number::from_f64_exact(f).unwrap();
        let back = n.to_f64_exact().expect("a float's own value is exact");
        // -0.0 and 0.0 are the same number.
        prop_assert!(back == f && (f == 0.0 || back.to_bits() == f.to_bits()), "{} came back as {}", f, back);
    }

    #[test]
    fn msgpack_decode_never_panics_on_bytes(ty in arb_fixed_type(), bytes in vec(any::<u8>(), 0..64)) {
        if let Ok(value) = msgpack::decode(&bytes, &ty) {
            assert_msgpack_stable(&value, &ty)?;
        }
    }

    #[test]
    fn json_decode_never_panics_on_bytes(ty in arb_fixed_type(), bytes in vec(any::<u8>(), 0..64)) {
        if let Ok(value) = json::decode(&bytes, &ty) {
            assert_json_stable(&value, &ty)?;
        }
    }

    /// Valid encodings with a few bytes overwritten, inserted or cut: far likelier than random
    /// bytes to get deep into the decoder.
    #[test]
    fn msgpack_decode_survives_corruption(
        (ty, value) in arb_typed_value(MSGPACK),
        edits in vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let mut bytes = msgpack::encode(&value, &ty).unwrap();
        corrupt(&mut bytes, &edits);
        if let Ok(decoded) = msgpack::decode(&bytes, &ty) {
            assert_msgpack_stable(&decoded, &ty)?;
        }
    }

    #[test]
    fn json_decode_survives_corruption(
        (ty, value) in arb_typed_value(JSON),
        edits in vec((any::<prop::sample::Index>(), prop_oneof![any::<u8>(), proptest::sample::select(b"{}[]\",:0-e.9tn\\u".to_vec())], 0u8..3), 1..4),
    ) {
        let mut bytes = json::encode(&value, &ty).unwrap();
        corrupt(&mut bytes, &edits);
        if let Ok(decoded) = json::decode(&bytes, &ty) {
            assert_json_stable(&decoded, &ty)?;
        }
    }
}

fn corrupt(bytes: &mut Vec<u8>, edits: &[(prop::sample::Index, u8, u8)]) {
    for (at, byte, kind) in edits {
        match kind {
            0 if !bytes.is_empty() => {
                let i = at.index(bytes.len());
                bytes[i] = *byte;
            }
            1 => {
                let i = at.index(bytes.len() + 1);
                bytes.insert(i, *byte);
            }
            _ if !bytes.is_empty() => {
                let i = at.index(bytes.len());
                bytes.truncate(i);
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed cases
// ---------------------------------------------------------------------------------------------

/// `[bin(type JSON), value]`, the wire form of a dynamic slot.
fn dynamic_pair(type_json: &str, value: &[u8]) -> Vec<u8> {
    let mut out = vec![0x92];
    rmp::encode::write_bin(&mut out, type_json.as_bytes()).unwrap();
    out.extend_from_slice(value);
    out
}

/// Runs `f` on a thread with the 2 MiB stack of a tokio worker, where the provider decodes.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(2 << 20).spawn(f).unwrap().join().expect("decoding on a 2 MiB stack");
}

/// Dynamic slots nested as deep as the input likes, each bringing a new `list(dynamic)` type:
/// decoding must stop (or finish) without exhausting a worker thread's stack.
#[test]
fn deeply_nested_dynamic_values_do_not_overflow_the_stack() {
    for levels in [10usize, 127, 128, 129, 1000] {
        on_small_stack(move || {
            let mut bytes = vec![0xc0];
            for _ in 0..levels {
                bytes = dynamic_pair(r#"["list","dynamic"]"#, &[&[0x91][..], &bytes].concat());
            }
            if let Ok(value) = msgpack::decode(&bytes, &Type::Dynamic) {
                assert_eq!(msgpack::encode(&value, &Type::Dynamic).unwrap(), bytes);
            }
            let mut text = "null".to_string();
            for _ in 0..levels {
                text = format!(r#"{{"value":[{text}],"type":["list","dynamic"]}}"#);
            }
            if let Ok(value) = json::decode(text.as_bytes(), &Type::Dynamic) {
                assert_eq!(json::encode(&value, &Type::Dynamic).unwrap(), text.as_bytes());
            }
        });
    }
}

/// A deep type inside one dynamic slot, `list(list(...(number)))`, with matching arrays.
#[test]
fn deeply_nested_types_do_not_overflow_the_stack() {
    for levels in [100usize, 126, 127, 128, 500] {
        on_small_stack(move || {
            let type_json = format!("{}\"number\"{}", "[\"list\",".repeat(levels), "]".repeat(levels));
            let mut value = vec![0x01];
            for _ in 0..levels {
                value = [&[0x91][..], &value].concat();
            }
            let bytes = dynamic_pair(&type_json, &value);
            if let Ok(decoded) = msgpack::decode(&bytes, &Type::Dynamic) {
                assert_eq!(msgpack::encode(&decoded, &Type::Dynamic).unwrap(), bytes);
            }
        });
    }
}

/// Terraform only ever says "definitely not null"; `{1: true}` is no refinement at all, so it
/// must not decode as `Some(true)`, which the encoder drops.
#[test]
fn nullable_true_reads_as_no_refinement() {
    let bytes = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3];
    let value = msgpack::decode(&bytes, &Type::String).unwrap();
    assert_eq!(value, Value::unknown());
    assert_eq!(msgpack::decode(&msgpack::encode(&value, &Type::String).unwrap(), &Type::String).unwrap(), value);
}
