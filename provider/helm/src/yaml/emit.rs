//! Helm's `toYaml`, byte for byte: Go's `sigs.k8s.io/yaml.Marshal` (v1.6.0) on top of
//! go-yaml v2 (`go.yaml.in/yaml/v2` v2.4.2).
//!
//! Marshal is `json.Marshal` followed by `JSONToYAML`, which re-reads the JSON text with
//! go-yaml into `interface{}` values and marshals those with go-yaml. So:
//! * every map is sorted with go-yaml's key sorter (`sort.rs`: digit runs compare
//!   numerically, letters sort after other characters);
//! * a number is whatever go-yaml resolves its JSON text to: an `int` (i64), a `uint64`,
//!   a `float64` printed with `strconv.FormatFloat(f, 'g', -1, 64)` (`1e+06`, `1.5`, and
//!   `1.0` becomes `1`), or, when even that overflows (`1e400`), a plain string;
//! * strings are quoted exactly when go-yaml would: when they would resolve to something
//!   else (YAML 1.1 `yes`/`no`/`on`/`off`, `~`, numbers, `0x1F`, timestamps, base-60
//!   `1:30`...) they are double-quoted; multi-line strings use the literal style; the
//!   emitter's own analysis may still force single or double quotes;
//! * the libyaml-derived emitter ([`Emitter`]) is ported closely, including its 80-column
//!   folding of long plain and quoted scalars and its quirks (`key:\n- item` sequences,
//!   `\U0001F600` escapes for characters outside the BMP, 128-byte simple keys).
//!
//! Re-reading the JSON text also has side effects ([`JsonReread`]): a raw U+0085 (NEL)
//! in a string is folded like a line break. And it can fail, in which case `Marshal`
//! returns an error and Helm's `toYaml` prints nothing: a control character json.Marshal
//! leaves unescaped (U+007F, C1 controls but U+0085, U+FFFE, U+FFFF), a key containing
//! NEL or longer than 1024 characters as JSON text, `---`/`...` right after a NEL, and
//! (our own limit) nesting deeper than 1000 levels.

use serde_json::Value;

use super::load::YamlError;
use super::parse::is_reader_control;
use super::scalar::{format_float, is_base60_float, resolve_plain, FloatFormat, Resolved};
use super::sort::sorted_entries;

/// go-yaml's emitter defaults: `best_width` 80 and `best_indent` 2.
const BEST_WIDTH: usize = 80;
const BEST_INDENT: i64 = 2;

/// Go's `yaml.Marshal(v)`: the YAML text, ending with a newline.
pub fn marshal(value: &Value) -> Result<String, YamlError> {
    if depth(value) > MAX_DEPTH {
        let p = format!("exceeded max depth of {MAX_DEPTH}");
        return Err(YamlError::yaml(None, None, &p).into_marshal());
    }
    if has_reader_control(value) {
        return Err(YamlError::yaml(None, None, "control characters are not allowed").into_marshal());
    }
    let reread = if needs_reread(value) { JsonReread { lines: 0 }.value(value).map_err(YamlError::into_marshal)? } else { None };
    let value = reread.as_ref().unwrap_or(value);
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
        mapping_context: false,
        simple_key_context: false,
    };
    e.node(value, false, false);
    e.write_indent(); // DOCUMENT-END
    Ok(e.out)
}

/// What `sigs.k8s.io/yaml.Marshal` returns as text: empty on error.
pub fn to_yaml(value: &Value) -> String {
    marshal(value).unwrap_or_default()
}

/// Helm's `toYaml`: [`to_yaml`] with one trailing newline removed.
pub fn helm_to_yaml(value: &Value) -> String {
    let mut s = to_yaml(value);
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

/// Nesting beyond this is refused (Go has no limit here, but our recursion needs one).
pub(super) const MAX_DEPTH: usize = 1000;

/// Nesting depth, walked without recursion.
fn depth(v: &Value) -> usize {
    let (mut max, mut stack) = (0, vec![(v, 0)]);
    while let Some((v, d)) = stack.pop() {
        max = max.max(d);
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, d + 1))),
            Value::Object(m) => stack.extend(m.values().map(|c| (c, d + 1))),
            _ => {}
        }
    }
    max
}

/// Characters below U+0020 are escaped by json.Marshal, so only the others can reach
/// go-yaml's reader raw.
fn has_reader_control(v: &Value) -> bool {
    let bad = |s: &str| s.chars().any(|c| c >= ' ' && is_reader_control(c));
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if bad(s) => return true,
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => {
                if m.keys().any(|k| bad(k)) {
                    return true;
                }
                stack.extend(m.values());
            }
            _ => {}
        }
    }
    false
}

/// Whether [`JsonReread`] can change anything (a NEL somewhere, or a very long key);
/// walked without recursion since it runs on every value.
fn needs_reread(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if s.contains('\u{85}') => return true,
            Value::Array(a) => stack.extend(a),
            Value::Object(m) => {
                if m.keys().any(|k| k.contains('\u{85}') || (k.len() > 170 && json_len(k) > 1024)) {
                    return true;
                }
                stack.extend(m.values());
            }
            _ => {}
        }
    }
    false
}

/// go-yaml reading the one-line text of `json.Marshal` back. It agrees with JSON except
/// for two things, both caused by U+0085 (NEL), which json.Marshal leaves raw but YAML 1.1
/// treats as a line break, and by YAML's limit on implicit keys:
/// * inside a double-quoted scalar a NEL is folded like any line break (spaces around it
///   vanish, one break becomes a space, n breaks become n-1 newlines), and `---`/`...`
///   right after one is a document marker, which is an error;
/// * a key spanning two lines, or longer than 1024 characters as JSON text, is not a
///   simple key any more, and the flow mapping fails to parse.
struct JsonReread {
    /// Lines go-yaml has counted so far (one per NEL).
    lines: usize,
}

impl JsonReread {
    /// Returns the value as go-yaml reads it, or `None` when it is unchanged.
    fn value(&mut self, v: &Value) -> Result<Option<Value>, YamlError> {
        Ok(match v {
            Value::String(s) => self.string(s)?.map(Value::String),
            Value::Array(items) => {
                let mut changed: Vec<Option<Value>> = Vec::with_capacity(items.len());
                for item in items {
                    changed.push(self.value(item)?);
                }
                changed.iter().any(Option::is_some).then(|| {
                    let pairs = items.iter().zip(changed);
                    Value::Array(pairs.map(|(old, new)| new.unwrap_or_else(|| old.clone())).collect())
                })
            }
            Value::Object(m) => {
                // json.Marshal writes keys in byte order.
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut changed = Vec::new();
                for k in keys {
                    self.string(k)?;
                    if k.contains('\u{85}') || json_len(k) > 1024 {
                        let line = (self.lines > 0).then_some(self.lines);
                        return Err(YamlError::yaml(line, None, "did not find expected ',' or '}'"));
                    }
                    if let Some(new) = self.value(&m[k])? {
                        changed.push((k.clone(), new));
                    }
                }
                (!changed.is_empty()).then(|| {
                    let mut m = m.clone();
                    for (k, new) in changed {
                        m[&k] = new;
                    }
                    Value::Object(m)
                })
            }
            _ => None,
        })
    }

    /// go-yaml's double-quoted scalar scanner, reduced to what can occur in JSON text:
    /// the only blank is a raw space and the only line break a raw NEL.
    fn string(&mut self, s: &str) -> Result<Option<String>, YamlError> {
        if !s.contains('\u{85}') {
            return Ok(None);
        }
        let chars: Vec<char> = s.chars().collect();
        let (mut out, mut i, mut line_start) = (String::new(), 0, false);
        loop {
            if line_start {
                let rest = &chars[i..];
                let marker = rest.starts_with(&['-', '-', '-']) || rest.starts_with(&['.', '.', '.']);
                if marker && matches!(rest.get(3), Some(' ' | '\u{85}')) {
                    let line = Some(self.lines + 1);
                    return Err(YamlError::yaml(line, None, "found unexpected document indicator"));
                }
            }
            while i < chars.len() && chars[i] != ' ' && chars[i] != '\u{85}' {
                out.push(chars[i]);
                i += 1;
            }
            if i == chars.len() {
                return Ok(Some(out));
            }
            let (mut spaces, mut breaks) = (String::new(), 0);
            while i < chars.len() && (chars[i] == ' ' || chars[i] == '\u{85}') {
                if chars[i] == ' ' {
                    if breaks == 0 {
                        spaces.push(' ');
                    }
                    line_start = false;
                } else {
                    breaks += 1;
                    self.lines += 1;
                    line_start = true;
                }
                i += 1;
            }
            match breaks {
                0 => out.push_str(&spaces),
                1 => out.push(' '),
                n => out.extend(std::iter::repeat_n('\n', n - 1)),
            }
        }
    }
}

/// Length in characters of a string as json.Marshal writes it, quotes included.
fn json_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
            '\0'..='\u{1f}' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => 6,
            _ => 1,
        })
        .sum::<usize>()
}

// ---------------------------------------------------------------------------------------
// The emitter (a port of the relevant parts of go-yaml's emitterc.go).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// yaml_emitter_analyze_scalar's verdict.
#[derive(Debug, Default)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

struct Emitter {
    out: String,
    /// Characters (not bytes) since the last line break.
    column: usize,
    indent: i64,
    indents: Vec<i64>,
    /// The last thing written was whitespace (no separator needed).
    whitespace: bool,
    /// Only indentation has been written on the current line.
    indention: bool,
    mapping_context: bool,
    simple_key_context: bool,
}

impl Emitter {
    /// yaml_emitter_emit_node. Flow collections only ever appear empty here (`[]`, `{}`),
    /// because go-yaml uses block style for everything else, so the flow level is always
    /// zero whenever a scalar is written.
    fn node(&mut self, v: &Value, mapping: bool, simple_key: bool) {
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match v {
            Value::Null => self.scalar("null", Style::Plain),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain),
            Value::Number(n) => self.number(n),
            Value::String(s) => self.string(s),
            Value::Array(items) if items.is_empty() => self.empty_flow("[", "]"),
            Value::Object(m) if m.is_empty() => self.empty_flow("{", "}"),
            Value::Array(items) => self.sequence(items),
            Value::Object(m) => self.mapping(m),
        }
    }

    /// A number is what go-yaml resolves its JSON text to.
    fn number(&mut self, n: &serde_json::Number) {
        let text = n.to_string();
        match resolve_plain(&text) {
            Resolved::Int(i) => self.scalar(&i.to_string(), Style::Plain),
            Resolved::Uint(u) => self.scalar(&u.to_string(), Style::Plain),
            Resolved::Float(f) => self.scalar(&format_float(f, FloatFormat::G64), Style::Plain),
            // Out of float64 range (1e400): go-yaml keeps the text as a string.
            _ => self.string(&text),
        }
    }

    fn sequence(&mut self, items: &[Value]) {
        // Under a mapping key, the `- ` entries are not indented (`key:\n- a`).
        let indentless = self.mapping_context && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, false, false);
        }
        self.pop_indent();
    }

    fn mapping(&mut self, m: &serde_json::Map<String, Value>) {
        self.increase_indent(false, false);
        for (k, v) in sorted_entries(m) {
            self.write_indent();
            let a = analyze(k);
            if !a.multiline && k.len() <= 128 {
                // Simple key: `key: value`.
                self.node_str(k, true);
                self.write_indicator(":", false, false, false);
            } else {
                // Complex key: `? key` then `: value` on its own line.
                self.write_indicator("?", true, false, true);
                self.node_str(k, false);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(v, true, false);
        }
        self.pop_indent();
    }

    fn node_str(&mut self, s: &str, simple_key: bool) {
        self.mapping_context = true;
        self.simple_key_context = simple_key;
        self.string(s);
    }

    /// go-yaml's encoder (stringv): the requested style, before the emitter's analysis.
    fn string(&mut self, s: &str) {
        let can_plain = resolve_plain(s) == Resolved::Str && !is_base60_float(s);
        let style = if s.contains('\n') {
            Style::Literal
        } else if can_plain {
            Style::Plain
        } else {
            Style::DoubleQuoted
        };
        self.scalar(s, style);
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    /// yaml_emitter_emit_scalar: pick the final style, then write.
    fn scalar(&mut self, value: &str, requested: Style) {
        let a = analyze(value);
        let mut style = requested;
        if self.simple_key_context && a.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain && (!a.block_plain_allowed || (value.is_empty() && self.simple_key_context)) {
            style = Style::SingleQuoted;
        }
        if style == Style::SingleQuoted && !a.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal && (!a.block_allowed || self.simple_key_context) {
            style = Style::DoubleQuoted;
        }
        self.increase_indent(true, false);
        let allow_breaks = !self.simple_key_context;
        match style {
            Style::Plain => self.write_plain(value, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(value, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(value, allow_breaks),
            Style::Literal => self.write_literal(value),
        }
        self.pop_indent();
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().expect("balanced indents");
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// write_break: a '\n' is a line break; other break characters (NEL, LS, PS) are
    /// copied but still reset the column.
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.put(c);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in ind.chars() {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn write_plain(&mut self, value: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && chars.get(i + 1) != Some(&' ') {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < chars.len() && chars[i + 1] != ' ' {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        // go-yaml's is_bom looks at the start of the value, not at the current
        // character: a value starting with U+FEFF gets every character escaped.
        let bom = value.starts_with('\u{FEFF}');
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || bom || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                let esc = match c {
                    '\0' => "0",
                    '\u{7}' => "a",
                    '\u{8}' => "b",
                    '\t' => "t",
                    '\n' => "n",
                    '\u{b}' => "v",
                    '\u{c}' => "f",
                    '\r' => "r",
                    '\u{1b}' => "e",
                    '"' => "\"",
                    '\\' => "\\",
                    '\u{85}' => "N",
                    '\u{A0}' => "_",
                    '\u{2028}' => "L",
                    '\u{2029}' => "P",
                    _ => "",
                };
                if esc.is_empty() {
                    let v = c as u32;
                    let (letter, width) = match v {
                        0..=0xFF => ('x', 2),
                        0x100..=0xFFFF => ('u', 4),
                        _ => ('U', 8),
                    };
                    self.put(letter);
                    for ch in format!("{v:0width$X}").chars() {
                        self.put(ch);
                    }
                } else {
                    self.put(esc.chars().next().expect("escape letter"));
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < chars.len() {
                    self.write_indent();
                    if chars[i + 1] == ' ' {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        // Block scalar hints: an explicit indentation when the text starts with a space
        // or break, and the chomping indicator from the trailing breaks.
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.write_indicator("2", false, false, false);
        }
        let n = chars.len();
        let chomp = if !chars.last().is_some_and(|&c| is_break(c)) {
            "-"
        } else if n == 1 || is_break(chars[n - 2]) {
            "+"
        } else {
            ""
        };
        if !chomp.is_empty() {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// go-yaml's is_printable, decoded: note that nothing outside the BMP is "printable".
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}') && c != '\u{FEFF}'
}

/// yaml_emitter_analyze_scalar, reduced to the flags a block-context emitter uses.
fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis { multiline: false, block_plain_allowed: true, single_quoted_allowed: true, block_allowed: false };
    }
    let chars: Vec<char> = value.chars().collect();
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) = (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| n == ' ' || n == '\t');
        let last = i + 1 == chars.len();
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        // go-yaml's is_blankz also counts NUL as whitespace.
        preceded_by_whitespace = matches!(c, ' ' | '\t' | '\0') || is_break(c);
    }
    let mut a = Analysis { multiline: line_breaks, block_plain_allowed: true, single_quoted_allowed: true, block_allowed: true };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (JSON input, what Go's sigs.k8s.io/yaml.Marshal returns), checked against Go.
    #[rustfmt::skip]
    const CASES: &[(&str, Result<&str, &str>)] = &[
        ("{\"b\":1,\"a\":[1,{\"c\":\"x\"}],\"e\":{},\"f\":[],\"d\":null,\"g\":true}", Ok("a:\n- 1\n- c: x\nb: 1\nd: null\ne: {}\nf: []\ng: true\n")),
        ("[[1,[2]],{\"k\":[{\"x\":[]}]}]", Ok("- - 1\n  - - 2\n- k:\n  - x: []\n")),
        ("{\"a10\":1,\"a9\":2,\"a09\":3,\"B\":4,\"b\":5,\"_\":6,\"1\":7,\"-\":8,\"é\":9}", Ok("'-': 8\n_: 6\n\"1\": 7\nB: 4\na9: 2\na09: 3\na10: 1\nb: 5\né: 9\n")),
        ("[\"yes\",\"No\",\"on\",\"OFF\",\"y\",\"n\",\"~\",\"null\",\"\",\"true\",\"0123\",\"1e3\",\".5\",\"0x1F\",\"1_000\",\"1:30\",\"2001-12-14\",\"2001-12-14T21:59:43Z\",\"2001-12-14T21:59:43\",\".inf\",\"<<\"]", Ok("- \"yes\"\n- \"No\"\n- \"on\"\n- \"OFF\"\n- \"y\"\n- \"n\"\n- \"~\"\n- \"null\"\n- \"\"\n- \"true\"\n- \"0123\"\n- \"1e3\"\n- \".5\"\n- \"0x1F\"\n- \"1_000\"\n- \"1:30\"\n- \"2001-12-14\"\n- \"2001-12-14T21:59:43Z\"\n- 2001-12-14T21:59:43\n- \".inf\"\n- <<\n")),
        ("[\" lead\",\"trail \",\"a: b\",\"a:b\",\"#x\",\"a #b\",\"a#b\",\"-x\",\"- x\",\"-\",\"*x\",\"&x\",\"!x\",\"%x\",\"@x\",\"`x\",\"'x\",\"\\\"x\",\"x'y\",\"? x\",\"[x]\",\"{x}\",\"---\",\"...x\",\"a\\tb\",\"a\\\\b\"]", Ok("- ' lead'\n- 'trail '\n- 'a: b'\n- a:b\n- '#x'\n- 'a #b'\n- a#b\n- -x\n- '- x'\n- '-'\n- '*x'\n- '&x'\n- '!x'\n- '%x'\n- '@x'\n- '`x'\n- '''x'\n- '\"x'\n- x'y\n- '? x'\n- '[x]'\n- '{x}'\n- '---'\n- '...x'\n- \"a\\tb\"\n- a\\b\n")),
        ("[1e6, 1.0, 1000000, 1.5, -0, -0.0, 1e21, 1e-7, 18446744073709551615, 18446744073709551616, 9223372036854775808, 123456789012345678901234567890, 2.1929717286925532e+15, 0.1, 100000, 1234567.0]", Ok("- 1e+06\n- 1\n- 1000000\n- 1.5\n- 0\n- -0\n- 1e+21\n- 1e-07\n- 18446744073709551615\n- 1.8446744073709552e+19\n- 9223372036854775808\n- 1.2345678901234568e+29\n- 2.1929717286925532e+15\n- 0.1\n- 100000\n- 1.234567e+06\n")),
        ("{\"a\":\"x\\ny\",\"b\":\"x\\n\",\"c\":\"x\\n\\n\",\"d\":\" x\\ny\",\"e\":\"x \\ny\",\"f\":\"\\n\",\"g\":\"x\\r\\ny\"}", Ok("a: |-\n  x\n  y\nb: |\n  x\nc: |+\n  x\n\nd: |2-\n   x\n  y\ne: \"x \\ny\"\nf: |2+\n\ng: \"x\\r\\ny\"\n")),
        ("\"multi\\nline root\"", Ok("|-\n  multi\n  line root\n")),
        ("{\"multi\\nline key\":[1]}", Ok("? |-\n  multi\n  line key\n: - 1\n")),
        ("{\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\":1}", Ok("? kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\n: 1\n")),
        ("{\"text\":\"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.\"}", Ok("text: Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\n  incididunt ut labore et dolore magna aliqua.\n")),
        ("[\"'quoted' words that are long enough to need folding beyond the eightieth column, surely\"]", Ok("- '''quoted'' words that are long enough to need folding beyond the eightieth column,\n  surely'\n")),
        ("{\"t\":\"tab\\tseparated words that are long enough to need folding beyond the eightieth column  x\"}", Ok("t: \"tab\\tseparated words that are long enough to need folding beyond the eightieth\n  column  x\"\n")),
        ("[\"😀\",\"é中\",\"\\u0085\",\"\\u00a0x\",\"\\ufeffab\",\"a\\u2028b\",\"\\u0000\\u0007\\u001b\"]", Ok("- \"\\U0001F600\"\n- é中\n- ' '\n- \u{a0}x\n- \"\\uFEFF\\x61\\x62\"\n- 'a\u{2028}  b'\n- \"\\0\\a\\e\"\n")),
        ("\"a\\u007fb\"", Err("yaml: control characters are not allowed")),
        ("{\"k\":\"\\ufffe\"}", Err("yaml: control characters are not allowed")),
        ("[\"a\\u0085b\",\"a \\u0085  b\",\"a\\u0085\\u0085b\"]", Ok("- a b\n- a b\n- |-\n  a\n  b\n")),
        ("{\"a\\u0085b\":1}", Err("yaml: line 1: did not find expected ',' or '}'")),
        ("\"a\\u0085--- b\"", Err("yaml: line 2: found unexpected document indicator")),
    ];

    #[test]
    fn marshal_matches_go() {
        for (input, want) in CASES {
            let v: Value = serde_json::from_str(input).expect("JSON");
            match (marshal(&v), want) {
                (Ok(got), Ok(w)) => assert_eq!(got, *w, "input: {input}"),
                (Err(e), Err(w)) => assert_eq!(e.to_string(), *w, "input: {input}"),
                (got, _) => panic!("input {input}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn helm_to_yaml_trims_one_newline_and_hides_errors() {
        let v: Value = serde_json::from_str(r#"{"a":"x\n\n"}"#).unwrap();
        assert_eq!(to_yaml(&v), "a: |+\n  x\n\n");
        assert_eq!(helm_to_yaml(&v), "a: |+\n  x\n");
        let bad = Value::String("\u{7f}".into());
        assert_eq!(to_yaml(&bad), "");
        assert_eq!(helm_to_yaml(&bad), "");
    }

    #[test]
    fn numbers_built_in_rust_go_through_the_same_rules() {
        let v = serde_json::json!([1_000_000, 1e6, 0.5, u64::MAX, -1]);
        assert_eq!(to_yaml(&v), "- 1000000\n- 1e+06\n- 0.5\n- 18446744073709551615\n- -1\n");
    }
}
