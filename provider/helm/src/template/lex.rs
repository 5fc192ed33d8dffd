//! Go text/template's lexer: text and actions, trim markers, comments, and the tokens inside
//! actions. Whitespace inside an action is a token of its own because the parser uses it to
//! separate arguments, as Go's does.

use super::TemplateError;

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Text(String),
    LeftDelim,
    RightDelim,
    Space,
    /// `.`
    Dot,
    /// `.name`: one link of a field chain.
    Field(String),
    /// `$` or `$name`.
    Variable(String),
    Identifier(String),
    Keyword(Keyword),
    Bool(bool),
    Nil,
    /// A number as written; the parser interprets it.
    Number(String),
    /// A quoted or raw string, unquoted, with the original spelling for error messages.
    Str {
        value: String,
        raw: String,
    },
    /// A character constant: its code point and spelling.
    Char {
        value: char,
        raw: String,
    },
    Declare,
    Assign,
    Pipe,
    LeftParen,
    RightParen,
    Comma,
    Eof,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

/// A token and the byte offset where it starts.
#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn has_left_trim(s: &[u8]) -> bool {
    s.len() >= 2 && s[0] == b'-' && is_space(s[1])
}

fn has_right_trim(s: &[u8]) -> bool {
    s.len() >= 2 && is_space(s[0]) && s[1] == b'-'
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

pub fn lex(name: &str, input: &str) -> Result<Vec<Token>, TemplateError> {
    Lexer { name, input, bytes: input.as_bytes(), pos: 0, tokens: Vec::new(), paren_depth: 0 }.run()
}

struct Lexer<'a> {
    name: &'a str,
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
    paren_depth: usize,
}

impl Lexer<'_> {
    fn error(&self, at: usize, msg: impl Into<String>) -> TemplateError {
        TemplateError::parse(self.name, self.input, at, msg)
    }

    fn emit(&mut self, tok: Tok, pos: usize) {
        self.tokens.push(Token { tok, pos });
    }

    fn run(mut self) -> Result<Vec<Token>, TemplateError> {
        loop {
            let start = self.pos;
            match self.input[self.pos..].find(LEFT) {
                None => {
                    if start < self.input.len() {
                        self.emit(Tok::Text(self.input[start..].to_string()), start);
                    }
                    self.emit(Tok::Eof, self.input.len());
                    return Ok(self.tokens);
                }
                Some(x) => {
                    let delim = start + x;
                    let mut end = delim;
                    if has_left_trim(&self.bytes[delim + LEFT.len()..]) {
                        while end > start && is_space(self.bytes[end - 1]) {
                            end -= 1;
                        }
                    }
                    if end > start {
                        self.emit(Tok::Text(self.input[start..end].to_string()), start);
                    }
                    self.pos = delim;
                    self.left_delim()?;
                }
            }
        }
    }

    fn left_delim(&mut self) -> Result<(), TemplateError> {
        let delim = self.pos;
        self.pos += LEFT.len();
        let after_marker = if has_left_trim(&self.bytes[self.pos..]) { 2 } else { 0 };
        if self.input[self.pos + after_marker..].starts_with("/*") {
            self.pos += after_marker;
            return self.comment(delim);
        }
        self.emit(Tok::LeftDelim, delim);
        self.pos += after_marker;
        self.paren_depth = 0;
        self.inside_action()
    }

    /// Whether a right delimiter is next, and whether it carries a trim marker.
    fn at_right_delim(&self) -> Option<bool> {
        let rest = &self.bytes[self.pos..];
        if has_right_trim(rest) && rest[2..].starts_with(RIGHT.as_bytes()) {
            Some(true)
        } else if rest.starts_with(RIGHT.as_bytes()) {
            Some(false)
        } else {
            None
        }
    }

    fn skip_trailing_space(&mut self) {
        while self.pos < self.bytes.len() && is_space(self.bytes[self.pos]) {
            self.pos += 1;
        }
    }

    fn comment(&mut self, delim: usize) -> Result<(), TemplateError> {
        self.pos += 2;
        let Some(x) = self.input[self.pos..].find("*/") else {
            return Err(self.error(delim, "unclosed comment"));
        };
        self.pos += x + 2;
        let Some(trim) = self.at_right_delim() else {
            return Err(self.error(delim, "comment ends before closing delimiter"));
        };
        self.pos += if trim { 2 } else { 0 } + RIGHT.len();
        if trim {
            self.skip_trailing_space();
        }
        Ok(())
    }

    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn inside_action(&mut self) -> Result<(), TemplateError> {
        loop {
            if let Some(trim) = self.at_right_delim() {
                if self.paren_depth > 0 {
                    return Err(self.error(self.pos, "unclosed left paren"));
                }
                if trim {
                    self.pos += 2;
                }
                self.emit(Tok::RightDelim, self.pos);
                self.pos += RIGHT.len();
                if trim {
                    self.skip_trailing_space();
                }
                return Ok(());
            }
            let start = self.pos;
            let Some(c) = self.peek() else {
                return Err(self.error(start, "unclosed action"));
            };
            match c {
                ' ' | '\t' | '\r' | '\n' => self.space(),
                '=' => {
                    self.pos += 1;
                    self.emit(Tok::Assign, start);
                }
                ':' => {
                    if self.bytes.get(self.pos + 1) != Some(&b'=') {
                        return Err(self.error(start, "expected :="));
                    }
                    self.pos += 2;
                    self.emit(Tok::Declare, start);
                }
                '|' => {
                    self.pos += 1;
                    self.emit(Tok::Pipe, start);
                }
                '"' => self.quoted(start)?,
                '`' => self.raw_string(start)?,
                '\'' => self.char_constant(start)?,
                '$' => {
                    self.pos += 1;
                    let name = self.alnum_run();
                    self.emit(Tok::Variable(format!("${name}")), start);
                    self.check_terminator()?;
                }
                '.' => {
                    if self.bytes.get(self.pos + 1).is_some_and(u8::is_ascii_digit) {
                        self.number(start)?;
                    } else {
                        self.pos += 1;
                        let name = self.alnum_run();
                        if name.is_empty() {
                            self.emit(Tok::Dot, start);
                        } else {
                            self.emit(Tok::Field(name), start);
                        }
                        self.check_terminator()?;
                    }
                }
                '+' | '-' | '0'..='9' => self.number(start)?,
                '(' => {
                    self.pos += 1;
                    self.paren_depth += 1;
                    self.emit(Tok::LeftParen, start);
                }
                ')' => {
                    self.pos += 1;
                    if self.paren_depth == 0 {
                        return Err(self.error(start, "unexpected right paren"));
                    }
                    self.paren_depth -= 1;
                    self.emit(Tok::RightParen, start);
                }
                ',' => {
                    self.pos += 1;
                    self.emit(Tok::Comma, start);
                }
                c if is_alnum(c) => {
                    let word = self.alnum_run();
                    let tok = match word.as_str() {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        "block" => Tok::Keyword(Keyword::Block),
                        "break" => Tok::Keyword(Keyword::Break),
                        "continue" => Tok::Keyword(Keyword::Continue),
                        "define" => Tok::Keyword(Keyword::Define),
                        "else" => Tok::Keyword(Keyword::Else),
                        "end" => Tok::Keyword(Keyword::End),
                        "if" => Tok::Keyword(Keyword::If),
                        "range" => Tok::Keyword(Keyword::Range),
                        "template" => Tok::Keyword(Keyword::Template),
                        "with" => Tok::Keyword(Keyword::With),
                        _ => Tok::Identifier(word),
                    };
                    self.emit(tok, start);
                    self.check_terminator()?;
                }
                c => {
                    return Err(self.error(start, format!("unrecognized character in action: {}", go_quote_rune_u(c))));
                }
            }
        }
    }

    fn space(&mut self) {
        let start = self.pos;
        while self.pos < self.bytes.len() && is_space(self.bytes[self.pos]) {
            self.pos += 1;
        }
        // A space before `-}}` belongs to the trim marker.
        let last = self.pos - 1;
        if has_right_trim(&self.bytes[last..]) && self.bytes[last + 2..].starts_with(RIGHT.as_bytes()) {
            self.pos = last;
            if self.pos == start {
                return;
            }
        }
        self.emit(Tok::Space, start);
    }

    fn alnum_run(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !is_alnum(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.input[start..self.pos].to_string()
    }

    /// After a word, only a space, punctuation that may follow it, or the delimiter.
    fn check_terminator(&self) -> Result<(), TemplateError> {
        match self.peek() {
            None | Some(' ' | '\t' | '\r' | '\n' | '.' | ',' | '|' | ':' | ')' | '(') => Ok(()),
            Some(_) if self.input[self.pos..].starts_with(RIGHT) => Ok(()),
            Some(c) => Err(self.error(self.pos, format!("bad character {}", go_quote_rune_u(c)))),
        }
    }

    fn quoted(&mut self, start: usize) -> Result<(), TemplateError> {
        let mut i = self.pos + 1;
        loop {
            match self.bytes.get(i) {
                None | Some(b'\n') => return Err(self.error(start, "unterminated quoted string")),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        let raw = &self.input[start..=i];
        self.pos = i + 1;
        let value = unquote(&raw[1..raw.len() - 1]).ok_or_else(|| self.error(start, format!("invalid syntax: {raw}")))?;
        self.emit(Tok::Str { value, raw: raw.to_string() }, start);
        Ok(())
    }

    fn raw_string(&mut self, start: usize) -> Result<(), TemplateError> {
        let Some(x) = self.input[start + 1..].find('`') else {
            return Err(self.error(start, "unterminated raw quoted string"));
        };
        let raw = &self.input[start..start + x + 2];
        self.pos = start + x + 2;
        // Go drops carriage returns from raw strings.
        let value = raw[1..raw.len() - 1].replace('\r', "");
        self.emit(Tok::Str { value, raw: raw.to_string() }, start);
        Ok(())
    }

    fn char_constant(&mut self, start: usize) -> Result<(), TemplateError> {
        let mut i = self.pos + 1;
        loop {
            match self.bytes.get(i) {
                None | Some(b'\n') => return Err(self.error(start, "unterminated character constant")),
                Some(b'\\') => i += 2,
                Some(b'\'') => break,
                Some(_) => i += 1,
            }
        }
        let raw = &self.input[start..=i];
        self.pos = i + 1;
        let body = &raw[1..raw.len() - 1];
        let text = if body == "\"" { Some("\"".to_string()) } else { unquote(&body.replace("\\'", "'")) };
        let mut chars = text.as_deref().unwrap_or("").chars();
        match (chars.next(), chars.next()) {
            (Some(value), None) => {
                self.emit(Tok::Char { value, raw: raw.to_string() }, start);
                Ok(())
            }
            _ => Err(self.error(start, format!("malformed character constant: {raw}"))),
        }
    }

    fn number(&mut self, start: usize) -> Result<(), TemplateError> {
        let b = self.bytes;
        let mut i = self.pos;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let mut digits: &[u8] = b"0123456789_";
        if b.get(i) == Some(&b'0') {
            match b.get(i + 1).map(u8::to_ascii_lowercase) {
                Some(b'x') => {
                    i += 2;
                    digits = b"0123456789abcdefABCDEF_";
                }
                Some(b'o') => {
                    i += 2;
                    digits = b"01234567_";
                }
                Some(b'b') => {
                    i += 2;
                    digits = b"01_";
                }
                _ => {}
            }
        }
        let hex = digits.len() > 11;
        let run = |i: &mut usize| {
            while b.get(*i).is_some_and(|c| digits.contains(c)) {
                *i += 1;
            }
        };
        run(&mut i);
        if b.get(i) == Some(&b'.') {
            i += 1;
            run(&mut i);
        }
        let exp: &[u8] = if hex { b"pP" } else { b"eE" };
        if b.get(i).is_some_and(|c| exp.contains(c)) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        if b.get(i) == Some(&b'i') {
            i += 1;
        }
        let text = &self.input[start..i];
        self.pos = i;
        if self.peek().is_some_and(is_alnum) {
            let end = self.pos + self.peek().map_or(0, char::len_utf8);
            return Err(self.error(start, format!("bad number syntax: \"{}\"", &self.input[start..end])));
        }
        self.emit(Tok::Number(text.to_string()), start);
        Ok(())
    }
}

/// `%#U` of a rune, as Go's lexer prints a bad character.
fn go_quote_rune_u(c: char) -> String {
    format!("U+{:04X} '{}'", c as u32, c)
}

/// Go's `strconv.Unquote` of a double-quoted string's body.
pub fn unquote(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let esc = chars.next()?;
        let mut hex = |n: usize, radix: u32| -> Option<u32> {
            let mut v = 0u32;
            for _ in 0..n {
                v = v * radix + chars.next()?.to_digit(radix)?;
            }
            Some(v)
        };
        match esc {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            '\'' => out.push('\''),
            'x' => out.push(char::from_u32(hex(2, 16)?)?),
            'u' => out.push(char::from_u32(hex(4, 16)?)?),
            'U' => out.push(char::from_u32(hex(8, 16)?)?),
            '0'..='7' => {
                let rest = hex(2, 8)?;
                out.push(char::from_u32(esc.to_digit(8)? * 64 + rest)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(input: &str) -> Vec<Tok> {
        lex("t", input).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn trim_markers_eat_surrounding_whitespace() {
        assert_eq!(
            toks("a \n {{- .x -}} \n b"),
            vec![Tok::Text("a".into()), Tok::LeftDelim, Tok::Field("x".into()), Tok::RightDelim, Tok::Text("b".into()), Tok::Eof]
        );
    }

    #[test]
    fn a_dash_without_space_is_a_number() {
        assert_eq!(toks("{{-3}}"), vec![Tok::LeftDelim, Tok::Number("-3".into()), Tok::RightDelim, Tok::Eof]);
    }

    #[test]
    fn comments_vanish() {
        assert_eq!(toks("a {{- /* c */ -}} b"), vec![Tok::Text("a".into()), Tok::Text("b".into()), Tok::Eof]);
    }

    #[test]
    fn strings_are_unquoted() {
        let t = toks(r#"{{ "a\tb\u00e9" `r\n` }}"#);
        assert_eq!(t[2], Tok::Str { value: "a\tb\u{e9}".into(), raw: r#""a\tb\u00e9""#.into() });
        assert_eq!(t[4], Tok::Str { value: "r\\n".into(), raw: "`r\\n`".into() });
    }
}
