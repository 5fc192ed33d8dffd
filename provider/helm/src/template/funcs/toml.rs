//! Helm's `toToml`: the text the Go TOML encoder Helm uses writes for a template value.
//! Keys in sorted order, plain values before tables, nested keys indented by two spaces per
//! level, floats always with a decimal point or exponent, nulls left out; on an error the
//! function returns the error's text, as Helm's does.

use super::super::print::format_float;
use super::super::value::{ElemType, Map, Value};
use super::table;

table! {
    fixed "toToml"(Any) => |_, a| match a[0] {
        // Go's encoder panics on a nil value: the template call fails.
        Value::Nil => Err(NIL_PANIC.into()),
        _ => Ok(Value::str(to_toml(&a[0]).unwrap_or_else(|e| e))),
    },
    fixed "mustToToml"(Any) => |_, a| match a[0] {
        Value::Nil => Err(NIL_PANIC.into()),
        _ => to_toml(&a[0]).map(Value::str),
    },
}

const NIL_PANIC: &str = "reflect: call of reflect.Value.Type on zero Value";

const INDENT: &str = "  ";

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_bare(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn key_part(key: &str) -> String {
    if is_bare(key) {
        key.to_string()
    } else {
        quoted(key)
    }
}

/// Values the encoder skips: nil, and nil maps and slices.
fn is_nil(v: &Value) -> bool {
    matches!(v, Value::Nil | Value::List(_, ElemType::NilAny))
}

/// A non-empty list whose elements are all tables is written as `[[key]]` sections. Like
/// Go's encoder, deciding that looks into nested lists too, and a nil element anywhere in
/// them is an error.
fn is_table_array(items: &[Value]) -> Result<bool, String> {
    if items.is_empty() {
        return Ok(false);
    }
    let mut all = true;
    for item in items {
        match item {
            Value::Nil | Value::List(_, ElemType::NilAny) => return Err("toml: cannot encode array with nil element".into()),
            Value::List(inner, _) => {
                is_table_array(inner)?;
                all = false;
            }
            Value::Map(_) => {}
            _ => all = false,
        }
    }
    Ok(all)
}

fn is_table(v: &Value) -> Result<bool, String> {
    Ok(match v {
        Value::Map(_) => true,
        Value::List(items, elem) if *elem != ElemType::NilAny => is_table_array(items)?,
        _ => false,
    })
}

struct Encoder {
    out: String,
}

impl Encoder {
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn indent(&mut self, key: &[String]) {
        for _ in 1..key.len() {
            self.out.push_str(INDENT);
        }
    }

    fn header(key: &[String]) -> String {
        key.iter().map(|k| key_part(k)).collect::<Vec<_>>().join(".")
    }

    fn encode(&mut self, key: &[String], v: &Value) -> Result<(), String> {
        match v {
            Value::Nil => Ok(()),
            Value::Map(m) => self.table(key, &m.borrow()),
            // A nil list is no table array; at the top it is written `[]` (in a map it is skipped).
            Value::List(items, elem) if *elem != ElemType::NilAny && is_table_array(items)? => self.table_array(key, items),
            Value::Object(o) => Err(format!("toml: unsupported type for key '{}': {}", Encoder::header(key), o.type_name())),
            other => self.key_value(key, other, false),
        }
    }

    fn key_value(&mut self, key: &[String], v: &Value, inline: bool) -> Result<(), String> {
        if key.is_empty() {
            return self.element(v);
        }
        self.indent(key);
        self.out.push_str(&key_part(&key[key.len() - 1]));
        self.out.push_str(" = ");
        self.element(v)?;
        if !inline {
            self.newline();
        }
        Ok(())
    }

    fn element(&mut self, v: &Value) -> Result<(), String> {
        match v {
            Value::Str(s) => self.out.push_str(&quoted(s)),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i, _) => self.out.push_str(&i.to_string()),
            Value::Float(f) if f.is_nan() => self.out.push_str(if f.is_sign_negative() { "-nan" } else { "nan" }),
            Value::Float(f) if f.is_infinite() => self.out.push_str(if *f < 0.0 { "-inf" } else { "inf" }),
            Value::Float(f) => {
                let text = format_float(*f, 'g', None);
                self.out.push_str(&text);
                if !text.contains(['e', '.']) {
                    self.out.push_str(".0");
                }
            }
            Value::List(items, _) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if item.is_nil() {
                        return Err("reflect: call of reflect.Value.Interface on zero Value".into());
                    }
                    self.element(item)?;
                    if i + 1 != items.len() {
                        self.out.push_str(", ");
                    }
                }
                self.out.push(']');
            }
            Value::Map(m) => self.map(&[], &m.borrow(), true)?,
            Value::Nil => return Err("reflect: call of reflect.Value.Interface on zero Value".into()),
            Value::Object(o) => return Err(format!("toml: unexpected type: {}", o.type_name())),
        }
        Ok(())
    }

    fn table(&mut self, key: &[String], m: &Map) -> Result<(), String> {
        if key.len() == 1 {
            self.newline();
        }
        if !key.is_empty() {
            self.indent(key);
            self.out.push_str(&format!("[{}]", Encoder::header(key)));
            self.newline();
        }
        self.map(key, m, false)
    }

    fn table_array(&mut self, key: &[String], items: &[Value]) -> Result<(), String> {
        if key.is_empty() {
            return Err("toml: top-level values must be Go maps or structs".into());
        }
        for item in items {
            let Value::Map(m) = item else { continue };
            self.newline();
            self.indent(key);
            self.out.push_str(&format!("[[{}]]", Encoder::header(key)));
            self.newline();
            self.map(key, &m.borrow(), false)?;
        }
        Ok(())
    }

    /// Plain keys first, then tables, each group sorted.
    fn map(&mut self, key: &[String], m: &Map, inline: bool) -> Result<(), String> {
        let (mut direct, mut sub) = (Vec::new(), Vec::new());
        for (k, v) in m {
            if is_table(v)? {
                sub.push((k, v));
            } else {
                direct.push((k, v));
            }
        }
        if inline {
            self.out.push('{');
        }
        let trailing_comma = !sub.is_empty();
        for (group, trail) in [(direct, trailing_comma), (sub, false)] {
            let count = group.len();
            for (i, (k, v)) in group.into_iter().enumerate() {
                if is_nil(v) {
                    continue;
                }
                if inline {
                    self.key_value(std::slice::from_ref(k), v, true)?;
                    if trail || i + 1 != count {
                        self.out.push_str(", ");
                    }
                } else {
                    let mut child = key.to_vec();
                    child.push(k.clone());
                    self.encode(&child, v)?;
                }
            }
        }
        if inline {
            self.out.push('}');
        }
        Ok(())
    }
}

/// The TOML text of a value, or the encoder's error.
pub fn to_toml(v: &Value) -> Result<String, String> {
    let mut enc = Encoder { out: String::new() };
    enc.encode(&[], v)?;
    Ok(enc.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_the_go_encoder() {
        let v = Value::from_json(&serde_json::json!({
            "name": "x", "n": 3, "f": 1.5, "big": 1000000, "list": [1, "a"], "none": null,
            "server": {"port": 8080, "tls": {"on": true}, "odd key": "v"},
            "items": [{"a": 1}, {"a": 2}]
        }));
        let want = "big = 1e+06\nf = 1.5\nlist = [1.0, \"a\"]\nn = 3.0\nname = \"x\"\n\n[[items]]\n  a = 1.0\n\n[[items]]\n  a = 2.0\n\n[server]\n  \"odd key\" = \"v\"\n  port = 8080.0\n  [server.tls]\n    on = true\n";
        assert_eq!(to_toml(&v).unwrap(), want);
        assert_eq!(to_toml(&Value::list(vec![Value::map(Map::new())])).unwrap_err(), "toml: top-level values must be Go maps or structs");
    }
}
