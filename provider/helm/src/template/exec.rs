//! Executes parsed templates with Go text/template's semantics: pipelines pass their value as
//! the last argument, variables are scoped to the control structure that declares them, `and`
//! and `or` short-circuit, missing map keys are nil (Helm's `missingkey=zero`), and errors say
//! where, as Go's do: `template: FILE:LINE:COL: executing "NAME" at <NODE>: MESSAGE`.

use std::collections::HashMap;
use std::rc::Rc;

use super::ast::{Arg, Command, Control, Node, Number, Pipe};
use super::entropy::Entropy;
use super::funcs::{self, Ty};
use super::parse::{parse, Tree};
use super::print::{go_quote, sprint_value};
use super::value::{IntType, Value};
use super::{Cause, TemplateError};

/// Go's limit on nested template calls.
const MAX_EXEC_DEPTH: usize = 100_000;
/// Helm's limit on `include` recursion of one template name.
const MAX_INCLUDE_DEPTH: usize = 1000;

/// Every template parsed so far, by name. Later files replace earlier definitions of the same
/// name, except that an empty definition never replaces a non-empty one (Go's `associate`).
#[derive(Clone, Default)]
pub struct TemplateSet {
    trees: HashMap<String, Rc<Tree>>,
}

impl TemplateSet {
    pub fn new() -> TemplateSet {
        TemplateSet::default()
    }

    /// Parses a file and adds its main tree and its definitions.
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<()> {
        for tree in parse(name, text, &funcs::exists)? {
            match self.trees.get(&tree.name) {
                Some(old) if tree.is_empty() && !old.is_empty() => {}
                _ => {
                    self.trees.insert(tree.name.clone(), Rc::new(tree));
                }
            }
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<Rc<Tree>> {
        self.trees.get(name).cloned()
    }
}

/// The name of Helm's root template: `tpl` parses under it, and "no template" errors name it.
pub const ROOT_NAME: &str = "gotpl";

/// What a function sees of the engine: the templates (for `include` and `tpl`) and the
/// include counts. A template error from `include` or `tpl` waits in `nested_error` for the
/// executor, which keeps it as the cause of its own error (functions return plain text).
pub struct Engine {
    pub set: TemplateSet,
    /// What random, key, certificate and time functions draw from.
    pub entropy: Entropy,
    /// What `lookup` reads.
    pub cluster: crate::lookup::Cluster,
    include_depth: HashMap<String, usize>,
    nested_error: Option<TemplateError>,
}

/// A value and whether it came out of an interface slot (a map entry or a list element).
/// Go treats a nil taken from such a slot differently from a nil pipeline result: a field of
/// the former is an error ("nil pointer evaluating interface {}.x"), of the latter just nil.
#[derive(Clone, Debug)]
struct Slot {
    value: Value,
    from_interface: bool,
}

impl Slot {
    fn plain(value: Value) -> Slot {
        Slot { value, from_interface: false }
    }
}

/// How a list of nodes ended.
enum Flow {
    Normal,
    Break,
    Continue,
}

struct State {
    tree: Rc<Tree>,
    vars: Vec<(String, Slot)>,
    out: String,
    depth: usize,
}

type Result<T> = std::result::Result<T, TemplateError>;

impl Engine {
    pub fn new(set: TemplateSet) -> Engine {
        Engine { set, entropy: Entropy::system(), cluster: Default::default(), include_depth: HashMap::new(), nested_error: None }
    }

    /// Renders the template `name` with `data` as dot and `$`.
    pub fn execute(&mut self, name: &str, data: Value) -> Result<String> {
        self.execute_at_depth(name, data, 0)
    }

    fn execute_at_depth(&mut self, name: &str, data: Value, depth: usize) -> Result<String> {
        let Some(tree) = self.set.get(name) else {
            return Err(TemplateError::plain(format!(
                "template: no template {} associated with template {}",
                go_quote(name),
                go_quote(ROOT_NAME)
            )));
        };
        let dot = Slot::plain(data);
        let mut st = State { tree: tree.clone(), vars: vec![("$".into(), dot.clone())], out: String::new(), depth };
        self.walk(&mut st, &dot, &tree.root)?;
        Ok(st.out)
    }

    /// Helm's `include`: renders a named template to a string, counting recursion.
    pub fn include(&mut self, name: &str, data: Value) -> std::result::Result<String, String> {
        let count = self.include_depth.entry(name.to_string()).or_insert(0);
        if *count > MAX_INCLUDE_DEPTH {
            return Err(format!("rendering template has a nested reference name: {name}: unable to execute template"));
        }
        *count += 1;
        let result = self.execute_at_depth(name, data, 0);
        if let Some(count) = self.include_depth.get_mut(name) {
            *count -= 1;
        }
        result.map_err(|e| self.nest(e))
    }

    /// Keeps a template error for the executor and returns its text for the function.
    fn nest(&mut self, err: TemplateError) -> String {
        let message = err.message.clone();
        self.nested_error = Some(err);
        message
    }

    fn error(&self, st: &State, pos: usize, context: &str, msg: impl Into<String>) -> TemplateError {
        TemplateError::exec(&st.tree, pos, context, msg)
    }

    fn walk(&mut self, st: &mut State, dot: &Slot, nodes: &[Node]) -> Result<Flow> {
        for node in nodes {
            match self.walk_node(st, dot, node)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk_node(&mut self, st: &mut State, dot: &Slot, node: &Node) -> Result<Flow> {
        match node {
            Node::Text(text) => st.out.push_str(text),
            Node::Action(pipe) => {
                let value = self.eval_pipeline(st, dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.print(st, &value);
                }
            }
            Node::If(control) => return self.walk_branch(st, dot, control, false),
            Node::With(control) => return self.walk_branch(st, dot, control, true),
            Node::Range(control) => return self.walk_range(st, dot, control),
            Node::Template { pos, name, pipe } => {
                let value = match pipe {
                    Some(pipe) => self.eval_pipeline(st, dot, pipe)?,
                    None => Value::Nil,
                };
                if st.depth >= MAX_EXEC_DEPTH {
                    return Err(self.error(st, *pos, &format!("template {name:?}"), "exceeded maximum template depth (100000)"));
                }
                let Some(tree) = self.set.get(name) else {
                    let context = match pipe {
                        Some(pipe) => format!("{{{{template {} {pipe}}}}}", go_quote(name)),
                        None => format!("{{{{template {}}}}}", go_quote(name)),
                    };
                    return Err(self.error(st, *pos, &context, format!("template {} not defined", go_quote(name))));
                };
                let dot = Slot::plain(value);
                let mut inner =
                    State { tree: tree.clone(), vars: vec![("$".into(), dot.clone())], out: String::new(), depth: st.depth + 1 };
                self.walk(&mut inner, &dot, &tree.root)?;
                st.out.push_str(&inner.out);
            }
            Node::Break(_) => return Ok(Flow::Break),
            Node::Continue(_) => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    /// `if` and `with`: the list when the pipeline's value is true (with it as dot for
    /// `with`), else the else list; variables declared inside end with the structure.
    fn walk_branch(&mut self, st: &mut State, dot: &Slot, control: &Control, with: bool) -> Result<Flow> {
        let vars = st.vars.len();
        let value = self.eval_pipeline(st, dot, &control.pipe)?;
        let flow = if value.truthy() {
            let inner = if with { Slot::plain(value) } else { dot.clone() };
            self.walk(st, &inner, &control.list)?
        } else if let Some(else_list) = &control.else_list {
            self.walk(st, dot, else_list)?
        } else {
            Flow::Normal
        };
        st.vars.truncate(vars);
        Ok(flow)
    }

    fn walk_range(&mut self, st: &mut State, dot: &Slot, control: &Control) -> Result<Flow> {
        let vars = st.vars.len();
        let value = self.eval_pipeline(st, dot, &control.pipe)?;
        // The pipeline declared its variables with the whole value; each iteration sets them.
        st.vars.truncate(vars);
        let items: Vec<(Value, Value)> = match &value {
            Value::List(items, _) => items.iter().enumerate().map(|(i, v)| (Value::int(i as i64), v.clone())).collect(),
            Value::Map(map) => map.borrow().iter().map(|(k, v)| (Value::str(k.as_str()), v.clone())).collect(),
            Value::Int(n, kind) => (0..*n).map(|i| (Value::Int(i, *kind), Value::Int(i, *kind))).collect(),
            Value::Nil => Vec::new(),
            Value::Object(obj) if obj.items().is_some() => {
                obj.items().unwrap_or_default().into_iter().enumerate().map(|(i, v)| (Value::int(i as i64), v)).collect()
            }
            other => {
                return Err(self.error(
                    st,
                    control.pipe.pos,
                    &control.pipe.to_string(),
                    format!("range can't iterate over {}", sprint_value(other)),
                ));
            }
        };
        if matches!(value, Value::Int(..)) && control.pipe.decl.len() > 1 {
            return Err(self.error(
                st,
                control.pipe.pos,
                &control.pipe.to_string(),
                format!("can't use {} to iterate over more than one variable", sprint_value(&value)),
            ));
        }
        if items.is_empty() {
            let flow = match &control.else_list {
                Some(else_list) => self.walk(st, dot, else_list)?,
                None => Flow::Normal,
            };
            st.vars.truncate(vars);
            return Ok(match flow {
                Flow::Normal => Flow::Normal,
                // break and continue belong to an enclosing range.
                other => other,
            });
        }
        let from_interface = !matches!(value, Value::Int(..));
        for (key, elem) in items {
            let elem = Slot { value: elem, from_interface };
            match control.pipe.decl.as_slice() {
                [] => {}
                [v] => st.vars.push((v.clone(), elem.clone())),
                [k, v, ..] => {
                    st.vars.push((k.clone(), Slot::plain(key)));
                    st.vars.push((v.clone(), elem.clone()));
                }
            }
            let flow = self.walk(st, &elem, &control.list)?;
            st.vars.truncate(vars);
            if let Flow::Break = flow {
                break;
            }
        }
        Ok(Flow::Normal)
    }

    /// Prints an action's value: Go's `fmt.Fprint`, with "<no value>" for nil (which Helm
    /// removes from the file afterwards).
    fn print(&self, st: &mut State, value: &Value) {
        match value {
            Value::Nil => st.out.push_str("<no value>"),
            other => st.out.push_str(&sprint_value(other)),
        }
    }

    fn eval_pipeline(&mut self, st: &mut State, dot: &Slot, pipe: &Pipe) -> Result<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(st, dot, cmd, value)?.value);
        }
        let value = value.unwrap_or_default();
        for name in &pipe.decl {
            if pipe.is_assign {
                if let Some(slot) = st.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    slot.1 = Slot::plain(value.clone());
                }
            } else {
                st.vars.push((name.clone(), Slot::plain(value.clone())));
            }
        }
        Ok(value)
    }

    fn eval_command(&mut self, st: &mut State, dot: &Slot, cmd: &Command, last: Option<Value>) -> Result<Slot> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { path, pos } => return self.eval_fields(st, dot, dot.clone(), *pos, first, path, &cmd.args, last),
            Arg::Chain { node, path, pos } => {
                let base = self.eval_arg_any(st, dot, node)?;
                return self.eval_fields(st, dot, Slot::plain(base), *pos, first, path, &cmd.args, last);
            }
            Arg::Variable { name, path, pos } => {
                let slot = self.variable(st, *pos, name)?;
                if path.is_empty() {
                    if cmd.args.len() > 1 || last.is_some() {
                        return Err(self.error(st, *pos, &first.to_string(), format!("can't give argument to non-function {first}")));
                    }
                    return Ok(slot);
                }
                return self.eval_fields(st, dot, slot, *pos, first, path, &cmd.args, last);
            }
            Arg::Identifier { name, .. } => return self.eval_function(st, dot, cmd, name, last).map(Slot::plain),
            Arg::Pipe(pipe) => {
                if cmd.args.len() > 1 || last.is_some() {
                    return Err(self.error(st, first.pos(), &first.to_string(), format!("can't give argument to non-function {first}")));
                }
                return self.eval_pipeline(st, dot, pipe).map(Slot::plain);
            }
            _ => {}
        }
        if cmd.args.len() > 1 || last.is_some() {
            return Err(self.error(st, first.pos(), &first.to_string(), format!("can't give argument to non-function {first}")));
        }
        Ok(match first {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(pos) => return Err(self.error(st, *pos, "nil", "nil is not a command")),
            Arg::Bool(_, b) => Slot::plain(Value::Bool(*b)),
            Arg::Str { value, .. } => Slot::plain(Value::str(value.as_str())),
            Arg::Number { num, text, pos } => Slot::plain(self.ideal_constant(st, *pos, text, num)?),
            _ => unreachable!("handled above"),
        })
    }

    /// An untyped number constant as an `interface{}`: an int unless it is written as a float.
    fn ideal_constant(&self, st: &State, pos: usize, text: &str, num: &Number) -> Result<Value> {
        let lower = text.to_ascii_lowercase();
        // Go's isHexInt: `0x…` without a binary exponent; `0x1p60` is a float.
        let hex_int = lower.trim_start_matches(['+', '-']).starts_with("0x") && !lower.contains('p');
        if !num.is_char && num.float.is_some() && !hex_int && lower.contains(['.', 'e', 'p']) {
            return Ok(Value::Float(num.float.unwrap_or_default()));
        }
        match num.int {
            Some(i) => Ok(Value::int(i)),
            None => Err(self.error(st, pos, text, format!("{text} overflows int"))),
        }
    }

    fn variable(&self, st: &State, pos: usize, name: &str) -> Result<Slot> {
        match st.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, slot)) => Ok(slot.clone()),
            None => Err(self.error(st, pos, name, format!("undefined variable: {name}"))),
        }
    }

    /// Follows a field chain from `receiver`. Arguments (and the piped value) go to the last
    /// link when it is a method, as Go's `evalFieldChain` does.
    #[allow(clippy::too_many_arguments)]
    fn eval_fields(
        &mut self,
        st: &mut State,
        dot: &Slot,
        mut receiver: Slot,
        pos: usize,
        node: &Arg,
        path: &[String],
        args: &[Arg],
        last: Option<Value>,
    ) -> Result<Slot> {
        let context = node.to_string();
        for (i, field) in path.iter().enumerate() {
            let is_last = i + 1 == path.len();
            let has_args = is_last && (args.len() > 1 || last.is_some());
            receiver = match &receiver.value {
                Value::Nil if receiver.from_interface => {
                    return Err(self.error(st, pos, &context, format!("nil pointer evaluating interface {{}}.{field}")));
                }
                Value::Nil => return Ok(Slot::plain(Value::Nil)),
                Value::Map(map) => {
                    if has_args {
                        return Err(self.error(st, pos, &context, format!("{field} is not a method but has arguments")));
                    }
                    let value = map.borrow().get(field).cloned().unwrap_or(Value::Nil);
                    Slot { value, from_interface: true }
                }
                Value::Object(obj) => {
                    let obj = obj.clone();
                    let no_member = || format!("can't evaluate field {field} in type {}", obj.type_name());
                    if obj.has_method(field) {
                        let mut values = Vec::new();
                        if is_last {
                            for arg in &args[1..] {
                                values.push(self.eval_arg_any(st, dot, arg)?);
                            }
                            values.extend(last.clone());
                        }
                        match obj.call(field, &values) {
                            Some(Ok(v)) => Slot::plain(v),
                            Some(Err(e)) => return Err(self.error(st, pos, &context, format!("error calling {field}: {e}"))),
                            None => return Err(self.error(st, pos, &context, no_member())),
                        }
                    } else {
                        if has_args {
                            return Err(self.error(st, pos, &context, format!("{field} has arguments but cannot be invoked as function")));
                        }
                        match obj.field(field) {
                            Some(v) => Slot::plain(v),
                            None => return Err(self.error(st, pos, &context, no_member())),
                        }
                    }
                }
                other => {
                    return Err(self.error(st, pos, &context, format!("can't evaluate field {field} in type {}", other.type_name())));
                }
            };
        }
        Ok(receiver)
    }

    /// An argument for an `interface{}` parameter.
    fn eval_arg_any(&mut self, st: &mut State, dot: &Slot, arg: &Arg) -> Result<Value> {
        Ok(match arg {
            Arg::Dot(_) => dot.value.clone(),
            Arg::Nil(_) => Value::Nil,
            Arg::Bool(_, b) => Value::Bool(*b),
            Arg::Str { value, .. } => Value::str(value.as_str()),
            Arg::Number { num, text, pos } => self.ideal_constant(st, *pos, text, num)?,
            Arg::Field { path, pos } => self.eval_fields(st, dot, dot.clone(), *pos, arg, path, std::slice::from_ref(arg), None)?.value,
            Arg::Variable { name, path, pos } => {
                let slot = self.variable(st, *pos, name)?;
                self.eval_fields(st, dot, slot, *pos, arg, path, std::slice::from_ref(arg), None)?.value
            }
            Arg::Chain { node, path, pos } => {
                let base = self.eval_arg_any(st, dot, node)?;
                self.eval_fields(st, dot, Slot::plain(base), *pos, arg, path, std::slice::from_ref(arg), None)?.value
            }
            Arg::Pipe(pipe) => self.eval_pipeline(st, dot, pipe)?,
            Arg::Identifier { name, pos } => {
                let cmd = Command { pos: *pos, args: vec![arg.clone()] };
                self.eval_function(st, dot, &cmd, name, None)?
            }
        })
    }

    /// An argument for a typed parameter: constants must fit the type, computed values must
    /// have it (Go's `evalArg` and `validateType`).
    fn eval_arg(&mut self, st: &mut State, dot: &Slot, arg: &Arg, ty: Ty) -> Result<Value> {
        let constant_error = |what: &str| format!("expected {what}; found {arg}");
        match (arg, ty) {
            (_, Ty::Any) => self.eval_arg_any(st, dot, arg),
            (Arg::Number { num, .. }, Ty::Int | Ty::Int64) => match num.int {
                Some(i) => Ok(Value::Int(i, if ty == Ty::Int { IntType::Int } else { IntType::Int64 })),
                None => Err(self.error(st, arg.pos(), &arg.to_string(), constant_error("integer"))),
            },
            (Arg::Number { num, .. }, Ty::Float) => match num.float {
                Some(f) if !num.is_char => Ok(Value::Float(f)),
                _ => Err(self.error(st, arg.pos(), &arg.to_string(), constant_error("float"))),
            },
            (Arg::Str { value, .. }, Ty::Str) => Ok(Value::str(value.as_str())),
            (Arg::Bool(_, b), Ty::Bool) => Ok(Value::Bool(*b)),
            (Arg::Nil(_), ty) if ty.can_be_nil() => Ok(Value::Nil),
            (Arg::Nil(_), ty) => Err(self.error(st, arg.pos(), &arg.to_string(), format!("cannot assign nil to {}", ty.go_name()))),
            (Arg::Number { .. }, _) | (Arg::Str { .. }, _) | (Arg::Bool(..), _) => {
                let what = match ty {
                    Ty::Str => "string",
                    Ty::Bool => "bool",
                    Ty::Int | Ty::Int64 => "integer",
                    Ty::Float => "float",
                    _ => "",
                };
                if what.is_empty() {
                    Err(self.error(st, arg.pos(), &arg.to_string(), format!("can't handle {arg} for arg of type {}", ty.go_name())))
                } else {
                    Err(self.error(st, arg.pos(), &arg.to_string(), constant_error(what)))
                }
            }
            _ => {
                let value = self.eval_arg_any(st, dot, arg)?;
                ty.validate(value).map_err(|msg| self.error(st, arg.pos(), &arg.to_string(), msg))
            }
        }
    }

    fn eval_function(&mut self, st: &mut State, dot: &Slot, cmd: &Command, name: &str, last: Option<Value>) -> Result<Value> {
        let args = &cmd.args[1..];
        let context = cmd.to_string();
        let given = args.len() + usize::from(last.is_some());
        // and/or evaluate their arguments lazily and return the deciding one.
        if name == "and" || name == "or" {
            if given < 1 {
                return Err(self.error(st, cmd.pos, &context, format!("wrong number of args for {name}: want at least 1 got 0")));
            }
            let mut value = Value::Nil;
            for arg in args {
                value = self.eval_arg_any(st, dot, arg)?;
                if value.truthy() != (name == "and") {
                    return Ok(value);
                }
            }
            if let Some(last) = last {
                value = last;
            }
            return Ok(value);
        }
        let Some(func) = funcs::lookup(name) else {
            return Err(self.error(st, cmd.pos, name, format!("{name:?} is not a defined function")));
        };
        let fixed = func.params.len() - usize::from(func.variadic);
        if (func.variadic && given < fixed) || (!func.variadic && given != fixed) {
            let want = if func.variadic { format!("at least {fixed}") } else { fixed.to_string() };
            return Err(self.error(st, cmd.args[0].pos(), name, format!("wrong number of args for {name}: want {want} got {given}")));
        }
        let mut values = Vec::with_capacity(given);
        for (i, arg) in args.iter().enumerate() {
            let ty = func.params[i.min(func.params.len() - 1)];
            values.push(self.eval_arg(st, dot, arg, ty)?);
        }
        if let Some(last) = last {
            let ty = func.params[values.len().min(func.params.len() - 1)];
            values.push(ty.validate(last).map_err(|msg| self.error(st, cmd.pos, &context, msg))?);
        }
        self.nested_error = None;
        (func.call)(self, &values).map_err(|msg| {
            let cause = match self.nested_error.take() {
                Some(nested) => Cause::Template(nested),
                None => Cause::Plain(msg.clone()),
            };
            self.error(st, cmd.pos, &context, format!("error calling {name}: {msg}")).with_cause(cause)
        })
    }

    /// Helm's `tpl`: parses `text` into a copy of the templates under the root name, so that
    /// its definitions are visible to it alone, and renders it with `data`. Its errors are
    /// wrapped in text that Helm does not unwrap, so they stay plain.
    pub fn tpl(&mut self, text: &str, data: Value) -> std::result::Result<String, String> {
        let mut set = self.set.clone();
        set.add_file(ROOT_NAME, text).map_err(|e| format!("cannot parse template {}: {e}", go_quote(text)))?;
        let saved = std::mem::replace(&mut self.set, set);
        let result = self.execute(ROOT_NAME, data);
        self.set = saved;
        match result {
            Ok(out) => Ok(out.replace("<no value>", "")),
            Err(e) => Err(format!("error during tpl function execution for {}: {e}", go_quote(text))),
        }
    }
}
