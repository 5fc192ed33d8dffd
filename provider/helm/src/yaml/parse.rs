//! YAML text -> a node tree shaped like go-yaml v2's, for the first document only.
//!
//! Syntax comes from `granit_parser`, a YAML 1.2 parser. go-yaml v2 is a port of libyaml
//! with YAML 1.1 rules, and where the two disagree on inputs that plausibly occur, this
//! module makes the result follow go-yaml. Some constructs are *masked*: the text given to
//! granit is altered without moving anything (same character count), parsing restarts,
//! and the affected values are read back from the original text.
//! * U+0085, U+2028 and U+2029 are line breaks in YAML 1.1: granit gets `\n` instead, and
//!   scalars containing U+2028/U+2029 are re-read from source ([`flow_scalar`],
//!   [`Builder::literal_breaks`]);
//! * double-quoted scalars are always decoded from source with go-yaml's escapes (`\'` is
//!   valid, `\/` is not); `\'` is masked, granit rejects it;
//! * in flow collections, a plain `-` or a trailing `:` right before `,]}` belongs to the
//!   scalar (`[-]`, `[a:]`), `?` glued to a key is the key indicator (`{?a: b}`), a plain
//!   scalar cannot start with `:` nor contain `?`, a tag swallows `,[]`;
//! * a `#` glued to a quoted scalar or block scalar header still starts a comment;
//! * go-yaml stops after the token that follows a complete root node (`[a]]` is `[a]`);
//! * go-yaml's tab rules ([`check_tabs`]), its refusal of `: value` without a key, of
//!   multi-line or >1024-character implicit keys in flow mappings, of a stream starting
//!   with `...`, of tags with characters outside URI ones and of anchors with characters
//!   outside `[0-9A-Za-z_-]`;
//! * syntax errors are worded like go-yaml's, with its line convention.
//!
//! Remaining known differences (all on unusual input) are listed in `mod.rs`.

use std::collections::HashMap;

use granit_parser::{ErrorKind, Event, Options, Parser, ScalarStyle, ScanError, StructureStyle};

use super::emit::MAX_DEPTH;
use super::load::YamlError;

/// A node as go-yaml's parser builds it.
#[derive(Debug)]
pub(super) enum Node {
    /// `implicit` is go-yaml's plain_implicit: untagged plain, or tagged with a bare `!`.
    Scalar {
        value: String,
        tag: String,
        implicit: bool,
    },
    Seq(Vec<usize>),
    Map(Vec<usize>),
    Alias {
        target: usize,
        name: String,
    },
}

/// The first document of a stream: its nodes and the index of the root.
pub(super) struct Document {
    pub(super) nodes: Vec<Node>,
    pub(super) root: usize,
}

/// Characters go-yaml's reader refuses anywhere in its input.
pub(super) fn is_reader_control(c: char) -> bool {
    !matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}'
        | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Parses the first document; `Ok(None)` for a stream without documents.
pub(super) fn parse_first_document(text: &str) -> Result<Option<Document>, YamlError> {
    if text.chars().any(is_reader_control) {
        return Err(YamlError::yaml(None, None, "control characters are not allowed"));
    }
    let original: Vec<char> = text.chars().collect();
    let mut masked: Vec<char> = original.iter().map(|&c| if matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}') { '\n' } else { c }).collect();
    check_leading_document_end(&masked)?;
    let mut masks = Vec::new();
    let mut keys = Vec::new();
    // Each round masks one more construct granit reads differently from go-yaml.
    for _ in 0..1024 {
        let src: String = masked.iter().collect();
        let mut b = Builder::new(&original, &masked, &masks);
        b.keys = &keys;
        match b.run(&src) {
            Ok(doc) => return Ok(doc),
            Err(Stop::Fail(e)) => return Err(e),
            Err(Stop::Junk(at, e)) => {
                // go-yaml stops reading after the token that follows a complete root
                // node, so `[a]]` is `[a]` for it. Retry without the junk when the root
                // is a flow collection or a quoted scalar.
                let (text, orig) = (&masked[..at], &original[..at]);
                let first = text.iter().find(|c| !c.is_whitespace());
                if !matches!(first, Some('[' | '{' | '"' | '\'')) {
                    return Err(e);
                }
                let src: String = text.iter().collect();
                let mut b = Builder::new(orig, text, &masks);
                return match b.run(&src) {
                    Ok(Some(doc)) if b.root_flow => Ok(Some(doc)),
                    _ => Err(e),
                };
            }
            Err(Stop::Mask(at)) => {
                masked[at] = 'x';
                masks.push(at);
            }
            Err(Stop::Blank(at)) => {
                masked[at] = ' ';
                keys.push(at);
            }
            Err(Stop::Tag(at)) => {
                if !mask_tag(&mut masked, at) {
                    return Err(scanner_error(line_of(&masked, at), "did not find expected whitespace or line break"));
                }
            }
            Err(Stop::Comment(at)) => {
                // A comment glued to the previous token: blank it out for granit.
                let mut i = at;
                while i < masked.len() && masked[i] != '\n' && masked[i] != '\r' {
                    masked[i] = ' ';
                    i += 1;
                }
            }
            Err(Stop::Escape(at, e)) => {
                // Mask go-yaml's `\'` escapes of the double-quoted scalar starting at `at`.
                let end = quoted_end(&original, at).ok_or(e.clone())?;
                let mut found = false;
                let mut i = at + 1;
                while i < end {
                    if original[i] == '\\' {
                        if original[i + 1] == '\'' {
                            masked[i + 1] = '\\';
                            found = true;
                        }
                        i += 1;
                    }
                    i += 1;
                }
                if !found {
                    // Not a `\'`: decode it ourselves to get go-yaml's own error.
                    flow_scalar(&original[at..end], ScalarStyle::DoubleQuoted)
                        .map_err(|(p, k)| scanner_error(line_of(&masked, at + k), p))?;
                    return Err(e);
                }
            }
        }
    }
    Err(YamlError::yaml(None, None, "document too irregular to parse"))
}

/// go-yaml refuses a stream whose first token is a document end marker.
fn check_leading_document_end(text: &[char]) -> Result<(), YamlError> {
    let mut line0 = 0;
    for line in text.split(|&c| c == '\n') {
        let body: String = line.iter().collect();
        let t = body.trim_start_matches('\u{FEFF}').trim_start_matches([' ', '\t']);
        if t.is_empty() || t.starts_with('#') {
            line0 += 1;
            continue;
        }
        let rest = body.strip_prefix("...");
        if rest.is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '\r'])) {
            return Err(parser_error(line0, "did not find expected node content"));
        }
        return Ok(());
    }
    Ok(())
}

/// Why a parse round stopped.
enum Stop {
    Fail(YamlError),
    /// A stray `]` or `}` that may just follow a complete root node.
    Junk(usize, YamlError),
    /// A character to hide from granit inside a plain scalar: a `-` starting a scalar
    /// or a `:` ending one, right before a flow indicator (go-yaml reads `[-]` and
    /// `[a:]` as the scalars `-` and `a:`).
    Mask(usize),
    /// A `?` glued to a flow mapping key: go-yaml reads it as the key indicator.
    Blank(usize),
    /// A tag (starting at this index) that goes on for go-yaml where granit stops.
    Tag(usize),
    /// A `#` that go-yaml takes as a comment although nothing separates it from the
    /// token before (`"a"# note`, `|# note`).
    Comment(usize),
    /// An escape granit rejects in the double-quoted scalar starting here.
    Escape(usize, YamlError),
}

impl From<YamlError> for Stop {
    fn from(e: YamlError) -> Self {
        Stop::Fail(e)
    }
}

/// An open collection.
struct Frame {
    node: usize,
    children: Vec<usize>,
    map: bool,
    flow: bool,
    /// Character index and column where the collection starts.
    start: usize,
    col: usize,
    /// The pending key of a flow mapping: (start index, end index).
    key: Option<(usize, usize)>,
}

/// A token's extent, for the tab rules.
struct Token {
    start: usize,
    end: usize,
    /// For a plain scalar in block context: go-yaml's indentation at that point.
    plain_indent: Option<i64>,
}

struct Builder<'a> {
    original: &'a [char],
    text: &'a [char],
    masks: &'a [usize],
    /// Positions of `?` key indicators blanked for granit.
    keys: &'a [usize],
    nodes: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, usize>,
    names: HashMap<usize, String>,
    root: Option<usize>,
    /// The root is a flow collection or a quoted scalar.
    root_flow: bool,
    tokens: Vec<Token>,
}

impl<'a> Builder<'a> {
    fn new(original: &'a [char], text: &'a [char], masks: &'a [usize]) -> Self {
        Builder {
            original,
            text,
            masks,
            keys: &[],
            nodes: Vec::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            names: HashMap::new(),
            root: None,
            root_flow: false,
            tokens: Vec::new(),
        }
    }

    fn run(&mut self, src: &str) -> Result<Option<Document>, Stop> {
        let mut options = Options::default();
        options.set_emit_comments(false);
        options.emit_anchor_events = true;
        options.emit_unresolved_aliases = true;
        options.bom_inside_document_as_content = true;
        options.block_scalar_eof_without_line_feed = true;
        // go-yaml allows 10000 levels; our recursive decoder is kept to fewer.
        options.flow_nesting_limit = MAX_DEPTH;
        options.block_nesting_limit = MAX_DEPTH;
        for item in Parser::new_from_str_with_options(src, options) {
            let (ev, span) = match item {
                Ok(x) => x,
                // go-yaml ends the document after a complete root node as soon as
                // it sees a token, even a stray `]` or `}` it never complains about.
                Err(e) if self.stack.is_empty() && self.root.is_some() && matches!(self.text.get(e.marker().index()), Some(']' | '}')) => {
                    let at = e.marker().index();
                    check_tabs(self.text, &self.tokens, at)?;
                    let nodes = std::mem::take(&mut self.nodes);
                    return Ok(Some(Document { nodes, root: self.root.expect("root") }));
                }
                Err(e) => return Err(self.scan_error(&e)),
            };
            let (start, end) = (span.start.index(), span.end.index());
            match ev {
                Event::StreamEnd => return Ok(None),
                Event::DocumentEnd => {
                    let Some(root) = self.root else { return Ok(None) };
                    check_tabs(self.text, &self.tokens, end)?;
                    let nodes = std::mem::take(&mut self.nodes);
                    return Ok(Some(Document { nodes, root }));
                }
                Event::Anchor(id, name) => {
                    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                        let p = "did not find expected alphabetic or numeric character";
                        return Err(scanner_error(span.start.line() - 1, p).into());
                    }
                    self.names.insert(id, name.into_owned());
                }
                Event::UnresolvedAlias(name) => {
                    let name: String = name.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
                    return Err(YamlError::yaml(None, None, &format!("unknown anchor '{name}' referenced")).into());
                }
                Event::Alias(id) => {
                    let target = self.anchors[&id];
                    let name = self.names.get(&id).cloned().unwrap_or_default();
                    self.tokens.push(Token { start, end, plain_indent: None });
                    let n = self.push(Node::Alias { target, name });
                    self.attach(n, start, end, false, false)?;
                }
                Event::Scalar(value, style, anchor, tag) => {
                    if let Some(ts) = span.tag_span() {
                        self.check_tag(ts.start.index(), ts.end.index())?;
                    }
                    let tag = tag.map(|t| format!("{}{}", t.handle(), t.suffix())).unwrap_or_default();
                    // granit reports an empty node as a zero-width "~".
                    let empty = start == end && style == ScalarStyle::Plain;
                    let bare_empty = empty && tag.is_empty() && anchor == 0;
                    let value = if empty { String::new() } else { self.scalar_value(value.into_owned(), style, start, end)? };
                    let implicit = (tag.is_empty() && style == ScalarStyle::Plain) || tag == "!";
                    let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                    let in_flow = self.stack.iter().any(|f| f.flow);
                    let plain_indent =
                        (style == ScalarStyle::Plain && !in_flow && !empty).then(|| self.stack.last().map_or(-1, |f| f.col as i64));
                    let tok_start = if block { self.block_header_line(start) } else { start };
                    if block {
                        self.check_block_tabs(tok_start, end)?;
                    }
                    self.tokens.push(Token { start: tok_start, end, plain_indent });
                    let n = self.push(Node::Scalar { value, tag, implicit });
                    if anchor != 0 {
                        self.anchors.insert(anchor, n);
                    }
                    if style == ScalarStyle::Plain && !empty && in_flow {
                        self.check_flow_plain(start, end)?;
                    }
                    let plain_key_colon = style == ScalarStyle::Plain && !empty && self.colon_before_flow_indicator(end);
                    let quoted = matches!(style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
                    let in_seq = self.stack.last().is_some_and(|f| f.flow && !f.map);
                    if in_seq && start > 0 && self.keys.contains(&(start - 1)) {
                        // go-yaml's `[?a]`: a single-pair mapping with an empty value.
                        let empty = self.push(Node::Scalar { value: String::new(), tag: String::new(), implicit: true });
                        let pair = self.push(Node::Map(vec![n, empty]));
                        self.attach(pair, start - 1, end, false, false)?;
                    } else {
                        self.attach(n, start, end, bare_empty, quoted)?;
                    }
                    if plain_key_colon && self.stack.last().is_some_and(|f| f.flow && f.map && f.children.len() % 2 == 1) {
                        return Err(Stop::Mask(end));
                    }
                }
                Event::SequenceStart(style, anchor, _) | Event::MappingStart(style, anchor, _) => {
                    if let Some(ts) = span.tag_span() {
                        self.check_tag(ts.start.index(), ts.end.index())?;
                    }
                    let map = matches!(ev, Event::MappingStart(..));
                    let n = self.push(if map { Node::Map(Vec::new()) } else { Node::Seq(Vec::new()) });
                    if anchor != 0 {
                        self.anchors.insert(anchor, n);
                    }
                    let flow = style == StructureStyle::Flow;
                    self.stack.push(Frame { node: n, children: Vec::new(), map, flow, start, col: span.start.col(), key: None });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let f = self.stack.pop().expect("balanced events");
                    match &mut self.nodes[f.node] {
                        Node::Seq(c) | Node::Map(c) => *c = f.children,
                        _ => unreachable!(),
                    }
                    if f.flow {
                        self.tokens.push(Token { start: f.start, end, plain_indent: None });
                    }
                    self.attach(f.node, f.start, end, false, f.flow)?;
                }
                _ => {} // stream/document start, comments
            }
        }
        Ok(None)
    }

    fn push(&mut self, n: Node) -> usize {
        self.nodes.push(n);
        self.nodes.len() - 1
    }

    /// A scalar's value as go-yaml reads it.
    fn scalar_value(&self, value: String, style: ScalarStyle, start: usize, end: usize) -> Result<String, Stop> {
        let src = &self.original[start..end];
        let masked = self.masks.iter().any(|&m| start <= m && m < end);
        // A block scalar's leading empty lines come before its span.
        let from = if style == ScalarStyle::Literal { self.block_header_line(start) } else { start };
        let yaml11_breaks = self.original[from..end].iter().any(|&c| c == '\u{2028}' || c == '\u{2029}');
        match style {
            ScalarStyle::DoubleQuoted => {}
            ScalarStyle::Plain if masked => {}
            ScalarStyle::Plain | ScalarStyle::SingleQuoted if yaml11_breaks => {}
            ScalarStyle::Literal if yaml11_breaks => return Ok(self.literal_breaks(value, start, end)),
            _ => return Ok(value),
        }
        flow_scalar(src, style).map_err(|(p, k)| scanner_error(line_of(self.text, start + k), p).into())
    }

    /// Where a block scalar's header (`|` or `>`) starts, given where its content does.
    fn block_header_line(&self, content: usize) -> usize {
        let t = self.text;
        let mut i = content;
        while i > 0 && matches!(t[i - 1], ' ' | '\t' | '\n' | '\r') {
            i -= 1;
        }
        let mut line = i;
        while line > 0 && t[line - 1] != '\n' && t[line - 1] != '\r' {
            line -= 1;
        }
        (line..i).find(|&k| matches!(t[k], '|' | '>') && (k == line || matches!(t[k - 1], ' ' | '\t'))).unwrap_or(line)
    }

    /// go-yaml refuses a tab in a block scalar's indentation: anywhere in the leading
    /// whitespace until the indentation is known, then left of it.
    fn check_block_tabs(&self, header: usize, end: usize) -> Result<(), Stop> {
        let t = self.text;
        let parent = self.stack.iter().rev().find(|f| !f.flow).map_or(-1, |f| f.col as i64);
        let mut i = header + 1;
        let mut explicit = None;
        while i < t.len() && !t[i].is_whitespace() {
            if let Some(d) = t[i].to_digit(10) {
                explicit = Some(if parent >= 0 { parent + i64::from(d) } else { i64::from(d) });
            }
            i += 1;
        }
        let mut indent = explicit;
        // Skip the rest of the header line.
        while i < t.len() && t[i] != '\n' && t[i] != '\r' {
            i += 1;
        }
        while i < t.len() {
            while i < t.len() && (t[i] == '\n' || t[i] == '\r') {
                i += 1;
            }
            let line_start = i;
            while i < t.len() && t[i] == ' ' {
                i += 1;
            }
            let col = (i - line_start) as i64;
            if t.get(i) == Some(&'\t') && indent.is_none_or(|n| col < n) {
                let p = "found a tab character where an indentation space is expected";
                return Err(scanner_error(line_of(t, i), p).at_column(e_col(t, i)).into());
            }
            if indent.is_none() && i < t.len() && t[i] != '\n' && t[i] != '\r' {
                indent = Some(col.max(parent + 1));
            }
            if line_start >= end {
                break; // the line that ends the scalar has been looked at too
            }
            while i < t.len() && t[i] != '\n' && t[i] != '\r' {
                i += 1;
            }
        }
        Ok(())
    }

    /// In a literal scalar, go-yaml keeps U+2028/U+2029 line breaks as they are: put
    /// them back in place of the `\n`s granit produced for them, in order.
    fn literal_breaks(&self, value: String, start: usize, end: usize) -> String {
        let (t, o) = (self.text, self.original);
        let mut i = start;
        while i > 0 && matches!(t[i - 1], ' ' | '\t' | '\n' | '\r') {
            i -= 1;
        }
        // Skip the header line's own break.
        while i < end && t[i] != '\n' && t[i] != '\r' {
            i += 1;
        }
        let mut breaks = Vec::new();
        let mut first = true;
        while i < end {
            let is_crlf = t[i] == '\r' && t.get(i + 1) == Some(&'\n');
            if t[i] == '\n' || t[i] == '\r' {
                if !first {
                    breaks.push(if matches!(o[i], '\u{2028}' | '\u{2029}') { o[i] } else { '\n' });
                }
                first = false;
            }
            i += if is_crlf { 2 } else { 1 };
        }
        let mut it = breaks.into_iter();
        value.chars().map(|c| if c == '\n' { it.next().unwrap_or('\n') } else { c }).collect()
    }

    /// Adds a finished node to its parent, with go-yaml's checks on mapping keys.
    fn attach(&mut self, n: usize, start: usize, end: usize, empty_plain: bool, flow: bool) -> Result<(), Stop> {
        let text = self.text;
        let Some(f) = self.stack.last_mut() else {
            self.root = Some(n);
            self.root_flow = flow;
            return Ok(());
        };
        let is_key = f.map && f.children.len() % 2 == 0;
        if is_key && empty_plain && text.get(start) == Some(&':') {
            // `: value` without a key: go-yaml's mappings want a KEY token first.
            let p = if f.flow { "did not find expected node content" } else { "did not find expected key" };
            return Err(parser_error(line_of(text, start), p).into());
        }
        if is_key && f.flow {
            f.key = Some((start, end));
        } else if f.map && f.flow {
            if let Some((kstart, kend)) = f.key.take() {
                // An implicit key must be on one line with its ':' and at most 1024
                // characters before it.
                if let Some(colon) = find_colon(text, kend, start) {
                    let multiline = text[kstart..colon].iter().any(|&c| c == '\n' || c == '\r');
                    if multiline || kstart + 1024 < colon {
                        let close = if text.get(f.start) == Some(&'{') { '}' } else { ']' };
                        let p = format!("did not find expected ',' or '{close}'");
                        return Err(parser_error(line_of(text, colon), &p).into());
                    }
                }
            }
        }
        f.children.push(n);
        Ok(())
    }

    /// In flow context go-yaml never starts a plain scalar with `:` (it is a value
    /// indicator there) and ends one at `?` (a key indicator).
    fn check_flow_plain(&self, start: usize, end: usize) -> Result<(), Stop> {
        let t = self.text;
        if t[start] == ':' && !self.masks.contains(&start) {
            return Err(parser_error(line_of(t, start), "did not find expected node content").into());
        }
        if t[start] == '?' {
            // A key indicator: `{?a: b}` has the key `a`, `[?a]` is `[{a: null}]` (see the
            // Scalar event); where a value is expected it is an error.
            let value_pos = self.stack.last().is_some_and(|f| f.map && f.children.len() % 2 == 1);
            if end == start + 1 || value_pos {
                return Err(parser_error(line_of(t, start), "did not find expected node content").into());
            }
            return Err(Stop::Blank(start));
        }
        if let Some(q) = (start + 1..end).find(|&i| t[i] == '?') {
            return Err(self.flow_error(q).into());
        }
        Ok(())
    }

    /// go-yaml's tags are URI characters, `,[]!*` included, and must end at a blank.
    /// granit (YAML 1.2) stops earlier: mask what go-yaml would still take.
    fn check_tag(&self, start: usize, end: usize) -> Result<(), Stop> {
        let t = self.text;
        if t[start..end].iter().any(|&c| !is_tag_char(c)) {
            let p = "did not find expected whitespace or line break";
            return Err(scanner_error(line_of(t, start), p).at_column(e_col(t, start)).into());
        }
        match t.get(end) {
            None | Some(' ' | '\t' | '\n' | '\r') => Ok(()),
            Some(&c) if is_tag_char(c) => Err(Stop::Tag(start)),
            Some(_) => {
                let p = "did not find expected whitespace or line break";
                Err(scanner_error(line_of(t, end), p).at_column(e_col(t, end)).into())
            }
        }
    }

    /// go-yaml's complaint about something unexpected at `at` inside a flow collection.
    fn flow_error(&self, at: usize) -> YamlError {
        let open = self.stack.iter().rev().find(|f| f.flow).map_or('[', |f| self.text[f.start]);
        let p = if open == '{' { "did not find expected ',' or '}'" } else { "did not find expected ',' or ']'" };
        parser_error(line_of(self.text, at), p)
    }

    /// A `:` at `at` glued to the plain scalar before it and followed by `,`, `]` or `}`.
    fn colon_before_flow_indicator(&self, at: usize) -> bool {
        let t = self.text;
        at > 0
            && t.get(at) == Some(&':')
            && matches!(t.get(at + 1), Some(',' | ']' | '}'))
            && !matches!(t[at - 1], ' ' | '\t' | '\n' | '\r' | ',' | '[' | ']' | '{' | '}' | '"' | '\'')
    }

    /// Maps a granit error onto go-yaml's wording (best effort).
    fn scan_error(&self, e: &ScanError) -> Stop {
        let t = self.text;
        let at = e.marker().index().min(t.len());
        if self.colon_before_flow_indicator(at) {
            return Stop::Mask(at);
        }
        let line0 = line_of(t, at);
        let eof = line_of(t, t.len());
        let in_map = self.stack.last().is_some_and(|f| f.map);
        // After `[` or `,` go-yaml wants a node; after a node, a separator.
        let prev = t[..at].iter().rev().find(|c| !c.is_whitespace()).copied();
        let open = self.stack.iter().rev().find(|f| f.flow).map_or('[', |f| t[f.start]);
        let separator = if open == '{' { "did not find expected ',' or '}'" } else { "did not find expected ',' or ']'" };
        let flow_problem = if matches!(prev, Some(',' | '[' | '{')) { "did not find expected node content" } else { separator };
        let (scanner, line, problem) = match e.kind() {
            ErrorKind::PlainScalarStartsWithDashFlowIndicator => return Stop::Mask(at),
            ErrorKind::InvalidTagTerminator | ErrorKind::MissingTagUri | ErrorKind::ExpectedTagBang => {
                // Find the `!` that starts the tag and let go-yaml's tag rules decide.
                let mut k = at.min(t.len().saturating_sub(1));
                while k > 0 && !t[k].is_whitespace() && !(t[k] == '!' && (t[k - 1].is_whitespace() || "[{,".contains(t[k - 1]))) {
                    k -= 1;
                }
                if t.get(k) == Some(&'!') {
                    return Stop::Tag(k);
                }
                (true, line0, "did not find expected whitespace or line break")
            }
            ErrorKind::CommentNotSeparated if t.get(at) == Some(&'#') => return Stop::Comment(at),
            ErrorKind::UnknownQuotedScalarEscape => return Stop::Escape(at, scanner_error(line0, "found unknown escape character")),
            ErrorKind::UnexpectedEofFlowSequence
            | ErrorKind::UnexpectedEofFlowMapping
            | ErrorKind::UnexpectedEofImplicitFlowMapping
            | ErrorKind::UnclosedFlowCollection { .. } => (false, eof, flow_problem),
            ErrorKind::ExpectedFlowSequenceSeparator
            | ErrorKind::ExpectedFlowMappingSeparator
            | ErrorKind::MismatchedFlowCollectionEnd { .. } => (false, line0, flow_problem),
            ErrorKind::MisplacedFlowCollectionEnd | ErrorKind::BlockEntryInFlowCollection | ErrorKind::ExpectedNodeContent => {
                (false, line0, "did not find expected node content")
            }
            ErrorKind::ExpectedBlockMappingKey
            | ErrorKind::UnexpectedEofBlockMapping
            | ErrorKind::ExpectedBlockSequenceEntry
            | ErrorKind::UnexpectedEofBlockSequence
            | ErrorKind::InvalidBlockScalarIndent
            | ErrorKind::InvalidTrailingSingleQuotedScalar
            | ErrorKind::InvalidTrailingDoubleQuotedScalar => {
                let p = if in_map { "did not find expected key" } else { "did not find expected '-' indicator" };
                (false, line0, p)
            }
            ErrorKind::SimpleKeyExpected => {
                // go-yaml notices at the next token (or the end of the stream).
                let mut i = at;
                while i < t.len() && t[i] != '\n' {
                    i += 1;
                }
                loop {
                    while i < t.len() && t[i].is_whitespace() {
                        i += 1;
                    }
                    if i < t.len() && t[i] == '#' {
                        while i < t.len() && t[i] != '\n' {
                            i += 1;
                        }
                        continue;
                    }
                    break;
                }
                (true, line_of(t, i), "could not find expected ':'")
            }
            // In flow context go-yaml's parser sees a value without a key instead.
            ErrorKind::InvalidSimpleKey | ErrorKind::MappingValueNotAllowed | ErrorKind::InvalidColonPlacement
                if self.stack.iter().any(|f| f.flow) || t[..at].contains(&'[') || t[..at].contains(&'{') =>
            {
                return Stop::Fail(self.flow_error(at));
            }
            ErrorKind::InvalidSimpleKey | ErrorKind::MappingValueNotAllowed | ErrorKind::InvalidColonPlacement => {
                (true, line0, "mapping values are not allowed in this context")
            }
            ErrorKind::MappingKeyNotAllowed => (true, line0, "mapping keys are not allowed in this context"),
            ErrorKind::BlockSequenceEntryNotAllowed => (true, line0, "block sequence entries are not allowed in this context"),
            ErrorKind::TabInPlainScalar => (true, line0, "found a tab character that violates indentation"),
            ErrorKind::TabAtBlockScalarStart => (true, line0, "found a tab character where an indentation space is expected"),
            ErrorKind::UnclosedQuotedScalar => (true, eof, "found unexpected end of stream"),
            ErrorKind::DocumentIndicatorInQuotedScalar => (true, line0, "found unexpected document indicator"),
            ErrorKind::InvalidBlockScalarHeader => (true, line0, "did not find expected comment or line break"),
            ErrorKind::MissingDirectiveName => (true, line0, "could not find expected directive name"),
            ErrorKind::InvalidQuotedScalarHexEscape => (true, line0, "did not find expected hexdecimal number"),
            ErrorKind::InvalidUnicodeEscape => (true, line0, "found invalid Unicode character escape code"),
            ErrorKind::MissingAnchorOrAliasName => (true, line0, "did not find expected alphabetic or numeric character"),
            ErrorKind::ExpectedDocumentStart => (false, line0, "did not find expected <document start>"),
            ErrorKind::UnexpectedEof => (true, eof, "found unexpected end of stream"),
            ErrorKind::TabInBlockIndentation
            | ErrorKind::TabNotAllowed
            | ErrorKind::TabInIndentation
            | ErrorKind::UnexpectedCharacter { .. } => (true, line0, "found character that cannot start any token"),
            ErrorKind::RecursionLimitExceeded => (true, line0, "exceeded max depth of 1000"),
            _ => return Stop::Fail(scanner_error(line0, &e.info().to_string())),
        };
        let e = if scanner { scanner_error(line, problem) } else { parser_error(line, problem) };
        let e = e.at_column(e_col(self.text, at));
        if matches!(t.get(at), Some(']' | '}')) && self.stack.iter().all(|f| !f.flow) {
            return Stop::Junk(at, e);
        }
        Stop::Fail(e)
    }
}

/// go-yaml's `yaml: line N:` for scanner errors: the 1-based line, omitted on line 1.
fn scanner_error(line0: usize, problem: &str) -> YamlError {
    YamlError::yaml((line0 != 0).then_some(line0 + 1), None, problem)
}

/// Parser errors print the 0-based line of the token (omitted when 0).
fn parser_error(line0: usize, problem: &str) -> YamlError {
    YamlError::yaml((line0 != 0).then_some(line0), None, problem)
}

/// A character go-yaml accepts in a tag (URI characters).
fn is_tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_;/?:@&=+$,.!~*'()[]%".contains(c)
}

/// Masks, in the tag starting at `start`, the characters after its handle that granit
/// would not take: the tag stays unknown either way (no YAML tag has an `x` in it).
fn mask_tag(masked: &mut [char], start: usize) -> bool {
    let mut h = start + 1;
    while h < masked.len() && (masked[h].is_ascii_alphanumeric() || matches!(masked[h], '-' | '_')) {
        h += 1;
    }
    // A handle is `!`, `!!` or `!word!`; otherwise only the first `!`.
    let h = if masked.get(h) == Some(&'!') { h + 1 } else { start + 1 };
    let mut changed = false;
    let mut i = h;
    while i < masked.len() && is_tag_char(masked[i]) {
        if !masked[i].is_ascii_alphanumeric() && !matches!(masked[i], '-' | '_' | '.' | '%') {
            masked[i] = 'x';
            changed = true;
        }
        i += 1;
    }
    changed
}

/// 1-based column of a character index.
fn e_col(text: &[char], at: usize) -> usize {
    let at = at.min(text.len());
    at - text[..at].iter().rposition(|&c| c == '\n' || c == '\r').map_or(0, |p| p + 1) + 1
}

/// 0-based line of a character index (`\r\n`, `\r` and `\n` are breaks).
fn line_of(text: &[char], at: usize) -> usize {
    let head = &text[..at.min(text.len())];
    let lf = head.iter().filter(|&&c| c == '\n').count();
    let lone_cr = head.windows(2).filter(|w| w[0] == '\r' && w[1] != '\n').count();
    lf + lone_cr + usize::from(head.last() == Some(&'\r'))
}

/// The ':' between a flow mapping key and its value, skipping comments.
fn find_colon(text: &[char], from: usize, to: usize) -> Option<usize> {
    let mut i = from;
    while i < to.min(text.len()) {
        match text[i] {
            ':' => return Some(i),
            '#' if i == 0 || matches!(text[i - 1], ' ' | '\t' | '\n' | '\r') => {
                while i < to && text[i] != '\n' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Index just past the closing quote of the double-quoted scalar opening at `start`.
fn quoted_end(text: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < text.len() {
        match text[i] {
            '\\' => i += 1,
            '"' => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// go-yaml's scanner for a plain, single- or double-quoted scalar, from its source
/// (quotes included). Returns the value, or a problem and the offset where it occurs.
fn flow_scalar(src: &[char], style: ScalarStyle) -> Result<String, (&'static str, usize)> {
    let (single, double) = (style == ScalarStyle::SingleQuoted, style == ScalarStyle::DoubleQuoted);
    let (mut i, end) = if single || double { (1, src.len() - 1) } else { (0, src.len()) };
    let mut out = String::new();
    loop {
        let mut leading_blanks = false;
        // Non-blank characters, with escapes.
        while i < end && !matches!(src[i], ' ' | '\t') && !is_break(src[i]) {
            if single && src[i] == '\'' {
                out.push('\''); // '' (a lone quote cannot occur before `end`)
                i += 2;
            } else if double && src[i] == '\\' && i + 1 < end && is_break(src[i + 1]) {
                // Escaped line break: nothing is kept, not even a space.
                i += 1 + usize::from(src[i + 1] == '\r' && src.get(i + 2) == Some(&'\n'));
                i += 1;
                leading_blanks = true;
                break;
            } else if double && src[i] == '\\' {
                let (c, len) = escape(&src[i..end]).map_err(|p| (p, i))?;
                out.push(c);
                i += len;
            } else {
                out.push(src[i]);
                i += 1;
            }
        }
        if i >= end {
            return Ok(out);
        }
        // Blanks and line breaks, then join them the YAML way.
        let (mut whitespace, mut leading_break, mut trailing) = (String::new(), None, String::new());
        while i < end && (matches!(src[i], ' ' | '\t') || is_break(src[i])) {
            if matches!(src[i], ' ' | '\t') {
                if !leading_blanks {
                    whitespace.push(src[i]);
                }
                i += 1;
            } else {
                let brk = if matches!(src[i], '\u{2028}' | '\u{2029}') { src[i] } else { '\n' };
                i += 1 + usize::from(src[i] == '\r' && src.get(i + 1) == Some(&'\n'));
                if leading_blanks {
                    trailing.push(brk);
                } else {
                    whitespace.clear();
                    leading_break = Some(brk);
                    leading_blanks = true;
                }
            }
        }
        if !leading_blanks {
            out.push_str(&whitespace);
        } else if leading_break == Some('\n') {
            if trailing.is_empty() {
                out.push(' ');
            } else {
                out.push_str(&trailing);
            }
        } else {
            out.extend(leading_break);
            out.push_str(&trailing);
        }
    }
}

/// One go-yaml escape sequence at the start of `s` (which starts with `\`).
fn escape(s: &[char]) -> Result<(char, usize), &'static str> {
    let simple = match s.get(1) {
        Some('0') => '\0',
        Some('a') => '\u{7}',
        Some('b') => '\u{8}',
        Some('t' | '\t') => '\t',
        Some('n') => '\n',
        Some('v') => '\u{b}',
        Some('f') => '\u{c}',
        Some('r') => '\r',
        Some('e') => '\u{1b}',
        Some(' ') => ' ',
        Some('"') => '"',
        Some('\'') => '\'',
        Some('\\') => '\\',
        Some('N') => '\u{85}',
        Some('_') => '\u{A0}',
        Some('L') => '\u{2028}',
        Some('P') => '\u{2029}',
        Some('x' | 'u' | 'U') => {
            let n = match s[1] {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let digits = s.get(2..2 + n).ok_or("did not find expected hexdecimal number")?;
            let mut v: u32 = 0;
            for d in digits {
                v = v * 16 + d.to_digit(16).ok_or("did not find expected hexdecimal number")?;
            }
            let c = char::from_u32(v).ok_or("found invalid Unicode character escape code")?;
            return Ok((c, 2 + n));
        }
        _ => return Err("found unknown escape character"),
    };
    Ok((simple, 2))
}

/// go-yaml's rules for tabs outside scalars and flow collections, in block context:
/// whitespace before a token is skipped only while a simple key is not allowed, so a tab
/// at the start of a line, or right after a `-`, `?` or complex-value `:` indicator,
/// "cannot start any token"; and while a plain scalar looks for continuation lines, a
/// tab left of the indentation "violates indentation".
fn check_tabs(text: &[char], tokens: &[Token], limit: usize) -> Result<(), YamlError> {
    let limit = limit.min(text.len());
    if !text[..limit].contains(&'\t') {
        return Ok(());
    }
    // Characters inside a token (scalar or flow collection), via a difference array.
    let mut depth = vec![0i32; limit + 1];
    for t in tokens {
        depth[t.start.min(limit)] += 1;
        depth[t.end.min(limit)] -= 1;
    }
    let mut covered = Vec::with_capacity(limit);
    let mut level = 0;
    for d in &depth[..limit] {
        level += d;
        covered.push(level > 0);
    }
    // Tokens by end, to find the one before a position.
    let mut ends: Vec<(usize, Option<i64>)> = tokens.iter().map(|t| (t.end, t.plain_indent)).collect();
    ends.sort_by_key(|e| e.0);
    let (mut line0, mut line_start) = (0, 0);
    for i in 0..limit {
        let c = text[i];
        if c == '\n' || (c == '\r' && text.get(i + 1) != Some(&'\n')) {
            line0 += 1;
            line_start = i + 1;
            continue;
        }
        if c != '\t' || covered[i] {
            continue;
        }
        let col = i - line_start + 1;
        // Inside a comment?
        let comment = (line_start..i).any(|k| text[k] == '#' && (k == line_start || matches!(text[k - 1], ' ' | '\t')) && !covered[k]);
        if comment {
            continue;
        }
        let mut j = i;
        while j > line_start && matches!(text[j - 1], ' ' | '\t') {
            j -= 1;
        }
        if j == line_start {
            let prev = ends[..ends.partition_point(|e| e.0 <= i)].last();
            if let Some(&(end, Some(indent))) = prev {
                if !text[end..i].contains(&'#') {
                    if ((i - line_start) as i64) < indent + 1 {
                        let p = "found a tab character that violates indentation";
                        return Err(scanner_error(line0, p).at_column(col));
                    }
                    continue;
                }
            }
            return Err(scanner_error(line0, "found character that cannot start any token").at_column(col));
        }
        let c = text[j - 1];
        let alone = j - 1 == line_start || matches!(text[j - 2], ' ' | '\t');
        let first_on_line = text[line_start..j - 1].iter().all(|&c| c == ' ' || c == '-');
        if (matches!(c, '-' | '?') && alone) || (c == ':' && first_on_line) {
            return Err(scanner_error(line0, "found character that cannot start any token").at_column(col));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::load::from_yaml;

    /// Where granit (YAML 1.2) and go-yaml differ; expectations are Go's.
    #[rustfmt::skip]
    const CASES: &[(&str, Result<&str, &str>)] = &[
        ("a:\t1\n", Ok("{\"a\":1}")),
        ("a: 1\n\t\nb: 2\n", Err("error converting YAML to JSON: yaml: line 2: found a tab character that violates indentation")),
        ("-\ta\n", Err("error converting YAML to JSON: yaml: found character that cannot start any token")),
        ("a: b\n  \tc\n", Ok("{\"a\":\"b c\"}")),
        ("a: [1,\n\t2]\n", Ok("{\"a\":[1,2]}")),
        ("[-]\n", Ok("[\"-\"]")),
        ("{a: -}\n", Ok("{\"a\":\"-\"}")),
        ("[a:]\n", Ok("[\"a:\"]")),
        ("{a:, b: c}\n", Ok("{\"a:\":null,\"b\":\"c\"}")),
        ("{?a: b}\n", Ok("{\"a\":\"b\"}")),
        ("[::1]\n", Err("error converting YAML to JSON: yaml: did not find expected node content")),
        ("[a?b]\n", Err("error converting YAML to JSON: yaml: did not find expected ',' or ']'")),
        ("{a\n: b}\n", Err("error converting YAML to JSON: yaml: line 1: did not find expected ',' or '}'")),
        ("['a\n b': c]\n", Err("error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'")),
        ("[]]\n", Ok("[]")),
        ("\"a\"# c\n", Ok("\"a\"")),
        ("a: |# c\n  x\n", Ok("{\"a\":\"x\\n\"}")),
        (": v\n", Err("error converting YAML to JSON: yaml: did not find expected key")),
        ("...\n", Err("error converting YAML to JSON: yaml: did not find expected node content")),
        ("a: \"\\'\"\n", Ok("{\"a\":\"'\"}")),
        ("a: 'x\u{2028}  y'\n", Ok("{\"a\":\"x\\u2028y\"}")),
        ("a: |-\n\n\u{2028}  x\n", Ok("{\"a\":\"\\n\\u2028x\"}")),
        ("a: !!s#t x\n", Err("error converting YAML to JSON: yaml: did not find expected whitespace or line break")),
        ("a: [!x]\n", Err("error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'")),
    ];

    #[test]
    fn go_yaml_compatibility_fixes() {
        for (input, want) in CASES {
            match (from_yaml(input), want) {
                (Ok(v), Ok(w)) => assert_eq!(v, serde_json::from_str::<serde_json::Value>(w).unwrap(), "input: {input:?}"),
                (Err(e), Err(w)) => assert_eq!(e.to_string(), *w, "input: {input:?}"),
                (got, _) => panic!("input {input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn anchors_with_characters_go_yaml_does_not_allow_fail() {
        // go-yaml reads `&a` then `:`; we only promise to fail as it does here.
        assert!(from_yaml("&a: b\n").is_err());
    }

    #[test]
    fn only_the_first_document_is_read() {
        assert_eq!(from_yaml("a: 1\n---\n[unclosed\n").unwrap(), serde_json::json!({"a": 1}));
    }
}
