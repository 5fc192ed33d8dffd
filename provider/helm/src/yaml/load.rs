//! Reading YAML exactly like Helm does: `sigs.k8s.io/yaml.Unmarshal` (v1.6.0) on top of
//! go-yaml v2 (`go.yaml.in/yaml/v2` v2.4.2, YAML 1.1 scalar resolution).
//!
//! Go's pipeline, which this module reproduces step by step:
//! 1. go-yaml parses the *first* document into a node tree and decodes it into
//!    `interface{}` values (`map[interface{}]interface{}`, `[]interface{}`, `string`, `int`,
//!    `uint64`, `float64`, `bool`, `nil`), resolving plain scalars with YAML 1.1 rules,
//!    following aliases and applying `<<` merge keys ([`Decoder`]).
//! 2. sigs.k8s.io/yaml turns map keys into strings (`convertToJSONableObject`) and calls
//!    `json.Marshal`, then `json.Unmarshal`s the text into the caller's target
//!    ([`convert`]).
//!
//! Because of step 2 every number Helm sees is a Go `float64`. We represent it in the
//! returned `serde_json::Value` by the exact text Go's `encoding/json` prints for that
//! float64 (`1e6` -> `1000000`, `1.0` -> `1`, `1e21` -> `1e+21`, `1e-7` -> `1e-7`,
//! `2^63` -> `9223372036854775808`), so that [`super::emit::to_yaml`] and any other
//! consumer re-reading `Number::to_string()` sees what Helm's templates would see.
//!
//! Syntax is parsed with `granit_parser` (a YAML 1.2 event parser); everything above
//! the event level (tags, resolution, merges, aliases, keys, numbers, errors) follows
//! go-yaml. Error messages are shaped like go-yaml's (`yaml: line N: ...`) wrapped the
//! way sigs.k8s.io/yaml wraps them; the wording of syntax errors is a best-effort mapping.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::{Map, Number, Value};

use super::parse::{parse_first_document, Node};
use super::scalar::{format_float, resolve_with_hint, FloatFormat, Resolved};

const STR_TAG: &str = "tag:yaml.org,2002:str";
const BINARY_TAG: &str = "tag:yaml.org,2002:binary";
const MERGE_TAG: &str = "tag:yaml.org,2002:merge";
const INT_TAG: &str = "tag:yaml.org,2002:int";
const FLOAT_TAG: &str = "tag:yaml.org,2002:float";
const BOOL_TAG: &str = "tag:yaml.org,2002:bool";
const NULL_TAG: &str = "tag:yaml.org,2002:null";
const TIMESTAMP_TAG: &str = "tag:yaml.org,2002:timestamp";

// ---------------------------------------------------------------------------------------
// Errors

/// Which step of sigs.k8s.io/yaml failed; it decides how Go wraps the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// `Marshal` (toYaml): JSONToYAML errors are returned unwrapped.
    Marshal,
    /// go-yaml or the key/JSON conversion: "error converting YAML to JSON: ...".
    Convert,
    /// `json.Decoder.Decode` into the caller's type.
    Decode,
}

/// An error from reading (or, for control characters, writing) YAML.
///
/// `Display` gives exactly the text of Go's `err.Error()` for the same failure (what Helm
/// stores under `"Error"` in `fromYaml`), e.g.
/// `error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// The line go-yaml reports (`yaml: line N: ...`), when it reports one.
    pub line: Option<usize>,
    /// 1-based column of the problem when our parser knows it (go-yaml never prints it).
    pub column: Option<usize>,
    message: String,
    stage: Stage,
}

impl YamlError {
    pub(super) fn yaml(line: Option<usize>, column: Option<usize>, problem: &str) -> Self {
        let message = match line {
            Some(l) => format!("yaml: line {l}: {problem}"),
            None => format!("yaml: {problem}"),
        };
        YamlError { line, column, message, stage: Stage::Convert }
    }
    fn plain(stage: Stage, message: String) -> Self {
        YamlError { line: None, column: None, message, stage }
    }
    /// Records the 1-based column of the problem.
    pub(super) fn at_column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }
    pub(super) fn into_marshal(mut self) -> Self {
        self.stage = Stage::Marshal;
        self
    }
    /// The innermost message, as go-yaml or encoding/json produced it (`yaml: line 3: ...`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.stage {
            Stage::Marshal => f.write_str(&self.message),
            Stage::Convert => write!(f, "error converting YAML to JSON: {}", self.message),
            Stage::Decode => {
                write!(f, "error unmarshaling JSON: while decoding JSON: {}", self.message)
            }
        }
    }
}

impl std::error::Error for YamlError {}

fn fail<T>(problem: impl Into<String>) -> Result<T, YamlError> {
    Err(YamlError::yaml(None, None, &problem.into()))
}

// ---------------------------------------------------------------------------------------
// Public API

/// `sigs.k8s.io/yaml.Unmarshal(text, &v)` with `v interface{}`: the first document, numbers
/// as Go float64 text, `null` for an empty stream.
pub fn from_yaml(text: &str) -> Result<Value, YamlError> {
    match load_first_document(text)? {
        None => Ok(Value::Null),
        Some(v) => convert(&v),
    }
}

/// `sigs.k8s.io/yaml.YAMLToJSON`: how Kubernetes itself reads a YAML manifest (kubectl, the
/// API server's YAML bodies). The first document; unlike [`from_yaml`] integers stay integers,
/// since no float64 round trip follows; floats are written as Go's encoding/json writes them.
pub fn yaml_to_json(text: &str) -> Result<Value, YamlError> {
    match load_first_document(text)? {
        None => Ok(Value::Null),
        Some(v) => {
            convert(&v)?;
            Ok(to_json_keeping_integers(&v))
        }
    }
}

/// Unmarshal into `map[string]interface{}`: a top-level non-mapping is a JSON decode
/// error; `null` (empty document) leaves the map empty.
pub fn from_yaml_map(text: &str) -> Result<Map<String, Value>, YamlError> {
    decode_into(from_yaml(text)?, "map[string]interface {}")
}

/// `chartutil.ReadValues` / Helm 4 `common.ReadValues` for values.yaml: a document that
/// is not a mapping is an error, an empty document an empty map.
pub fn parse_values(text: &str) -> Result<Map<String, Value>, YamlError> {
    decode_into(from_yaml(text)?, "common.Values")
}

/// Helm's `fromYaml`: never fails; an error is stored as a string under `"Error"`.
pub fn helm_from_yaml(text: &str) -> Map<String, Value> {
    from_yaml_map(text).unwrap_or_else(|e| {
        let mut m = Map::new();
        m.insert("Error".to_owned(), Value::String(e.to_string()));
        m
    })
}

/// Unmarshal into `[]interface{}` (the typed half of Helm's `fromYamlArray`).
pub fn from_yaml_array(text: &str) -> Result<Vec<Value>, YamlError> {
    match from_yaml(text)? {
        Value::Array(a) => Ok(a),
        Value::Null => Ok(Vec::new()),
        other => Err(unmarshal_type_error(&other, "[]interface {}")),
    }
}

/// Helm's `fromYamlArray`: never fails; an error becomes the only element.
pub fn helm_from_yaml_array(text: &str) -> Vec<Value> {
    from_yaml_array(text).unwrap_or_else(|e| vec![Value::String(e.to_string())])
}

fn decode_into(v: Value, type_name: &str) -> Result<Map<String, Value>, YamlError> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        other => Err(unmarshal_type_error(&other, type_name)),
    }
}

fn unmarshal_type_error(v: &Value, type_name: &str) -> YamlError {
    let what = match v {
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        _ => "bool",
    };
    YamlError::plain(Stage::Decode, format!("json: cannot unmarshal {what} into Go value of type {type_name}"))
}

// ---------------------------------------------------------------------------------------
// Decoding: go-yaml's decoder into interface{} values.

/// A Go value as go-yaml leaves it in an `interface{}`.
#[derive(Debug, Clone)]
enum GoValue {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    Seq(Vec<GoValue>),
    Map(GoMap),
}

/// `map[interface{}]interface{}`: insertion-ordered, with Go key equality.
#[derive(Debug, Clone, Default)]
struct GoMap {
    entries: Vec<(GoValue, GoValue)>,
    index: HashMap<KeyId, usize>,
}

/// Hashable identity of a Go map key (type + value; +0 and -0 are one float key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyId {
    Nil,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(u64),
    Str(String),
}

impl GoMap {
    /// `m[k] = v`. NaN keys never compare equal, so each one adds an entry, as in Go.
    fn set(&mut self, k: GoValue, v: GoValue) {
        let id = match &k {
            GoValue::Nil => KeyId::Nil,
            GoValue::Bool(b) => KeyId::Bool(*b),
            GoValue::Int(i) => KeyId::Int(*i),
            GoValue::Uint(u) => KeyId::Uint(*u),
            GoValue::Float(f) if f.is_nan() => {
                self.entries.push((k, v));
                return;
            }
            GoValue::Float(f) => KeyId::Float(if *f == 0.0 { 0 } else { f.to_bits() }),
            GoValue::Str(s) => KeyId::Str(s.clone()),
            GoValue::Seq(_) | GoValue::Map(_) => unreachable!("rejected as invalid map key"),
        };
        match self.index.get(&id) {
            // Go rewrites the stored key too (it matters for -0 vs +0).
            Some(&i) => self.entries[i] = (k, v),
            None => {
                self.index.insert(id, self.entries.len());
                self.entries.push((k, v));
            }
        }
    }
}

fn load_first_document(text: &str) -> Result<Option<GoValue>, YamlError> {
    let Some(doc) = parse_first_document(text)? else { return Ok(None) };
    let (nodes, root) = (doc.nodes, doc.root);
    let mut d = Decoder { nodes: &nodes, decode_count: 1, alias_count: 0, alias_depth: 0, active: HashSet::new() };
    d.value(root).map(Some)
}

struct Decoder<'a> {
    nodes: &'a [Node],
    // go-yaml's billion-laughs guard works on these counters; the document node
    // itself counts as the first decode.
    decode_count: u64,
    alias_count: u64,
    alias_depth: u32,
    /// Alias nodes being expanded (to detect an anchor containing itself).
    active: HashSet<usize>,
}

impl Decoder<'_> {
    /// Bookkeeping done at the top of every go-yaml `d.unmarshal` call.
    fn count(&mut self) -> Result<(), YamlError> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        if self.alias_count > 100 && self.decode_count > 1000 {
            let (low, high) = (400_000.0, 4_000_000.0);
            let dc = self.decode_count as f64;
            let allowed = if dc <= low {
                0.99
            } else if dc >= high {
                0.10
            } else {
                0.99 - 0.89 * ((dc - low) / (high - low))
            };
            if self.alias_count as f64 / dc > allowed {
                return fail("document contains excessive aliasing");
            }
        }
        Ok(())
    }

    /// Expands an alias node with go-yaml's cycle check, running `f` on the target.
    fn alias<T>(&mut self, n: usize, f: impl FnOnce(&mut Self, usize) -> Result<T, YamlError>) -> Result<T, YamlError> {
        let Node::Alias { target, name } = &self.nodes[n] else { unreachable!() };
        if !self.active.insert(n) {
            return fail(format!("anchor '{name}' value contains itself"));
        }
        self.alias_depth += 1;
        let r = f(self, *target);
        self.alias_depth -= 1;
        self.active.remove(&n);
        r
    }

    /// Decode node `n` into a fresh `interface{}`.
    fn value(&mut self, n: usize) -> Result<GoValue, YamlError> {
        self.count()?;
        match &self.nodes[n] {
            Node::Alias { .. } => self.alias(n, Self::value),
            Node::Scalar { value, tag, implicit } => scalar(value, tag, *implicit),
            Node::Seq(children) => {
                let mut out = Vec::with_capacity(children.len());
                for &c in children {
                    out.push(self.value(c)?);
                }
                Ok(GoValue::Seq(out))
            }
            Node::Map(_) => {
                let mut m = GoMap::default();
                self.mapping_into(n, &mut m)?;
                Ok(GoValue::Map(m))
            }
        }
    }

    /// Decode node `n` (a mapping, or an alias of one) into an existing map, as merges do.
    fn merge_into(&mut self, n: usize, out: &mut GoMap) -> Result<(), YamlError> {
        self.count()?;
        match &self.nodes[n] {
            Node::Alias { .. } => self.alias(n, |d, t| d.merge_into(t, out)),
            Node::Map(_) => self.mapping_into(n, out),
            _ => unreachable!("merge sources are checked to be mappings"),
        }
    }

    fn mapping_into(&mut self, n: usize, out: &mut GoMap) -> Result<(), YamlError> {
        let Node::Map(children) = &self.nodes[n] else { unreachable!() };
        for pair in children.chunks(2) {
            let (k, v) = (pair[0], pair[1]);
            if self.is_merge(k) {
                self.merge(v, out)?;
                continue;
            }
            let key = self.value(k)?;
            if matches!(key, GoValue::Seq(_) | GoValue::Map(_)) {
                return fail(format!("invalid map key: {}", go_repr(&key)));
            }
            let value = self.value(v)?;
            out.set(key, value);
        }
        Ok(())
    }

    fn is_merge(&self, n: usize) -> bool {
        matches!(&self.nodes[n], Node::Scalar { value, tag, implicit }
            if value == "<<" && (*implicit || tag == MERGE_TAG))
    }

    fn merge(&mut self, n: usize, out: &mut GoMap) -> Result<(), YamlError> {
        const WANT_MAP: &str = "map merge requires map or sequence of maps as the value";
        let is_map = |d: &Self, i: usize| match &d.nodes[i] {
            Node::Map(_) => true,
            Node::Alias { target, .. } => matches!(d.nodes[*target], Node::Map(_)),
            _ => false,
        };
        match &self.nodes[n] {
            Node::Map(_) | Node::Alias { .. } if is_map(self, n) => self.merge_into(n, out),
            Node::Seq(items) => {
                // Backwards, so that earlier maps win.
                for &item in items.iter().rev() {
                    if !is_map(self, item) {
                        return fail(WANT_MAP);
                    }
                    self.merge_into(item, out)?;
                }
                Ok(())
            }
            _ => fail(WANT_MAP),
        }
    }
}

/// go-yaml's `d.scalar` for an `interface{}` target.
fn scalar(value: &str, tag: &str, implicit: bool) -> Result<GoValue, YamlError> {
    if tag.is_empty() && !implicit {
        return Ok(GoValue::Str(value.to_owned())); // quoted or block scalar
    }
    let resolvable = matches!(tag, "" | STR_TAG | BOOL_TAG | INT_TAG | FLOAT_TAG | NULL_TAG | TIMESTAMP_TAG);
    if !resolvable {
        if tag == BINARY_TAG {
            return match base64_decode(value) {
                Some(bytes) => Ok(GoValue::Str(go_lossy_utf8(&bytes))),
                None => fail("!!binary value contains invalid base64 data"),
            };
        }
        return Ok(GoValue::Str(value.to_owned())); // custom tags: kept as text
    }
    let r = if tag == STR_TAG { Resolved::Str } else { resolve_with_hint(value, tag.is_empty() || tag == TIMESTAMP_TAG) };
    let rtag = match r {
        Resolved::Null => NULL_TAG,
        Resolved::Bool(_) => BOOL_TAG,
        Resolved::Int(_) | Resolved::Uint(_) => INT_TAG,
        Resolved::Float(_) => FLOAT_TAG,
        Resolved::Timestamp => TIMESTAMP_TAG,
        Resolved::Str => STR_TAG,
    };
    let mut r = r;
    if !tag.is_empty() && tag != rtag && tag != STR_TAG {
        // An !!float tag turns a resolved int (but not a uint64) into a float.
        match r {
            Resolved::Int(i) if tag == FLOAT_TAG => r = Resolved::Float(i as f64),
            _ => {
                let short = |t: &str| format!("!!{}", &t["tag:yaml.org,2002:".len()..]);
                return fail(format!("cannot decode {} `{value}` as a {}", short(rtag), short(tag)));
            }
        }
    }
    Ok(match r {
        Resolved::Null => GoValue::Nil,
        Resolved::Bool(b) => GoValue::Bool(b),
        Resolved::Int(i) => GoValue::Int(i),
        Resolved::Uint(u) => GoValue::Uint(u),
        Resolved::Float(f) => GoValue::Float(f),
        Resolved::Timestamp | Resolved::Str => GoValue::Str(value.to_owned()),
    })
}

/// Go's `base64.StdEncoding.DecodeString`: padded alphabet, `\r`/`\n` ignored.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let sym: Vec<u8> = s.bytes().filter(|&b| b != b'\r' && b != b'\n').collect();
    if !sym.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(sym.len() / 4 * 3);
    for (qi, quad) in sym.chunks(4).enumerate() {
        let last = qi + 1 == sym.len() / 4;
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n: u32 = 0;
        for &c in &quad[..4 - pad] {
            n = (n << 6) | u32::from(val(c)?);
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// How encoding/json writes a Go string holding invalid UTF-8: one U+FFFD per bad byte.
fn go_lossy_utf8(mut bytes: &[u8]) -> String {
    let mut s = String::new();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(rest) => return s + rest,
            Err(e) => {
                let (good, bad) = bytes.split_at(e.valid_up_to());
                s.push_str(std::str::from_utf8(good).unwrap_or_default());
                s.push('\u{FFFD}');
                bytes = &bad[1..];
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// sigs.k8s.io/yaml's conversion to JSON, then json.Unmarshal into interface{}.

fn convert(v: &GoValue) -> Result<Value, YamlError> {
    check_keys(v)?;
    if let Some(f) = first_non_finite(v) {
        let text = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return Err(YamlError::plain(Stage::Convert, format!("json: unsupported value: {text}")));
    }
    Ok(to_json(v))
}

/// The string a map key becomes (`convertToJSONableObject`), or `None` if unsupported.
fn key_string(k: &GoValue) -> Option<String> {
    match k {
        GoValue::Str(s) => Some(s.clone()),
        GoValue::Int(i) => Some(i.to_string()),
        // Go formats float keys as float32 (FormatFloat(k, 'g', -1, 32)).
        GoValue::Float(f) => Some(float_key(*f)),
        GoValue::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn float_key(f: f64) -> String {
    let f32v = f as f32;
    if f32v.is_nan() {
        ".nan".to_owned()
    } else if f32v.is_infinite() {
        if f32v > 0.0 { ".inf" } else { "-.inf" }.to_owned()
    } else {
        format_float(f64::from(f32v), FloatFormat::G32)
    }
}

fn check_keys(v: &GoValue) -> Result<(), YamlError> {
    match v {
        GoValue::Map(m) => {
            for (k, val) in &m.entries {
                if key_string(k).is_none() {
                    let ty = if matches!(k, GoValue::Nil) { "%!s(<nil>)" } else { "uint64" };
                    return Err(YamlError::plain(
                        Stage::Convert,
                        format!("unsupported map key of type: {ty}, key: {}, value: {}", go_repr(k), go_repr(val)),
                    ));
                }
                check_keys(val)?;
            }
            Ok(())
        }
        GoValue::Seq(items) => items.iter().try_for_each(check_keys),
        _ => Ok(()),
    }
}

/// The first NaN/Inf json.Marshal would hit (it walks map keys in sorted order).
fn first_non_finite(v: &GoValue) -> Option<f64> {
    match v {
        GoValue::Float(f) if !f.is_finite() => Some(*f),
        GoValue::Seq(items) => items.iter().find_map(first_non_finite),
        GoValue::Map(m) => {
            let mut last: HashMap<String, &GoValue> = HashMap::new();
            for (k, val) in &m.entries {
                last.insert(key_string(k).unwrap_or_default(), val);
            }
            let mut keys: Vec<_> = last.into_iter().collect();
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            keys.into_iter().find_map(|(_, val)| first_non_finite(val))
        }
        _ => None,
    }
}

/// The JSON value after the float64 round trip. Duplicate key strings (`1` and `"1"`):
/// Go keeps one of them at random; we keep the last one in document order.
fn to_json(v: &GoValue) -> Value {
    let num = |f: f64| Value::Number(go_json_number(f));
    match v {
        GoValue::Nil => Value::Null,
        GoValue::Bool(b) => Value::Bool(*b),
        GoValue::Int(i) => num(*i as f64),
        GoValue::Uint(u) => num(*u as f64),
        GoValue::Float(f) => num(*f),
        GoValue::Str(s) => Value::String(s.clone()),
        GoValue::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        GoValue::Map(m) => {
            let mut out = Map::new();
            for (k, val) in &m.entries {
                out.insert(key_string(k).unwrap_or_default(), to_json(val));
            }
            Value::Object(out)
        }
    }
}

/// [`to_json`] for `YAMLToJSON`: integers as integers.
fn to_json_keeping_integers(v: &GoValue) -> Value {
    match v {
        GoValue::Int(i) => Value::Number((*i).into()),
        GoValue::Uint(u) => Value::Number((*u).into()),
        GoValue::Seq(items) => Value::Array(items.iter().map(to_json_keeping_integers).collect()),
        GoValue::Map(m) => {
            let mut out = Map::new();
            for (k, val) in &m.entries {
                out.insert(key_string(k).unwrap_or_default(), to_json_keeping_integers(val));
            }
            Value::Object(out)
        }
        other => to_json(other),
    }
}

/// A serde_json number holding the text Go's encoding/json writes for a float64.
fn go_json_number(f: f64) -> Number {
    let text = format_float(f, FloatFormat::Json);
    serde_json::from_str(&text).expect("Go's float text is valid JSON")
}

/// Go's `%#v` of a decoded value, as used in a few go-yaml / sigs error messages.
fn go_repr(v: &GoValue) -> String {
    match v {
        GoValue::Nil => "<nil>".to_owned(),
        GoValue::Bool(b) => b.to_string(),
        GoValue::Int(i) => i.to_string(),
        GoValue::Uint(u) => format!("0x{u:x}"),
        GoValue::Float(f) => format_float(*f, FloatFormat::G64),
        GoValue::Str(s) => go_quote(s),
        GoValue::Seq(items) => {
            let inner: Vec<String> = items.iter().map(go_repr).collect();
            format!("[]interface {{}}{{{}}}", inner.join(", "))
        }
        GoValue::Map(m) => {
            // fmt prints maps sorted by key.
            let mut inner: Vec<(String, String)> = m.entries.iter().map(|(k, v)| (go_repr(k), go_repr(v))).collect();
            inner.sort();
            let inner: Vec<String> = inner.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("map[interface {{}}]interface {{}}{{{}}}", inner.join(", "))
        }
    }
}

/// Approximately Go's `strconv.Quote`.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() || (c.is_whitespace() && c != ' ') || c == '\u{feff}' => {
                let n = c as u32;
                out.push_str(&if n > 0xFFFF { format!("\\U{n:08x}") } else { format!("\\u{n:04x}") });
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (YAML input, Go's sigs.k8s.io/yaml.Unmarshal into interface{} as JSON, or its error).
    #[rustfmt::skip]
    const CASES: &[(&str, Result<&str, &str>)] = &[
        ("", Ok("null")),
        ("# just a comment\n", Ok("null")),
        ("---\n", Ok("null")),
        ("a: 1\n---\nb: 2\n", Ok("{\"a\":1}")),
        ("~\n", Ok("null")),
        ("- 1\n- 2\n", Ok("[1,2]")),
        ("a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: n\ng: True\nh: nO\n", Ok("{\"a\":true,\"b\":false,\"c\":true,\"d\":false,\"e\":true,\"f\":false,\"g\":true,\"h\":\"nO\"}")),
        ("a: 0x1F\nb: 0o17\nc: 017\nd: 0b101\ne: 1_000\nf: +12\ng: -0\nh: 08\ni: 0b-11\n", Ok("{\"a\":31,\"b\":15,\"c\":15,\"d\":5,\"e\":1000,\"f\":12,\"g\":0,\"h\":8,\"i\":-3}")),
        ("a: 1e3\nb: .5\nc: 1.0\nd: 1e21\ne: 1e-7\nf: -0.0\ng: 123456789012345678901234\nh: 9007199254740993\ni: 1e400\nj: 0.1\n", Ok("{\"a\":1000,\"b\":0.5,\"c\":1,\"d\":1e+21,\"e\":1e-7,\"f\":-0,\"g\":1.2345678901234569e+23,\"h\":9007199254740992,\"i\":\"1e400\",\"j\":0.1}")),
        ("a: .inf\n", Err("error converting YAML to JSON: json: unsupported value: +Inf")),
        ("a: [.nan]\n", Err("error converting YAML to JSON: json: unsupported value: NaN")),
        ("a: ~\nb: null\nc:\nd: Null\ne: NULL\n", Ok("{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null}")),
        ("a: 2001-12-14\nb: 2001-12-14T21:59:43Z\nc: 1:30\nd: 2002-2-29\n", Ok("{\"a\":\"2001-12-14\",\"b\":\"2001-12-14T21:59:43Z\",\"c\":\"1:30\",\"d\":\"2002-2-29\"}")),
        ("1: a\n2.5: b\ntrue: c\n0x10: d\n3.14159265358979: e\n1e10: f\n-0.0: g\n.inf: h\n", Ok("{\"-0\":\"g\",\".inf\":\"h\",\"1\":\"a\",\"16\":\"d\",\"1e+10\":\"f\",\"2.5\":\"b\",\"3.1415927\":\"e\",\"true\":\"c\"}")),
        ("~: a\n", Err("error converting YAML to JSON: unsupported map key of type: %!s(<nil>), key: <nil>, value: \"a\"")),
        ("18446744073709551615: a\n", Err("error converting YAML to JSON: unsupported map key of type: uint64, key: 0xffffffffffffffff, value: \"a\"")),
        ("? [a]\n: b\n", Err("error converting YAML to JSON: yaml: invalid map key: []interface {}{\"a\"}")),
        ("'1': a\n", Ok("{\"1\":\"a\"}")),
        ("base: &b\n  x: 1\n  y: 2\nderived:\n  <<: *b\n  y: 3\n", Ok("{\"base\":{\"true\":2,\"x\":1},\"derived\":{\"true\":3,\"x\":1}}")),
        ("a: 1\n<<: {a: 2, b: 3}\n", Ok("{\"a\":2,\"b\":3}")),
        ("<<: [{a: 1}, {a: 2, b: 2}]\nc: 3\n", Ok("{\"a\":1,\"b\":2,\"c\":3}")),
        ("<<: 1\n", Err("error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value")),
        ("<<: [1]\n", Err("error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value")),
        ("'<<': {a: 1}\n", Ok("{\"\\u003c\\u003c\":{\"a\":1}}")),
        ("a: &a [*a]\n", Err("error converting YAML to JSON: yaml: anchor 'a' value contains itself")),
        ("a: *unknown\n", Err("error converting YAML to JSON: yaml: unknown anchor 'unknown' referenced")),
        ("a: &x 1\nb: *x\nc: &x 2\nd: *x\n", Ok("{\"a\":1,\"b\":1,\"c\":2,\"d\":2}")),
        ("a: !!str 1\nb: !!int \"2\"\nc: !!float 3\nd: !custom 4\ne: ! 5\nf: !!binary aGVsbG8=\ng: !!bool yes\n", Ok("{\"a\":\"1\",\"b\":2,\"c\":3,\"d\":\"4\",\"e\":\"5\",\"f\":\"hello\",\"g\":true}")),
        ("a: !!int x\n", Err("error converting YAML to JSON: yaml: cannot decode !!str `x` as a !!int")),
        ("a: !!float 18446744073709551615\n", Err("error converting YAML to JSON: yaml: cannot decode !!int `18446744073709551615` as a !!float")),
        ("a: !!binary '!!'\n", Err("error converting YAML to JSON: yaml: !!binary value contains invalid base64 data")),
        ("a: !!str\n", Ok("{\"a\":\"\"}")),
        ("a: |\n  line1\n  line2\nb: >\n  folded\n  text\n\n  para\nc: |-\n  x\nd: |+\n  x\n\ne: x\n", Ok("{\"a\":\"line1\\nline2\\n\",\"b\":\"folded text\\npara\\n\",\"c\":\"x\",\"d\":\"x\\n\\n\",\"e\":\"x\"}")),
        ("a: \"esc\\n\\t\\u00e9\\x41\\U0001F600\\'\\N\"\nb: 'it''s'\nc: plain\n  continued\n", Ok("{\"a\":\"esc\\n\\téA😀'\u{85}\",\"b\":\"it's\",\"c\":\"plain continued\"}")),
        ("a: b: c\n", Err("error converting YAML to JSON: yaml: mapping values are not allowed in this context")),
        ("a: [1, 2\n", Err("error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'")),
        ("a:\n  b: 1\n c: 2\n", Err("error converting YAML to JSON: yaml: line 2: did not find expected key")),
        ("\ta: 1\n", Err("error converting YAML to JSON: yaml: found character that cannot start any token")),
        ("a: \"\\/\"\n", Err("error converting YAML to JSON: yaml: found unknown escape character")),
        ("key: value\n  bad: 1\n", Err("error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context")),
        ("a: 'x\u{85}  y'\n", Ok("{\"a\":\"x y\"}")),
        ("a: \"x\u{2028}  y\"\n", Ok("{\"a\":\"x\\u2028y\"}")),
        ("a: |\n  x\u{2028}y\n", Err("error converting YAML to JSON: yaml: line 4: could not find expected ':'")),
        ("a: 1\u{7f}\n", Err("error converting YAML to JSON: yaml: control characters are not allowed")),
    ];

    #[test]
    fn unmarshal_matches_go() {
        for (input, want) in CASES {
            match (from_yaml(input), want) {
                (Ok(v), Ok(w)) => assert_eq!(v, serde_json::from_str::<Value>(w).unwrap(), "input: {input:?}"),
                (Err(e), Err(w)) => assert_eq!(e.to_string(), *w, "input: {input:?}"),
                (got, _) => panic!("input {input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn numbers_are_go_float64_text() {
        let v = from_yaml("a: 1e6\nb: 1.0\nc: 1e21\nd: 12345678901234567890\ne: 0.000001\n").unwrap();
        let text: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|k| v[k].to_string()).collect();
        assert_eq!(text, ["1000000", "1", "1e+21", "12345678901234567000", "0.000001"]);
    }

    #[test]
    fn helm_entry_points() {
        assert_eq!(parse_values("").unwrap(), Map::new());
        assert_eq!(parse_values("# nothing\n").unwrap(), Map::new());
        assert_eq!(parse_values("a: 1\n").unwrap()["a"], serde_json::json!(1));
        let e = parse_values("- a\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type common.Values"
        );
        let m = helm_from_yaml("a: [1\n");
        assert_eq!(m["Error"], "error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'");
        assert_eq!(
            helm_from_yaml("x"),
            serde_json::from_str::<Map<String, Value>>(
                r#"{"Error":"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go value of type map[string]interface {}"}"#
            )
            .unwrap()
        );
        assert_eq!(helm_from_yaml_array("- a\n- 1\n"), vec![Value::from("a"), serde_json::json!(1)]);
        assert_eq!(helm_from_yaml_array(""), Vec::<Value>::new());
        assert_eq!(
            helm_from_yaml_array("a: 1"),
            vec![Value::from(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal object into Go value of type []interface {}"
            )]
        );
    }

    #[test]
    fn errors_carry_line_and_column() {
        let e = from_yaml("a: 1\n\t\nb: 2\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(1)));
        assert_eq!(e.message(), "yaml: line 2: found a tab character that violates indentation");
    }

    #[test]
    fn nesting_is_limited_to_1000_levels() {
        let nested = |n: usize| "[".repeat(n) + &"]".repeat(n);
        assert!(from_yaml(&nested(1000)).is_ok());
        let e = from_yaml(&nested(1001)).unwrap_err();
        assert_eq!(e.to_string(), "error converting YAML to JSON: yaml: exceeded max depth of 1000");
        let mut v = Value::Null;
        for _ in 0..1000 {
            v = Value::Array(vec![v]);
        }
        assert!(super::super::emit::marshal(&v).is_ok());
        let v = Value::Array(vec![v]);
        assert_eq!(super::super::emit::marshal(&v).unwrap_err().to_string(), "yaml: exceeded max depth of 1000");
    }

    #[test]
    fn excessive_aliasing_is_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            doc.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let e = from_yaml(&doc).unwrap_err();
        assert_eq!(e.to_string(), "error converting YAML to JSON: yaml: document contains excessive aliasing");
    }

    #[test]
    fn yaml_to_json_reads_as_kubernetes_does() {
        // YAML 1.1 as go-yaml v2 resolves it, integers kept exact (no float64 round trip).
        let text = "on: yes\nmode: 0644\nbig: 9007199254740993\nf: 1e6\ns: '0644'\n";
        let json = yaml_to_json(text).unwrap().to_string();
        assert_eq!(json, r#"{"true":true,"mode":420,"big":9007199254740993,"f":1000000,"s":"0644"}"#);
        assert_eq!(yaml_to_json("").unwrap(), Value::Null);
        assert!(yaml_to_json("a: [unclosed\n").unwrap_err().line.is_some());
    }
}
