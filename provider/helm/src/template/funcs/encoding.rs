//! Encodings: base64, sha256, and JSON written exactly as Go's `encoding/json` writes it
//! (sorted keys, HTML-safe escapes, Go's float format), which `toJson`, `toYaml` and
//! checksums over them depend on.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::super::print::format_float;
use super::super::value::{ElemType, Value};
use super::table;

table! {
    fixed "b64enc"(Str) => |_, a| Ok(Value::str(base64::engine::general_purpose::STANDARD.encode(s(&a[0])))),
    fixed "b64dec"(Str) => |_, a| Ok(Value::str(b64dec(s(&a[0])))),
    fixed "sha256sum"(Str) => |_, a| Ok(Value::str(hex(&Sha256::digest(s(&a[0]).as_bytes())))),
    fixed "sha1sum"(Str) => |_, a| Ok(Value::str(hex(&sha1::Sha1::digest(s(&a[0]).as_bytes())))),
    fixed "adler32sum"(Str) => |_, a| Ok(Value::str(adler32(s(&a[0]).as_bytes()).to_string())),
    fixed "toJson"(Any) => |_, a| Ok(Value::str(json_text(&a[0], None).unwrap_or_default())),
    fixed "toPrettyJson"(Any) => |_, a| Ok(Value::str(json_text(&a[0], Some("  ")).unwrap_or_default())),
    fixed "toRawJson"(Any) => |_, a| Ok(Value::str(json_text(&a[0], None).unwrap_or_default())),
    fixed "mustToJson"(Any) => |_, a| json_text(&a[0], None).map(Value::str),
    fixed "fromJson"(Str) => |_, a| Ok(from_json_object(s(&a[0]))),
    fixed "fromJsonArray"(Str) => |_, a| Ok(from_json_array(s(&a[0]))),
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Adler-32, as Sprig's `adler32sum` prints it: in decimal.
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sprig's `b64dec`: the decoded text, or the decoder's error as the result.
fn b64dec(input: &str) -> String {
    match base64::engine::general_purpose::STANDARD.decode(input) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol(at, _)) => {
            format!("illegal base64 data at input byte {at}")
        }
        Err(_) => format!("illegal base64 data at input byte {}", input.len().saturating_sub(input.len() % 4)),
    }
}

/// Helm's `fromJson`: a map, or a map whose `Error` key holds what went wrong.
fn from_json_object(text: &str) -> Value {
    if let Some(err) = go_json_syntax_error(text) {
        return error_map(err);
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(json @ serde_json::Value::Object(_)) => Value::from_json(&json),
        Ok(serde_json::Value::Null) => Value::empty_map(),
        Ok(other) => error_map(format!("json: cannot unmarshal {} into Go value of type map[string]interface {{}}", json_kind(&other))),
        Err(e) => error_map(e.to_string()),
    }
}

/// Helm's `fromJsonArray`: a list, or a one-element list holding the error text.
fn from_json_array(text: &str) -> Value {
    if let Some(err) = go_json_syntax_error(text) {
        return Value::list(vec![Value::str(err)]);
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(json @ serde_json::Value::Array(_)) => Value::from_json(&json),
        Ok(serde_json::Value::Null) => Value::list(Vec::new()),
        Ok(other) => {
            Value::list(vec![Value::str(format!("json: cannot unmarshal {} into Go value of type []interface {{}}", json_kind(&other)))])
        }
        Err(e) => Value::list(vec![Value::str(e.to_string())]),
    }
}

/// Go's `quoteChar` for a byte in a JSON syntax error.
fn quote_byte(b: u8) -> String {
    match b {
        b'\'' => "'\\''".to_string(),
        b'"' => "'\"'".to_string(),
        b => {
            let quoted = super::super::print::go_quote(&char::from(b).to_string());
            format!("'{}'", &quoted[1..quoted.len() - 1])
        }
    }
}

/// The syntax error Go's `encoding/json` reports for `text`, worded as Go words it, or `None`
/// for valid JSON. It follows Go's scanner state by state.
fn go_json_syntax_error(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    let ws = |i: &mut usize| {
        while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
        }
    };
    let invalid = |i: usize, context: &str| Some(format!("invalid character {} {context}", quote_byte(b[i])));
    let eof = || Some("unexpected end of JSON input".to_string());
    // Containers still open: true for an object.
    let mut stack: Vec<bool> = Vec::new();
    loop {
        // A value.
        ws(&mut i);
        if i >= b.len() {
            return eof();
        }
        match b[i] {
            b'{' => {
                i += 1;
                ws(&mut i);
                if i >= b.len() {
                    return eof();
                }
                if b[i] == b'}' {
                    i += 1;
                } else {
                    stack.push(true);
                    if let Some(e) = json_object_key_error(b, &mut i) {
                        return Some(e);
                    }
                    continue;
                }
            }
            b'[' => {
                i += 1;
                ws(&mut i);
                if i >= b.len() {
                    return eof();
                }
                if b[i] == b']' {
                    i += 1;
                } else {
                    stack.push(false);
                    continue;
                }
            }
            b'"' => {
                if let Some(e) = json_string_error(b, &mut i) {
                    return Some(e);
                }
            }
            b'-' | b'0'..=b'9' => {
                if let Some(e) = json_number_error(b, &mut i) {
                    return Some(e);
                }
            }
            b't' | b'f' | b'n' => {
                let word: &[u8] = match b[i] {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                for (k, &expected) in word.iter().enumerate().skip(1) {
                    if i + k >= b.len() {
                        return eof();
                    }
                    if b[i + k] != expected {
                        let name = std::str::from_utf8(word).unwrap_or_default();
                        return invalid(i + k, &format!("in literal {name} (expecting {})", quote_byte(expected)));
                    }
                }
                i += word.len();
            }
            _ => return invalid(i, "looking for beginning of value"),
        }
        // After a value: close containers or move to the next element.
        loop {
            ws(&mut i);
            let Some(&is_object) = stack.last() else {
                return if i < b.len() { invalid(i, "after top-level value") } else { None };
            };
            if i >= b.len() {
                return eof();
            }
            match (is_object, b[i]) {
                (true, b'}') | (false, b']') => {
                    stack.pop();
                    i += 1;
                }
                (true, b',') => {
                    i += 1;
                    ws(&mut i);
                    if let Some(e) = json_object_key_error(b, &mut i) {
                        return Some(e);
                    }
                    break;
                }
                (false, b',') => {
                    i += 1;
                    break;
                }
                (true, _) => return invalid(i, "after object key:value pair"),
                (false, _) => return invalid(i, "after array element"),
            }
        }
    }
}

/// Scans an object key and its colon, from the key's first byte.
fn json_object_key_error(b: &[u8], i: &mut usize) -> Option<String> {
    let Some(&first) = b.get(*i) else { return Some("unexpected end of JSON input".into()) };
    if first != b'"' {
        return Some(format!("invalid character {} looking for beginning of object key string", quote_byte(first)));
    }
    if let Some(e) = json_string_error(b, i) {
        return Some(e);
    }
    while b.get(*i).is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r')) {
        *i += 1;
    }
    match b.get(*i) {
        None => Some("unexpected end of JSON input".into()),
        Some(b':') => {
            *i += 1;
            None
        }
        Some(&c) => Some(format!("invalid character {} after object key", quote_byte(c))),
    }
}

/// Scans a string literal at `b[*i] == '"'`.
fn json_string_error(b: &[u8], i: &mut usize) -> Option<String> {
    *i += 1;
    while *i < b.len() {
        match b[*i] {
            b'"' => {
                *i += 1;
                return None;
            }
            b'\\' => {
                *i += 1;
                let Some(&e) = b.get(*i) else { break };
                match e {
                    b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => *i += 1,
                    b'u' => {
                        *i += 1;
                        for _ in 0..4 {
                            let Some(&h) = b.get(*i) else { return Some("unexpected end of JSON input".into()) };
                            if !h.is_ascii_hexdigit() {
                                return Some(format!("invalid character {} in \\u hexadecimal character escape", quote_byte(h)));
                            }
                            *i += 1;
                        }
                    }
                    other => return Some(format!("invalid character {} in string escape code", quote_byte(other))),
                }
            }
            c if c < 0x20 => return Some(format!("invalid character {} in string literal", quote_byte(c))),
            _ => *i += 1,
        }
    }
    Some("unexpected end of JSON input".into())
}

/// Scans a number at `b[*i]`; only its start can be wrong here, the rest ends the number.
fn json_number_error(b: &[u8], i: &mut usize) -> Option<String> {
    let eof = || Some("unexpected end of JSON input".to_string());
    if b[*i] == b'-' {
        *i += 1;
        let Some(&c) = b.get(*i) else { return eof() };
        if !c.is_ascii_digit() {
            return Some(format!("invalid character {} in numeric literal", quote_byte(c)));
        }
    }
    if b[*i] == b'0' {
        *i += 1;
    } else {
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
    }
    if b.get(*i) == Some(&b'.') {
        *i += 1;
        let Some(&c) = b.get(*i) else { return eof() };
        if !c.is_ascii_digit() {
            return Some(format!("invalid character {} after decimal point in numeric literal", quote_byte(c)));
        }
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
    }
    if matches!(b.get(*i), Some(b'e' | b'E')) {
        *i += 1;
        if matches!(b.get(*i), Some(b'+' | b'-')) {
            *i += 1;
        }
        let Some(&c) = b.get(*i) else { return eof() };
        if !c.is_ascii_digit() {
            return Some(format!("invalid character {} in exponent of numeric literal", quote_byte(c)));
        }
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
    }
    None
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
        serde_json::Value::Null => "null",
    }
}

fn error_map(msg: String) -> Value {
    Value::map([("Error".to_string(), Value::str(msg))].into_iter().collect())
}

/// Go's `encoding/json` text for a float64: shortest digits, exponent form below 1e-6 and
/// from 1e21, with `e-07` shortened to `e-7`.
fn json_float(f: f64) -> Result<String, String> {
    if !f.is_finite() {
        return Err(format!("json: unsupported value: {}", format_float(f, 'g', None)));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format_float(f, 'e', None);
        return Ok(match text.split_once("e-0") {
            Some((mantissa, exp)) if exp.len() == 1 => format!("{mantissa}e-{exp}"),
            _ => text,
        });
    }
    Ok(format_float(f, 'f', None))
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `json.Marshal` (or `json.MarshalIndent(v, "", indent)`) of a template value.
pub fn json_text(v: &Value, indent: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    write_json(&mut out, v, indent, 0)?;
    Ok(out)
}

fn newline(out: &mut String, indent: Option<&str>, depth: usize) {
    if let Some(unit) = indent {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(unit);
        }
    }
}

fn write_json(out: &mut String, v: &Value, indent: Option<&str>, depth: usize) -> Result<(), String> {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i, _) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)?),
        Value::Str(s) => json_string(out, s),
        Value::List(_, ElemType::NilAny) => out.push_str("null"),
        Value::List(items, _) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                write_json(out, item, indent, depth + 1)?;
            }
            if !items.is_empty() {
                newline(out, indent, depth);
            }
            out.push(']');
        }
        Value::Map(map) => {
            let map = map.borrow();
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, depth + 1);
                json_string(out, k);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(out, item, indent, depth + 1)?;
            }
            if !map.is_empty() {
                newline(out, indent, depth);
            }
            out.push('}');
        }
        Value::Object(obj) => json_string(out, &obj.go_string()),
    }
    Ok(())
}

/// The JSON document `json.Marshal` would produce, as a value for the YAML writer. Numbers
/// keep Go's text.
pub fn to_json_value(v: &Value) -> Result<serde_json::Value, String> {
    let text = json_text(v, None)?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_like_go() {
        let v = Value::map(
            [
                ("b".to_string(), Value::Float(1e6)),
                ("a".to_string(), Value::str("<x&y>")),
                ("c".to_string(), Value::list(vec![Value::Float(1e-7), Value::Float(1e21), Value::int(3)])),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(json_text(&v, None).unwrap(), r#"{"a":"\u003cx\u0026y\u003e","b":1000000,"c":[1e-7,1e+21,3]}"#);
        assert_eq!(json_text(&Value::list(vec![Value::int(1)]), Some("  ")).unwrap(), "[\n  1\n]");
    }

    #[test]
    fn syntax_errors_like_go() {
        let cases = [
            ("{nope}", Some("invalid character 'n' looking for beginning of object key string")),
            ("{\"a\" 1}", Some("invalid character '1' after object key")),
            ("{\"a\":1 2}", Some("invalid character '2' after object key:value pair")),
            ("[1 2]", Some("invalid character '2' after array element")),
            ("[1,", Some("unexpected end of JSON input")),
            ("tru", Some("unexpected end of JSON input")),
            ("trux", Some("invalid character 'x' in literal true (expecting 'e')")),
            ("1.x", Some("invalid character 'x' after decimal point in numeric literal")),
            ("{} x", Some("invalid character 'x' after top-level value")),
            ("{\"a\":[1,{\"b\":null}],\"c\":\"\\u00e9\"}", None),
        ];
        for (text, want) in cases {
            assert_eq!(go_json_syntax_error(text).as_deref(), want, "{text}");
        }
    }
}
