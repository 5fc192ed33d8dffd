//! The msgpack encoding of cty values: what Terraform sends in `DynamicValue.msgpack` and
//! what the provider answers with.
//!
//! Decoding walks the bytes once, guided by the type, without building an intermediate
//! msgpack tree: strings are borrowed from the input until they become values.

use std::collections::BTreeMap;

use rmp::Marker;

use super::value::{tuple_length, unsupported_attribute};
use super::{DecodeError, EncodeError, Number, Refinements, Trail, Type, Value};

/// Extension code of a refined unknown (Terraform >= 1.6); any other code is a plain unknown.
const REFINED_UNKNOWN: i8 = 12;

/// How deeply values may nest. A type bounds the nesting, except that every `dynamic` slot
/// may bring a deeper type; the limit keeps hostile input from exhausting the stack of the
/// (2 MiB) tokio worker thread that decodes it. Real schemas nest a few levels.
const MAX_DEPTH: u32 = 256;

/// Decodes `bytes` as a value of type `ty`; the whole input must be one value.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut reader = Reader { rest: bytes, depth: 0 };
    let value = reader.value(ty, &Trail::Root)?;
    if !reader.rest.is_empty() {
        return fail(&Trail::Root, format!("{} bytes after the value", reader.rest.len()));
    }
    Ok(value)
}

fn fail<T>(path: &Trail, message: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError { path: path.to_path(), message: message.into() })
}

/// What a length-prefixed msgpack item holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Str,
    Bin,
    Array,
    Map,
}

/// A cursor over the input.
struct Reader<'a> {
    rest: &'a [u8],
    depth: u32,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, path: &Trail) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return fail(path, "unexpected end of msgpack data");
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn marker(&mut self, path: &Trail) -> Result<Marker, DecodeError> {
        Ok(Marker::from_u8(self.take(1, path)?[0]))
    }

    /// A big-endian unsigned integer of `width` bytes.
    fn uint(&mut self, width: usize, path: &Trail) -> Result<u64, DecodeError> {
        Ok(self.take(width, path)?.iter().fold(0, |acc, b| acc << 8 | u64::from(*b)))
    }

    /// The kind and length announced by a str, bin, array or map marker.
    fn header(&mut self, marker: Marker, path: &Trail) -> Result<Option<(Kind, usize)>, DecodeError> {
        use Marker as M;
        let (kind, width) = match marker {
            M::FixStr(n) => return Ok(Some((Kind::Str, n.into()))),
            M::FixArray(n) => return Ok(Some((Kind::Array, n.into()))),
            M::FixMap(n) => return Ok(Some((Kind::Map, n.into()))),
            M::Str8 => (Kind::Str, 1),
            M::Str16 => (Kind::Str, 2),
            M::Str32 => (Kind::Str, 4),
            M::Bin8 => (Kind::Bin, 1),
            M::Bin16 => (Kind::Bin, 2),
            M::Bin32 => (Kind::Bin, 4),
            M::Array16 => (Kind::Array, 2),
            M::Array32 => (Kind::Array, 4),
            M::Map16 => (Kind::Map, 2),
            M::Map32 => (Kind::Map, 4),
            _ => return Ok(None),
        };
        // At most 32 bits, so it fits a usize on every target we build for.
        Ok(Some((kind, self.uint(width, path)? as usize)))
    }

    /// The length of an array or map, or an error naming what was required.
    fn len_of(&mut self, marker: Marker, kind: Kind, what: &str, path: &Trail) -> Result<usize, DecodeError> {
        match self.header(marker, path)? {
            Some((k, len)) if k == kind => Ok(len),
            _ => fail(path, format!("{what} is required")),
        }
    }

    /// A UTF-8 string, borrowed from the input (not normalised yet).
    fn text(&mut self, marker: Marker, what: &str, path: &Trail) -> Result<&'a str, DecodeError> {
        let len = self.len_of(marker, Kind::Str, what, path)?;
        std::str::from_utf8(self.take(len, path)?).or_else(|_| fail(path, "a string is not valid UTF-8"))
    }

    /// Extension code and payload, for any of the ext markers.
    fn ext(&mut self, marker: Marker, path: &Trail) -> Result<Option<(i8, &'a [u8])>, DecodeError> {
        use Marker as M;
        let len = match marker {
            M::FixExt1 => 1,
            M::FixExt2 => 2,
            M::FixExt4 => 4,
            M::FixExt8 => 8,
            M::FixExt16 => 16,
            M::Ext8 => self.uint(1, path)? as usize,
            M::Ext16 => self.uint(2, path)? as usize,
            M::Ext32 => self.uint(4, path)? as usize,
            _ => return Ok(None),
        };
        let code = self.take(1, path)?[0] as i8;
        Ok(Some((code, self.take(len, path)?)))
    }

    /// An integer of any msgpack width; i128 holds both i64 and u64.
    fn integer(&mut self, marker: Marker, path: &Trail) -> Result<Option<i128>, DecodeError> {
        use Marker as M;
        let signed = |r: &mut Self, width: usize| -> Result<i128, DecodeError> {
            // Sign-extend from the top bit of the `width`-byte value.
            let shift = 64 - 8 * width as u32;
            Ok(i128::from(((r.uint(width, path)? << shift) as i64) >> shift))
        };
        Ok(Some(match marker {
            M::FixPos(n) => n.into(),
            M::FixNeg(n) => n.into(),
            M::U8 => self.uint(1, path)?.into(),
            M::U16 => self.uint(2, path)?.into(),
            M::U32 => self.uint(4, path)?.into(),
            M::U64 => self.uint(8, path)?.into(),
            M::I8 => signed(self, 1)?,
            M::I16 => signed(self, 2)?,
            M::I32 => signed(self, 4)?,
            M::I64 => signed(self, 8)?,
            _ => return Ok(None),
        }))
    }

    /// A number: an integer, a float, or (for precision beyond both) its decimal text.
    fn number(&mut self, marker: Marker, path: &Trail) -> Result<Number, DecodeError> {
        if let Some(i) = self.integer(marker, path)? {
            return Ok(match i64::try_from(i) {
                Ok(signed) => Number::from(signed),
                // Not an i64, so a u64 above i64::MAX: integer() reads nothing wider.
                Err(_) => Number::from(i as u64),
            });
        }
        let float = match marker {
            Marker::F32 => f64::from(f32::from_bits(self.uint(4, path)? as u32)),
            Marker::F64 => f64::from_bits(self.uint(8, path)?),
            _ => {
                let text = self.text(marker, "a number", path)?;
                return Number::parse(text).or_else(|e| fail(path, e.to_string()));
            }
        };
        Number::from_f64_exact(float).map_or_else(|| fail(path, "NaN is not a number"), Ok)
    }

    fn value(&mut self, ty: &Type, path: &Trail) -> Result<Value, DecodeError> {
        if self.depth == MAX_DEPTH {
            return fail(path, format!("values nest more than {MAX_DEPTH} levels deep"));
        }
        self.depth += 1;
        let value = self.value_inner(ty, path);
        self.depth -= 1;
        value
    }

    fn value_inner(&mut self, ty: &Type, path: &Trail) -> Result<Value, DecodeError> {
        let marker = self.marker(path)?;
        if marker == Marker::Null {
            return Ok(Value::Null);
        }
        if let Some((code, payload)) = self.ext(marker, path)? {
            return Ok(Value::Unknown(Box::new(refinements(code, payload))));
        }
        match ty {
            Type::String => Ok(Value::String(super::nfc(self.text(marker, "a string", path)?))),
            Type::Number => self.number(marker, path).map(Value::Number),
            Type::Bool => match marker {
                Marker::True => Ok(Value::Bool(true)),
                Marker::False => Ok(Value::Bool(false)),
                _ => fail(path, "a bool is required"),
            },
            Type::List(element) => Ok(Value::List(self.elements(marker, element, "a list", path)?)),
            // A set holds each known value once, as Terraform does on decode.
            Type::Set(element) => Ok(Value::set(self.elements(marker, element, "a set", path)?)),
            Type::Tuple(elements) => {
                let len = self.len_of(marker, Kind::Array, "a tuple", path)?;
                if len != elements.len() {
                    return fail(path, format!("a tuple of {} elements is required ({len} given)", elements.len()));
                }
                let items = elements.iter().enumerate().map(|(i, t)| self.value(t, &path.index(i as i64)));
                Ok(Value::Tuple(items.collect::<Result<_, _>>()?))
            }
            Type::Map(element) => {
                let len = self.len_of(marker, Kind::Map, "a map", path)?;
                let mut out = BTreeMap::new();
                for _ in 0..len {
                    let key = self.key(path)?;
                    let value = self.value(element, &path.key(&key))?;
                    out.insert(key, value);
                }
                Ok(Value::Map(out))
            }
            Type::Object(attrs) => {
                let len = self.len_of(marker, Kind::Map, "an object", path)?;
                let mut out = BTreeMap::new();
                for _ in 0..len {
                    let key = self.key(path)?;
                    let Some(attr_type) = attrs.get(&key) else {
                        return fail(path, format!("unsupported attribute {key:?}"));
                    };
                    let value = self.value(attr_type, &path.attr(&key))?;
                    out.insert(key, value);
                }
                // Terraform sends every attribute, null or not; a missing one is a schema
                // mismatch, not an absent value.
                if let Some(missing) = attrs.keys().find(|k| !out.contains_key(*k)) {
                    return fail(path, format!("attribute {missing:?} is required"));
                }
                Ok(Value::Object(out))
            }
            Type::Dynamic => {
                const PAIR: &str = "a dynamic value must be a [type, value] pair";
                match self.header(marker, path)? {
                    Some((Kind::Array, 2)) => {}
                    _ => return fail(path, PAIR),
                }
                // cty writes the type JSON as bin; str is accepted too.
                let type_marker = self.marker(path)?;
                let type_json = match self.header(type_marker, path)? {
                    Some((Kind::Bin | Kind::Str, len)) => self.take(len, path)?,
                    _ => return fail(path, "a dynamic value's type must be JSON bytes"),
                };
                let concrete = Type::from_json_bytes(type_json).or_else(|e| fail(path, e.to_string()))?;
                if concrete == Type::Dynamic {
                    return fail(path, "a dynamic value's type must be concrete");
                }
                let inner = self.value(&concrete, path)?;
                Ok(Value::Dynamic(concrete, Box::new(inner)))
            }
        }
    }

    /// The elements of a list or set.
    fn elements(&mut self, marker: Marker, element: &Type, what: &str, path: &Trail) -> Result<Vec<Value>, DecodeError> {
        let len = self.len_of(marker, Kind::Array, what, path)?;
        // Every element takes at least a byte: a hostile length cannot reserve more than that.
        let mut out = Vec::with_capacity(len.min(self.rest.len()));
        for i in 0..len {
            out.push(self.value(element, &path.index(i as i64))?);
        }
        Ok(out)
    }

    /// A map key or attribute name, normalised like every cty string.
    fn key(&mut self, path: &Trail) -> Result<String, DecodeError> {
        let marker = self.marker(path)?;
        self.text(marker, "a string key", path).map(super::nfc)
    }

    /// Reads past one value of any kind (unknown refinement keys carry values we ignore).
    fn skip(&mut self, path: &Trail) -> Result<(), DecodeError> {
        if self.depth == MAX_DEPTH {
            return fail(path, "too deeply nested");
        }
        let marker = self.marker(path)?;
        if self.ext(marker, path)?.is_some() || self.integer(marker, path)?.is_some() {
            return Ok(());
        }
        self.depth += 1;
        match (marker, self.header(marker, path)?) {
            (_, Some((Kind::Str | Kind::Bin, len))) => drop(self.take(len, path)?),
            (_, Some((Kind::Array, len))) => (0..len).try_for_each(|_| self.skip(path))?,
            (_, Some((Kind::Map, len))) => (0..2 * len).try_for_each(|_| self.skip(path))?,
            (Marker::F32, None) => drop(self.take(4, path)?),
            (Marker::F64, None) => drop(self.take(8, path)?),
            (Marker::Null | Marker::True | Marker::False, None) => {}
            (_, None) => return fail(path, "invalid msgpack marker"),
        }
        self.depth -= 1;
        Ok(())
    }
}

/// The refinements of an ext-12 unknown. A malformed payload degrades to a plain unknown,
/// which is always a safe reading; any other extension code is a plain unknown.
fn refinements(code: i8, payload: &[u8]) -> Refinements {
    if code != REFINED_UNKNOWN {
        return Refinements::default();
    }
    read_refinements(payload).unwrap_or_default()
}

fn read_refinements(payload: &[u8]) -> Result<Refinements, DecodeError> {
    let path = &Trail::Root;
    let mut r = Reader { rest: payload, depth: 0 };
    let marker = r.marker(path)?;
    let len = r.len_of(marker, Kind::Map, "a map", path)?;
    let mut out = Refinements::default();
    for _ in 0..len {
        let marker = r.marker(path)?;
        let Some(key) = r.integer(marker, path)? else { return fail(path, "refinement keys are integers") };
        match key {
            // Only "definitely not null" means anything; cty ignores `true`.
            1 => {
                out.nullable = match r.marker(path)? {
                    Marker::False => Some(false),
                    Marker::True => None,
                    _ => return fail(path, "nullness is a bool"),
                }
            }
            2 => {
                let marker = r.marker(path)?;
                out.string_prefix = Some(r.text(marker, "a string prefix", path)?.to_owned());
            }
            3 | 4 => {
                let marker = r.marker(path)?;
                if r.len_of(marker, Kind::Array, "a [number, inclusive] bound", path)? != 2 {
                    return fail(path, "a bound is a [number, inclusive] pair");
                }
                let marker = r.marker(path)?;
                let number = r.number(marker, path)?;
                let inclusive = match r.marker(path)? {
                    Marker::True => true,
                    Marker::False => false,
                    _ => return fail(path, "a bound's inclusiveness is a bool"),
                };
                *if key == 3 { &mut out.number_lower } else { &mut out.number_upper } = Some((number, inclusive));
            }
            5 | 6 => {
                let marker = r.marker(path)?;
                let length = r.integer(marker, path)?.and_then(|n| u64::try_from(n).ok());
                let Some(length) = length else { return fail(path, "a length bound is a count") };
                *if key == 5 { &mut out.length_lower } else { &mut out.length_upper } = Some(length);
            }
            _ => r.skip(path)?,
        }
    }
    Ok(out)
}

/// Encodes a value of type `ty`. Deterministic: map and object keys are sorted.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    write(&mut out, value, ty, &Trail::Root)?;
    Ok(out)
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
        (Value::Dynamic(concrete, inner), Type::Dynamic) if *concrete != Type::Dynamic => {
            io(w::write_array_len(out, 2));
            io(w::write_bin(out, &concrete.to_json_bytes()));
            write(out, inner, concrete, path)?;
        }
        (Value::String(s), Type::String) => write_str(out, s, path)?,
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
                return Err(tuple_length(path, elements.len(), items.len()));
            }
            io(w::write_array_len(out, len32(items.len(), path)?));
            for (i, (item, t)) in items.iter().zip(elements).enumerate() {
                write(out, item, t, &path.index(i as i64))?;
            }
        }
        (Value::Map(items), Type::Map(element)) => {
            io(w::write_map_len(out, len32(items.len(), path)?));
            for (key, item) in items {
                write_str(out, key, path)?;
                write(out, item, element, &path.key(key))?;
            }
        }
        (Value::Object(items), Type::Object(attrs)) => {
            if let Some(extra) = items.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(unsupported_attribute(path, extra));
            }
            // Terraform requires every attribute; absent ones are null.
            io(w::write_map_len(out, len32(attrs.len(), path)?));
            for (name, attr_type) in attrs {
                io(w::write_str(out, name));
                write(out, items.get(name).unwrap_or(&Value::Null), attr_type, &path.attr(name))?;
            }
        }
        (value, ty) => return Err(value.mismatch(ty, path)),
    }
    Ok(())
}

fn len32(len: usize, path: &Trail) -> Result<u32, EncodeError> {
    u32::try_from(len).map_err(|_| EncodeError { path: path.to_path(), message: "too large for msgpack".into() })
}

fn write_str(out: &mut Vec<u8>, s: &str, path: &Trail) -> Result<(), EncodeError> {
    len32(s.len(), path)?;
    io(rmp::encode::write_str(out, s));
    Ok(())
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

/// A plain unknown as cty writes it (fixext1, code 0, one zero byte), or ext 12 with the
/// refinements that are set; never ext 12 with an empty map.
fn write_unknown(out: &mut Vec<u8>, r: &Refinements) {
    use rmp::encode as w;
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
        out.extend_from_slice(&[0xd4, 0x00, 0x00]);
        return;
    }
    let mut payload = Vec::with_capacity(body.len() + 1);
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

    fn num(text: &str) -> Value {
        Value::Number(Number::parse(text).unwrap())
    }

    /// `str` header + text, for building expected bytes.
    fn mp_str(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        rmp::encode::write_str(&mut out, text).unwrap();
        out
    }

    #[test]
    fn unknown_is_fixext_zero() {
        assert_eq!(encode(&Value::unknown(), &Type::String).unwrap(), vec![0xd4, 0, 0]);
        assert_eq!(decode(&[0xd4, 0, 0], &Type::String).unwrap(), Value::unknown());
        // Any extension code and length reads as unknown, whatever the type.
        assert_eq!(decode(&[0xc7, 0, 5], &Type::Number).unwrap(), Value::unknown());
        assert_eq!(decode(&[0xd5, 0x7f, 1, 2], &Type::list(Type::Bool)).unwrap(), Value::unknown());
        assert_eq!(decode(&[0xd4, 0, 0], &Type::Dynamic).unwrap(), Value::unknown());
    }

    #[test]
    fn null_is_nil_for_every_type() {
        for ty in [Type::String, Type::Dynamic, Type::object([("a", Type::Number)]), Type::Tuple(vec![Type::Bool])] {
            assert_eq!(decode(&[0xc0], &ty).unwrap(), Value::Null);
            assert_eq!(encode(&Value::Null, &ty).unwrap(), vec![0xc0]);
        }
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
    fn every_refinement_round_trips() {
        let refined = Refinements {
            nullable: Some(false),
            string_prefix: Some("x".into()),
            number_lower: Some((Number::from(-3), true)),
            number_upper: Some((Number::parse("0.1").unwrap(), false)),
            length_lower: Some(1),
            length_upper: Some(u64::MAX),
        };
        let value = Value::Unknown(Box::new(refined));
        let bytes = encode(&value, &Type::Number).unwrap();
        assert_eq!(&bytes[..3], &[0xc7, (bytes.len() - 3) as u8, 0x0c]);
        assert_eq!(bytes[3], 0x86);
        assert_eq!(decode(&bytes, &Type::Number).unwrap(), value);
    }

    #[test]
    fn odd_refinements_are_ignored_or_degrade_to_plain_unknowns() {
        // Unknown key 9 (with a nested value) is skipped; "nullable: true" says nothing.
        let bytes = [0xc7, 0x0a, 0x0c, 0x83, 0x09, 0x91, 0x81, 0xa0, 0xc0, 0x01, 0xc3, 0x05, 0x02];
        let Value::Unknown(r) = decode(&bytes, &Type::list(Type::String)).unwrap() else { panic!() };
        assert_eq!(*r, Refinements { length_lower: Some(2), ..Refinements::default() });
        // A payload that is not a map, or a truncated one, is a plain unknown.
        for bytes in [&[0xd4, 0x0c, 0x01][..], &[0xd5, 0x0c, 0x82, 0x01], &[0xd5, 0x0c, 0x81, 0x05], &[0xd5, 0x0c, 0x81, 0xc1]] {
            assert_eq!(decode(bytes, &Type::String).unwrap(), Value::unknown(), "{}", hex(bytes));
        }
    }

    #[test]
    fn dynamic_carries_its_type() {
        let mut bytes = vec![0x92, 0xc4, 0x32];
        bytes.extend_from_slice(br#"["object",{"x":"number","y":["tuple",["string"]]}]"#);
        bytes.extend_from_slice(&[0x82, 0xa1, b'x', 0x01, 0xa1, b'y', 0x91, 0xa1, b'a']);
        let value = decode(&bytes, &Type::Dynamic).unwrap();
        let ty = Type::object([("x", Type::Number), ("y", Type::Tuple(vec![Type::String]))]);
        let inner = Value::object([("x", Value::from(1)), ("y", Value::Tuple(vec![Value::from("a")]))]);
        assert_eq!(value, Value::Dynamic(ty, Box::new(inner)));
        assert_eq!(encode(&value, &Type::Dynamic).unwrap(), bytes);
    }

    #[test]
    fn dynamic_slots_accept_str_types_and_typed_nulls() {
        // The type as str rather than bin.
        let mut bytes = vec![0x92];
        bytes.extend(mp_str(r#"["list","bool"]"#));
        bytes.extend_from_slice(&[0x91, 0xc3]);
        let list = Value::Dynamic(Type::list(Type::Bool), Box::new(Value::List(vec![Value::Bool(true)])));
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), list);
        // A null or unknown of a known type keeps the type wrapper.
        let typed_null = Value::Dynamic(Type::String, Box::new(Value::Null));
        let bytes = encode(&typed_null, &Type::Dynamic).unwrap();
        assert_eq!(bytes, [&[0x92, 0xc4, 0x08][..], b"\"string\"", &[0xc0]].concat());
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), typed_null);
        let typed_unknown = Value::Dynamic(Type::Number, Box::new(Value::unknown()));
        assert_eq!(decode(&encode(&typed_unknown, &Type::Dynamic).unwrap(), &Type::Dynamic).unwrap(), typed_unknown);
    }

    #[test]
    fn dynamic_slots_reject_bad_wrappers() {
        let cases: [(&[u8], &str); 4] = [
            (&[0x91, 0xc4, 0x08], "pair"),
            (&[0xa1, b'x'], "pair"),
            (&[0x92, 0x01, 0x01], "JSON bytes"),
            (&[0x92, 0xc4, 0x09, b'"', b'd', b'y', b'n', b'a', b'm', b'i', b'c', b'"', 0xc0], "concrete"),
        ];
        for (bytes, message) in cases {
            let err = decode(bytes, &Type::Dynamic).unwrap_err();
            assert!(err.message.contains(message), "{}: {err}", hex(bytes));
        }
        let not_concrete = Value::Dynamic(Type::Dynamic, Box::new(Value::Null));
        assert!(encode(&not_concrete, &Type::Dynamic).is_err());
        // A dynamic slot needs the wrapper, and a concrete slot must not have one.
        assert!(encode(&Value::from("x"), &Type::Dynamic).is_err());
        assert!(encode(&Value::Dynamic(Type::String, Box::new(Value::from("x"))), &Type::String).is_err());
    }

    #[test]
    fn numbers_follow_ctys_rules() {
        assert_eq!(encode(&num("80"), &Type::Number).unwrap(), vec![0x50]);
        assert_eq!(encode(&num("-1"), &Type::Number).unwrap(), vec![0xff]);
        assert_eq!(encode(&num("0.5"), &Type::Number).unwrap(), [&[0xcb][..], &0.5f64.to_be_bytes()].concat());
        assert_eq!(encode(&num("0.1"), &Type::Number).unwrap(), mp_str("0.1"));
        // 2^70: an integer, but neither an i64 nor a u64. It is exactly a float64 too.
        let big = num("1180591620717411303424");
        assert_eq!(encode(&big, &Type::Number).unwrap(), [&[0xcb][..], &2f64.powi(70).to_be_bytes()].concat());
        // Terraform sends such numbers as text; they decode exactly.
        let from_terraform = mp_str("1180591620717411303424");
        assert_eq!(from_terraform[0], 0xb6);
        assert_eq!(decode(&from_terraform, &Type::Number).unwrap(), big);
        let precise = num("1180591620717411303424.5");
        let bytes = encode(&precise, &Type::Number).unwrap();
        assert_eq!(bytes, mp_str("1180591620717411303424.5"));
        assert_eq!(decode(&bytes, &Type::Number).unwrap(), precise);
        let max = [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(decode(&max, &Type::Number).unwrap(), Value::Number(Number::from(u64::MAX)));
        assert_eq!(encode(&Value::Number(Number::from(u64::MAX)), &Type::Number).unwrap(), max);
        for inf in [Number::infinity(true), Number::infinity(false)] {
            let value = Value::Number(inf);
            let bytes = encode(&value, &Type::Number).unwrap();
            assert_eq!(bytes[0], 0xcb);
            assert_eq!(decode(&bytes, &Type::Number).unwrap(), value);
        }
    }

    #[test]
    fn numbers_decode_from_every_width() {
        let cases: [(&[u8], &str); 10] = [
            (&[0x7f], "127"),
            (&[0xe0], "-32"),
            (&[0xcc, 0xff], "255"),
            (&[0xcd, 0x01, 0x00], "256"),
            (&[0xce, 0xff, 0xff, 0xff, 0xff], "4294967295"),
            (&[0xd0, 0x80], "-128"),
            (&[0xd1, 0x80, 0x00], "-32768"),
            (&[0xd2, 0xff, 0xff, 0xff, 0xfe], "-2"),
            (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], "-9223372036854775808"),
            (&[0xca, 0x3f, 0xc0, 0x00, 0x00], "1.5"),
        ];
        for (bytes, text) in cases {
            assert_eq!(decode(bytes, &Type::Number).unwrap(), num(text), "{}", hex(bytes));
        }
        // NaN has no cty form, and text must be a number.
        assert!(decode(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0], &Type::Number).is_err());
        assert!(decode(&mp_str("twelve"), &Type::Number).is_err());
    }

    #[test]
    fn objects_need_every_attribute_and_no_other() {
        let ty = Type::object([("a", Type::String), ("b", Type::Bool)]);
        let missing = [0x81, 0xa1, b'a', 0xa1, b'x'];
        assert!(decode(&missing, &ty).unwrap_err().message.contains("\"b\" is required"));
        let extra = [0x83, 0xa1, b'a', 0xc0, 0xa1, b'b', 0xc0, 0xa1, b'c', 0xc0];
        assert!(decode(&extra, &ty).unwrap_err().message.contains("unsupported attribute \"c\""));
        // Every attribute is written, sorted, absent ones as null.
        let bytes = encode(&Value::object([("a", Value::from("x"))]), &ty).unwrap();
        assert_eq!(bytes, [0x82, 0xa1, b'a', 0xa1, b'x', 0xa1, b'b', 0xc0]);
        assert!(encode(&Value::object([("z", Value::Null)]), &ty).unwrap_err().message.contains("\"z\""));
    }

    #[test]
    fn maps_are_sorted_string_keyed() {
        let ty = Type::map(Type::Number);
        let value = decode(&[0x82, 0xa1, b'b', 0x02, 0xa1, b'a', 0x01], &ty).unwrap();
        assert_eq!(encode(&value, &ty).unwrap(), [0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0x02]);
        assert!(decode(&[0x81, 0x01, 0x01], &ty).is_err());
    }

    #[test]
    fn errors_name_the_path() {
        let ty = Type::object([("items", Type::list(Type::Number))]);
        let bytes = [0x81, 0xa5, b'i', b't', b'e', b'm', b's', 0x92, 0x01, 0xa1, b'x'];
        let err = decode(&bytes, &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "items[1]");
        let ty = Type::map(Type::Tuple(vec![Type::Bool]));
        let bytes = [0x81, 0xa1, b'k', 0x91, 0x01];
        assert_eq!(decode(&bytes, &ty).unwrap_err().path.to_string(), "[\"k\"][0]");
        let err = encode(&Value::Map([("k".to_string(), Value::from(1))].into()), &Type::map(Type::String)).unwrap_err();
        assert_eq!(err.to_string(), "[\"k\"]: a value of type string is required, not a number");
    }

    #[test]
    fn tuples_need_exactly_their_elements() {
        let ty = Type::Tuple(vec![Type::String, Type::Number]);
        assert!(decode(&[0x91, 0xa0], &ty).unwrap_err().message.contains("2 elements"));
        assert!(encode(&Value::Tuple(vec![Value::Null]), &ty).is_err());
        let value = Value::Tuple(vec![Value::from("a"), Value::from(2)]);
        assert_eq!(decode(&encode(&value, &ty).unwrap(), &ty).unwrap(), value);
    }

    #[test]
    fn strings_are_nfc() {
        let decomposed = "e\u{301}";
        let bytes = encode(&Value::from(decomposed), &Type::String).unwrap();
        assert_eq!(decode(&bytes, &Type::String).unwrap(), Value::from("\u{e9}"));
        assert!(decode(&[0xa2, 0xc3, 0x28], &Type::String).is_err());
    }

    #[test]
    fn sets_keep_the_first_of_each_known_element() {
        let ty = Type::set(Type::Number);
        let bytes = [0x95, 0x01, 0xd4, 0, 0, 0x01, 0x02, 0xd4, 0, 0];
        let expected = vec![Value::from(1), Value::unknown(), Value::from(2), Value::unknown()];
        assert_eq!(decode(&bytes, &ty).unwrap(), Value::Set(expected));
    }

    #[test]
    fn malformed_input_is_an_error() {
        let cases: [&[u8]; 7] = [
            &[],
            &[0x01, 0x02],
            &[0xc1],
            &[0x92, 0x01],
            &[0xdd, 0xff, 0xff, 0xff, 0xff],
            &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
            &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x00],
        ];
        for bytes in cases {
            assert!(decode(bytes, &Type::list(Type::Number)).is_err(), "{}", hex(bytes));
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        // A list of dynamic, each element again a list of dynamic, 300 levels down.
        let ty = Type::list(Type::Dynamic);
        let mut bytes = Vec::new();
        for _ in 0..300 {
            bytes.extend_from_slice(&[0x91, 0x92, 0xc4, 0x12]);
            bytes.extend_from_slice(br#"["list","dynamic"]"#);
        }
        let err = decode(&bytes, &ty).unwrap_err();
        assert!(err.message.contains("nest"), "{err}");
    }
}
