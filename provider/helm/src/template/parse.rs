//! Go text/template's parser: one file into its main tree and the templates it defines.
//! Errors carry the messages Go's parser gives, because Helm prints them to users.

use std::rc::Rc;

use super::ast::{Arg, Command, Control, Node, Number, Pipe};
use super::lex::{lex, Keyword, Tok, Token};
use super::{Source, TemplateError};

/// A parsed template: its name, the file it came from and its body.
#[derive(Clone, Debug)]
pub struct Tree {
    pub name: String,
    pub source: Rc<Source>,
    pub root: Vec<Node>,
}

impl Tree {
    /// Go's `IsEmptyTree`: nothing but whitespace text. An empty definition never replaces a
    /// non-empty one.
    pub fn is_empty(&self) -> bool {
        self.root.iter().all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()))
    }
}

/// Parses `text` as the file `name`: its main tree first, then its definitions in order.
/// `is_function` says which identifiers name functions; others are a parse error.
pub fn parse(name: &str, text: &str, is_function: &dyn Fn(&str) -> bool) -> std::result::Result<Vec<Tree>, TemplateError> {
    let source = Rc::new(Source { name: name.to_string(), text: text.to_string() });
    let tokens = lex(name, text)?;
    let mut parser = Parser {
        source: source.clone(),
        tokens,
        i: 0,
        seen: std::cell::Cell::new(0),
        vars: vec!["$".into()],
        range_depth: 0,
        is_function,
        defined: Vec::new(),
    };
    let root = parser.top_level()?;
    let mut trees = vec![Tree { name: name.to_string(), source, root }];
    trees.extend(parser.defined);
    Ok(trees)
}

struct Parser<'a> {
    source: Rc<Source>,
    tokens: Vec<Token>,
    i: usize,
    /// The furthest token looked at: Go reports parse errors at the line of its lookahead.
    seen: std::cell::Cell<usize>,
    vars: Vec<String>,
    range_depth: usize,
    is_function: &'a dyn Fn(&str) -> bool,
    defined: Vec<Tree>,
}

type Result<T> = std::result::Result<T, TemplateError>;

/// What ended an item list.
enum Stop {
    End,
    Else,
}

impl Parser<'_> {
    fn error(&self, msg: impl Into<String>) -> TemplateError {
        let pos = self.tokens[self.seen.get().min(self.tokens.len() - 1)].pos;
        TemplateError::parse(&self.source.name, &self.source.text, pos, msg)
    }

    fn peek(&self) -> &Token {
        self.seen.set(self.seen.get().max(self.i));
        &self.tokens[self.i]
    }

    fn next(&mut self) -> Token {
        self.seen.set(self.seen.get().max(self.i));
        let t = self.tokens[self.i].clone();
        if self.i < self.tokens.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn skip_space(&mut self) {
        while self.peek().tok == Tok::Space {
            self.i += 1;
        }
    }

    fn peek_non_space(&mut self) -> &Token {
        self.skip_space();
        self.peek()
    }

    fn next_non_space(&mut self) -> Token {
        self.skip_space();
        self.next()
    }

    fn unexpected(&self, tok: &Token, context: &str) -> TemplateError {
        let what = match &tok.tok {
            Tok::RightDelim => "<}}>".to_string(),
            Tok::LeftDelim => "<{{>".to_string(),
            Tok::Eof => "EOF".to_string(),
            Tok::RightParen => "<)>".to_string(),
            other => format!("{:?}", describe(other)),
        };
        self.error(format!("unexpected {what} in {context}"))
    }

    fn expect_right_delim(&mut self, context: &str) -> Result<()> {
        let tok = self.next_non_space();
        if tok.tok != Tok::RightDelim {
            return Err(self.unexpected(&tok, context));
        }
        Ok(())
    }

    fn top_level(&mut self) -> Result<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().tok != Tok::Eof {
            if self.peek().tok == Tok::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().tok == Tok::Keyword(Keyword::Define) {
                    self.definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::Stop(Stop::End) => return Err(self.error("unexpected {{end}}")),
                Item::Stop(Stop::Else) => return Err(self.error("unexpected {{else}}")),
            }
        }
        Ok(root)
    }

    fn definition(&mut self) -> Result<()> {
        let tok = self.next_non_space();
        let Tok::Str { value: name, .. } = tok.tok else {
            return Err(self.unexpected(&tok, "define clause"));
        };
        self.expect_right_delim("define clause")?;
        let outer_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let (root, stop) = self.item_list()?;
        self.vars = outer_vars;
        if let Stop::Else = stop {
            return Err(self.error("unexpected {{else}} in define clause"));
        }
        self.add_definition(Tree { name, source: self.source.clone(), root })
    }

    /// Within one file, a second non-empty definition of a name is an error (Go's `add`).
    fn add_definition(&mut self, tree: Tree) -> Result<()> {
        if let Some(existing) = self.defined.iter_mut().find(|t| t.name == tree.name) {
            if existing.is_empty() {
                *existing = tree;
            } else if !tree.is_empty() {
                return Err(self.error(format!("template: multiple definition of template {:?}", tree.name)));
            }
            return Ok(());
        }
        self.defined.push(tree);
        Ok(())
    }

    fn item_list(&mut self) -> Result<(Vec<Node>, Stop)> {
        let mut list = Vec::new();
        while self.peek_non_space().tok != Tok::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::Stop(stop) => return Ok((list, stop)),
            }
        }
        Err(self.error("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> Result<Item> {
        let tok = self.next_non_space();
        match tok.tok {
            Tok::Text(text) => Ok(Item::Node(Node::Text(text))),
            Tok::LeftDelim => self.action(),
            _ => Err(self.unexpected(&tok, "input")),
        }
    }

    fn action(&mut self) -> Result<Item> {
        let tok = self.next_non_space();
        let node = match tok.tok {
            Tok::Keyword(Keyword::Block) => self.block()?,
            Tok::Keyword(Keyword::Break) => self.break_or_continue(tok.pos, "break")?,
            Tok::Keyword(Keyword::Continue) => self.break_or_continue(tok.pos, "continue")?,
            Tok::Keyword(Keyword::Else) => {
                // `else if` and `else with` leave the keyword pending for the enclosing control.
                let next = self.peek_non_space().tok.clone();
                if !matches!(next, Tok::Keyword(Keyword::If | Keyword::With)) {
                    self.expect_right_delim("else")?;
                }
                return Ok(Item::Stop(Stop::Else));
            }
            Tok::Keyword(Keyword::End) => {
                self.expect_right_delim("end")?;
                return Ok(Item::Stop(Stop::End));
            }
            Tok::Keyword(Keyword::If) => Node::If(self.control("if")?),
            Tok::Keyword(Keyword::Range) => Node::Range(self.control("range")?),
            Tok::Keyword(Keyword::With) => Node::With(self.control("with")?),
            Tok::Keyword(Keyword::Template) => self.template_call("template clause")?,
            Tok::Keyword(Keyword::Define) => return Err(self.error("unexpected <define> in command")),
            _ => {
                self.i -= 1;
                Node::Action(self.pipeline("command", &Tok::RightDelim)?)
            }
        };
        Ok(Item::Node(node))
    }

    fn break_or_continue(&mut self, pos: usize, word: &str) -> Result<Node> {
        let tok = self.next_non_space();
        if tok.tok != Tok::RightDelim {
            return Err(self.unexpected(&tok, &format!("{{{{{word}}}}}")));
        }
        if self.range_depth == 0 {
            return Err(self.error(format!("{{{{{word}}}}} outside {{{{range}}}}")));
        }
        Ok(if word == "break" { Node::Break(pos) } else { Node::Continue(pos) })
    }

    fn control(&mut self, context: &str) -> Result<Control> {
        let vars = self.vars.len();
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, stop) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let else_list = match stop {
            Stop::End => None,
            Stop::Else => {
                let chained = match (context, &self.peek_non_space().tok) {
                    ("if", Tok::Keyword(Keyword::If)) => Some(Node::If as fn(Control) -> Node),
                    ("with", Tok::Keyword(Keyword::With)) => Some(Node::With as fn(Control) -> Node),
                    _ => None,
                };
                if let Some(make) = chained {
                    // `{{else if b}}…{{end}}` is `{{else}}{{if b}}…{{end}}{{end}}`.
                    self.next();
                    Some(vec![make(self.control(context)?)])
                } else {
                    let (list, stop) = self.item_list()?;
                    if let Stop::Else = stop {
                        return Err(self.error("expected end; found {{else}}"));
                    }
                    Some(list)
                }
            }
        };
        self.vars.truncate(vars);
        Ok(Control { pipe, list, else_list })
    }

    /// The name of a template call and its position, where Go positions the call.
    fn template_name(&mut self, context: &str) -> Result<(usize, String)> {
        let tok = self.next_non_space();
        match tok.tok {
            Tok::Str { value, .. } => Ok((tok.pos, value)),
            _ => Err(self.unexpected(&tok, context)),
        }
    }

    fn template_call(&mut self, context: &str) -> Result<Node> {
        let (pos, name) = self.template_name(context)?;
        let pipe = if self.peek_non_space().tok == Tok::RightDelim {
            self.next();
            None
        } else {
            Some(self.pipeline(context, &Tok::RightDelim)?)
        };
        Ok(Node::Template { pos, name, pipe })
    }

    /// `{{block "name" pipeline}}body{{end}}`: defines `name` and calls it in place.
    fn block(&mut self) -> Result<Node> {
        let context = "block clause";
        let (pos, name) = self.template_name(context)?;
        let pipe = self.pipeline(context, &Tok::RightDelim)?;
        let outer_vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let outer_depth = std::mem::replace(&mut self.range_depth, 0);
        let (root, stop) = self.item_list()?;
        self.vars = outer_vars;
        self.range_depth = outer_depth;
        if let Stop::Else = stop {
            return Err(self.error(format!("unexpected {{{{else}}}} in {context}")));
        }
        self.add_definition(Tree { name: name.clone(), source: self.source.clone(), root })?;
        Ok(Node::Template { pos, name, pipe: Some(pipe) })
    }

    fn pipeline(&mut self, context: &str, end: &Tok) -> Result<Pipe> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe { pos, decl: Vec::new(), is_assign: false, cmds: Vec::new() };
        loop {
            let Tok::Variable(name) = self.peek_non_space().tok.clone() else { break };
            let save = self.i;
            self.next();
            let next = self.peek_non_space().tok.clone();
            match next {
                Tok::Assign | Tok::Declare => {
                    self.next();
                    pipe.is_assign = next == Tok::Assign;
                    if pipe.is_assign && !self.vars.contains(&name) {
                        return Err(self.error(format!("undefined variable {name:?}")));
                    }
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    break;
                }
                Tok::Comma => {
                    self.next();
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        if matches!(self.peek_non_space().tok, Tok::Variable(_) | Tok::RightDelim | Tok::RightParen) {
                            continue;
                        }
                        return Err(self.error("range can only initialize variables"));
                    }
                    return Err(self.error(format!("too many declarations in {context}")));
                }
                _ => {
                    self.i = save;
                    break;
                }
            }
        }
        loop {
            let tok = self.next_non_space();
            if &tok.tok == end {
                if pipe.cmds.is_empty() {
                    return Err(self.error(format!("missing value for {context}")));
                }
                for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
                    if !matches!(
                        cmd.args[0],
                        Arg::Field { .. } | Arg::Variable { .. } | Arg::Chain { .. } | Arg::Identifier { .. } | Arg::Pipe(_)
                    ) {
                        return Err(self.error(format!("non executable command in pipeline stage {}", i + 1)));
                    }
                }
                return Ok(pipe);
            }
            match tok.tok {
                Tok::Bool(_)
                | Tok::Char { .. }
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Identifier(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::Str { .. }
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.i -= 1;
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&tok, context)),
            }
        }
    }

    fn command(&mut self) -> Result<Command> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.skip_space();
            if let Some(arg) = self.operand()? {
                args.push(arg);
            }
            let tok = self.next();
            match tok.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.i -= 1,
                Tok::Pipe => {}
                _ => return Err(self.unexpected(&tok, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.error("empty command"));
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> Result<Option<Arg>> {
        let Some(term) = self.term()? else { return Ok(None) };
        let Tok::Field(_) = self.peek().tok else { return Ok(Some(term)) };
        // Go positions a chain at its first added field.
        let pos = self.peek().pos;
        let mut path = Vec::new();
        while let Tok::Field(name) = &self.peek().tok {
            path.push(name.clone());
            self.next();
        }
        Ok(Some(match term {
            Arg::Field { path: mut first, .. } => {
                first.extend(path);
                Arg::Field { pos, path: first }
            }
            Arg::Variable { name, path: mut first, .. } => {
                first.extend(path);
                Arg::Variable { pos, name, path: first }
            }
            Arg::Bool(..) | Arg::Str { .. } | Arg::Number { .. } | Arg::Nil(_) | Arg::Dot(_) => {
                return Err(self.error(format!("unexpected . after term {:?}", term.to_string())));
            }
            other => Arg::Chain { pos, node: Box::new(other), path },
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>> {
        let tok = self.next_non_space();
        let pos = tok.pos;
        Ok(Some(match tok.tok {
            Tok::Identifier(name) => {
                if !(self.is_function)(&name) {
                    return Err(self.error(format!("function {name:?} not defined")));
                }
                Arg::Identifier { pos, name }
            }
            Tok::Dot => Arg::Dot(pos),
            Tok::Nil => Arg::Nil(pos),
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return Err(self.error(format!("undefined variable {name:?}")));
                }
                Arg::Variable { pos, name, path: Vec::new() }
            }
            Tok::Field(name) => Arg::Field { pos, path: vec![name] },
            Tok::Bool(b) => Arg::Bool(pos, b),
            Tok::Number(text) => {
                let num = parse_number(&text).map_err(|e| self.error(e))?;
                Arg::Number { pos, text, num }
            }
            Tok::Char { value, raw } => {
                let code = value as i64;
                Arg::Number {
                    pos,
                    text: raw,
                    num: Number { int: Some(code), uint: Some(code as u64), float: Some(code as f64), is_char: true },
                }
            }
            Tok::LeftParen => Arg::Pipe(Box::new(self.pipeline("parenthesized pipeline", &Tok::RightParen)?)),
            Tok::Str { value, raw } => Arg::Str { pos, value, raw },
            _ => {
                self.i -= 1;
                return Ok(None);
            }
        }))
    }
}

enum Item {
    Node(Node),
    Stop(Stop),
}

/// How Go's parser names a token in "unexpected" errors.
fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Text(t) | Tok::Field(t) | Tok::Variable(t) | Tok::Identifier(t) | Tok::Number(t) => t.clone(),
        Tok::Str { raw, .. } | Tok::Char { raw, .. } => raw.clone(),
        Tok::Bool(b) => b.to_string(),
        Tok::Nil => "nil".into(),
        Tok::Dot => ".".into(),
        Tok::Declare => ":=".into(),
        Tok::Assign => "=".into(),
        Tok::Pipe => "|".into(),
        Tok::LeftParen => "(".into(),
        Tok::Comma => ",".into(),
        Tok::Keyword(k) => format!("<{}>", format!("{k:?}").to_lowercase()),
        other => format!("{other:?}"),
    }
}

/// Go's `parse.newNumber`: which of int, uint and float64 the text can be.
fn parse_number(text: &str) -> std::result::Result<Number, String> {
    if text.ends_with('i') {
        return Err(format!("complex numbers are not supported: {text}"));
    }
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, body) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit()) {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    let mut num = Number::default();
    if let Ok(u) = u64::from_str_radix(digits, radix) {
        if negative {
            if u <= i64::MAX as u64 + 1 {
                num.int = Some((u as i128).wrapping_neg() as i64);
            }
        } else {
            num.uint = Some(u);
            num.int = i64::try_from(u).ok();
        }
    }
    if let Some(i) = num.int {
        num.float = Some(i as f64);
    } else if let Some(u) = num.uint {
        num.float = Some(u as f64);
    } else if radix == 10 || (radix == 16 && lower.contains('p')) {
        let f = match radix {
            16 => hex_float(digits).map(|f| if negative { -f } else { f }),
            _ => clean.parse().ok(),
        };
        let f: f64 = f.ok_or_else(|| format!("illegal number syntax: {text:?}"))?;
        if !lower.contains(['.', 'e', 'p']) {
            return Err(format!("integer overflow: {text:?}"));
        }
        num.float = Some(f);
        if f.fract() == 0.0 && f.abs() < 9.2e18 {
            num.int = Some(f as i64);
            if f >= 0.0 {
                num.uint = Some(f as u64);
            }
        }
    } else {
        return Err(format!("illegal number syntax: {text:?}"));
    }
    Ok(num)
}

/// A hexadecimal float's value after `0x`: hex digits with an optional fraction, then a
/// binary exponent (`1p60`, `1.8p1`), as Go's `strconv.ParseFloat` reads them.
fn hex_float(text: &str) -> Option<f64> {
    let (mantissa, exponent) = text.split_once('p')?;
    let exponent: i32 = exponent.parse().ok()?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in whole.chars().chain(fraction.chars()) {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    Some(value * 2f64.powi(exponent - 4 * fraction.len() as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Vec<Tree> {
        parse("t", text, &|name| name == "f").unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse("t", text, &|name| name == "f").unwrap_err().to_string()
    }

    #[test]
    fn definitions_are_separate_trees() {
        let trees = parse_ok("a{{define \"x\"}}b{{end}}c");
        assert_eq!(trees.len(), 2);
        assert_eq!(trees[1].name, "x");
        assert_eq!(trees[0].root.len(), 2);
    }

    #[test]
    fn chained_fields_print_like_go() {
        let trees = parse_ok("{{ (f .a).b.c | f $ }}");
        let Node::Action(pipe) = &trees[0].root[0] else { panic!() };
        assert_eq!(pipe.to_string(), "(f .a).b.c | f $");
    }

    #[test]
    fn errors_name_file_and_line() {
        assert_eq!(parse_err("\n{{ nope }}"), "template: t:2: function \"nope\" not defined");
        assert_eq!(parse_err("{{ $x }}"), "template: t:1: undefined variable \"$x\"");
        assert_eq!(parse_err("{{ if .a }}"), "template: t:1: unexpected EOF");
        assert_eq!(parse_err("{{ break }}"), "template: t:1: {{break}} outside {{range}}");
    }

    #[test]
    fn numbers_know_their_types() {
        let n = parse_number("1e3").unwrap();
        assert_eq!((n.int, n.float), (Some(1000), Some(1000.0)));
        let n = parse_number("0x10").unwrap();
        assert_eq!(n.int, Some(16));
        // Hexadecimal floats, as Traefik's chart writes 2^60.
        let n = parse_number("0x1p60").unwrap();
        assert_eq!((n.int, n.float), (Some(1 << 60), Some(1152921504606846976.0)));
        assert_eq!(parse_number("0x1.8p1").unwrap().float, Some(3.0));
        assert_eq!(parse_number("-0x1p-2").unwrap().float, Some(-0.25));
        assert!(parse_number("99999999999999999999").is_err());
    }
}
