//! Values as Helm computes them: user files merged in order, `--set` on top, then coalesced
//! with each chart's defaults, down through the subcharts with `global` handed down. A null
//! given by the user deletes the default it overrides.

use super::template::{Map, Value};

/// Deep-merges `src` into `dst`, `src` winning (how Helm merges `-f` files in order).
pub fn merge_user(dst: &mut Map, src: &Map) {
    for (k, v) in src {
        if let (Some(Value::Map(d)), Value::Map(s)) = (dst.get(k), v) {
            let s = s.borrow().clone();
            merge_user(&mut d.borrow_mut(), &s);
            continue;
        }
        dst.insert(k.clone(), v.clone());
    }
}

/// An owned copy of a map value.
fn as_map(v: &Value) -> Option<Map> {
    match v {
        Value::Map(m) => Some(m.borrow().clone()),
        _ => None,
    }
}

/// Drops null entries, recursively (Helm's `cleanNilValues`).
fn clean_nils(m: &mut Map) {
    m.retain(|_, v| !v.is_nil());
    for v in m.values_mut() {
        if let Some(mut inner) = as_map(v) {
            clean_nils(&mut inner);
            *v = Value::map(inner);
        }
    }
}

/// Helm's `coalesceTablesFullKey`: fills `dst` from `src` where `dst` has nothing. Without
/// `merge`, a null in `dst` deletes a key that `src` sets.
fn coalesce_tables(dst: &mut Map, mut src: Map, merge: bool) {
    let src_non_nil: Vec<String> = src.iter().filter(|(_, v)| !v.is_nil()).map(|(k, _)| k.clone()).collect();
    for (k, v) in dst.iter() {
        if v.is_nil() {
            src.insert(k.clone(), Value::Nil);
        }
    }
    for (k, sv) in src {
        match dst.get(&k).cloned() {
            Some(Value::Nil) if !merge && src_non_nil.contains(&k) => {
                dst.remove(&k);
            }
            None => {
                dst.insert(k, sv);
            }
            Some(dv) => {
                if let (Some(mut d), Some(s)) = (as_map(&dv), as_map(&sv)) {
                    coalesce_tables(&mut d, s, merge);
                    dst.insert(k, Value::map(d));
                }
            }
        }
    }
}

/// Helm's `coalesceValues`: a chart's defaults under the values given for it. Keys naming a
/// subchart merge (their nulls survive, for the subchart's own coalescing); with `merge`
/// (Helm's `MergeValues`) no null deletes anything.
fn coalesce_defaults(defaults: &Map, subcharts: &[&str], values: &mut Map, merge: bool) {
    for (k, dv) in defaults {
        let dv = dv.deep_copy();
        match values.get(k).cloned() {
            Some(Value::Nil) if !merge => {
                values.remove(k);
            }
            Some(given) => {
                if let (Some(mut dst), Some(mut src)) = (as_map(&given), as_map(&dv)) {
                    let merge = merge || subcharts.contains(&k.as_str());
                    if !merge {
                        clean_nils(&mut src);
                    }
                    coalesce_tables(&mut dst, src, merge);
                    values.insert(k.clone(), Value::map(dst));
                }
            }
            None => {
                if merge {
                    values.insert(k.clone(), dv);
                    continue;
                }
                if dv.is_nil() {
                    continue;
                }
                let dv = match as_map(&dv) {
                    Some(mut m) => {
                        clean_nils(&mut m);
                        Value::map(m)
                    }
                    None => dv,
                };
                values.insert(k.clone(), dv);
            }
        }
    }
}

/// Helm's `coalesceGlobals`: the parent's `global` merged into the subchart's, the parent
/// winning.
fn coalesce_globals(sub: &mut Map, parent: &Map) {
    let mut dg = match sub.get("global") {
        Some(v) => match as_map(v) {
            Some(m) => m,
            None => return,
        },
        None => Map::new(),
    };
    let sg = match parent.get("global") {
        Some(v) => match as_map(v) {
            Some(m) => m,
            None => return,
        },
        None => Map::new(),
    };
    for (k, pv) in sg {
        match (as_map(&pv), dg.get(&k).cloned()) {
            (Some(p), None) => {
                dg.insert(k, Value::map(p));
            }
            (Some(mut p), Some(existing)) => {
                if let Some(s) = as_map(&existing) {
                    coalesce_tables(&mut p, s, true);
                    dg.insert(k, Value::map(p));
                }
            }
            (None, Some(existing)) if as_map(&existing).is_some() => {}
            (None, _) => {
                dg.insert(k, pv);
            }
        }
    }
    sub.insert("global".into(), Value::map(dg));
}

/// A chart's defaults, its name and its subcharts: what coalescing needs.
pub trait ValueTree {
    fn chart_name(&self) -> &str;
    fn default_values(&self) -> Map;
    fn children(&self) -> Vec<&Self>;
}

/// Coalesces `values` (the user's, for this chart) with the chart's defaults, recursively
/// (Helm's `CoalesceValues`).
pub fn coalesce<T: ValueTree>(chart: &T, values: &mut Map) {
    coalesce_tree(chart, values, false);
}

/// The chart's defaults merged with its subcharts', nulls kept (Helm's `MergeValues`).
pub fn merged_defaults<T: ValueTree>(chart: &T) -> Map {
    let mut values = Map::new();
    coalesce_tree(chart, &mut values, true);
    values
}

fn coalesce_tree<T: ValueTree>(chart: &T, values: &mut Map, merge: bool) {
    let children = chart.children();
    let names: Vec<&str> = children.iter().map(|c| c.chart_name()).collect();
    coalesce_defaults(&chart.default_values(), &names, values, merge);
    for sub in children {
        let name = sub.chart_name().to_string();
        let Some(mut sv) = as_map(values.get(&name).unwrap_or(&Value::empty_map())) else { continue };
        coalesce_globals(&mut sv, values);
        coalesce_tree(sub, &mut sv, merge);
        values.insert(name, Value::map(sv));
    }
}

/// Helm's `MergeTables`: `src` fills what `dst` lacks, recursively; nothing is deleted.
pub fn merge_tables(dst: &mut Map, src: Map) {
    coalesce_tables(dst, src, true);
}

/// A value at a dotted path (`a.b.c`), as Helm's `PathValue`.
pub fn path_value(values: &Map, path: &str) -> Option<Value> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut current = values.get(first)?.clone();
    for part in parts {
        let next = match &current {
            Value::Map(m) => m.borrow().get(part).cloned()?,
            _ => return None,
        };
        current = next;
    }
    Some(current)
}

#[derive(Debug, thiserror::Error)]
#[error("failed parsing --set data: {0}")]
pub struct SetError(String);

/// Why the user's values could not be built.
#[derive(Debug, thiserror::Error)]
pub enum UserValuesError {
    #[error("failed to parse {name}: {reason}")]
    Document { name: String, reason: String },
    #[error(transparent)]
    Set(#[from] SetError),
}

/// The user's values as Helm builds them: YAML documents (`-f` files, each with the name its
/// errors give) deep-merged in order, later ones winning, then each `--set` on top.
pub fn user_values<'a>(documents: impl IntoIterator<Item = (&'a str, &'a str)>, sets: &[String]) -> Result<Map, UserValuesError> {
    let mut values = Map::new();
    for (name, text) in documents {
        let parsed =
            super::yaml::parse_values(text).map_err(|e| UserValuesError::Document { name: name.to_string(), reason: e.to_string() })?;
        merge_user(&mut values, &super::objects::values_from_json(&parsed));
    }
    for set in sets {
        apply_set(&mut values, set)?;
    }
    Ok(values)
}

/// Applies one `--set` argument (`a.b=1,list[0]=x,c={x,y}`) to `dest`, typed as Helm types
/// it: true/false, null, int64 (not with a leading zero), otherwise a string.
pub fn apply_set(dest: &mut Map, text: &str) -> Result<(), SetError> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = SetParser { chars, i: 0 };
    while p.i < p.chars.len() {
        p.key(dest)?;
    }
    Ok(())
}

struct SetParser {
    chars: Vec<char>,
    i: usize,
}

fn typed(s: &str) -> Value {
    if s.eq_ignore_ascii_case("true") {
        return Value::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Value::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Value::Nil;
    }
    if s == "0" {
        return Value::int64(0);
    }
    if !s.starts_with('0') {
        if let Ok(i) = s.parse::<i64>() {
            if !s.starts_with('+') {
                return Value::int64(i);
            }
        }
    }
    Value::str(s)
}

impl SetParser {
    /// Reads up to one of `stops` (unescaped); returns the text and the stop, `None` at the end.
    fn until(&mut self, stops: &[char]) -> (String, Option<char>) {
        let mut out = String::new();
        while self.i < self.chars.len() {
            let c = self.chars[self.i];
            self.i += 1;
            if c == '\\' && self.i < self.chars.len() {
                out.push(self.chars[self.i]);
                self.i += 1;
                continue;
            }
            if stops.contains(&c) {
                return (out, Some(c));
            }
            out.push(c);
        }
        (out, None)
    }

    fn value(&mut self) -> Value {
        if self.chars.get(self.i) == Some(&'{') {
            self.i += 1;
            let mut items = Vec::new();
            loop {
                let (item, stop) = self.until(&[',', '}']);
                items.push(typed(&item));
                if stop != Some(',') {
                    break;
                }
            }
            if self.chars.get(self.i) == Some(&',') {
                self.i += 1;
            }
            return Value::list(items);
        }
        let (v, _) = self.until(&[',']);
        typed(&v)
    }

    fn key(&mut self, data: &mut Map) -> Result<(), SetError> {
        let (k, stop) = self.until(&['=', '[', ',', '.']);
        match stop {
            None => Err(SetError(format!("key {k:?} has no value"))),
            Some(',') => Err(SetError(format!("key {k:?} has no value (cannot end with ,)"))),
            Some('=') => {
                let v = self.value();
                data.insert(k, v);
                Ok(())
            }
            Some('.') => {
                let inner = match data.get(&k) {
                    Some(Value::Map(m)) => m.clone(),
                    _ => {
                        let Value::Map(m) = Value::empty_map() else { unreachable!("a map") };
                        m
                    }
                };
                self.key(&mut inner.borrow_mut())?;
                data.insert(k, Value::Map(inner));
                Ok(())
            }
            Some(_) => {
                let list = match data.get(&k) {
                    Some(Value::List(l, _)) => l.as_ref().clone(),
                    _ => Vec::new(),
                };
                let list = self.list_item(list)?;
                data.insert(k, Value::list(list));
                Ok(())
            }
        }
    }

    /// After `name[`: the index, then `=value`, `.key...` or another `[`.
    fn list_item(&mut self, mut list: Vec<Value>) -> Result<Vec<Value>, SetError> {
        let (index, _) = self.until(&[']']);
        let index: usize = index.parse().map_err(|_| SetError(format!("failed to parse index: {index}")))?;
        if list.len() <= index {
            list.resize(index + 1, Value::Nil);
        }
        match self.chars.get(self.i).copied() {
            Some('=') => {
                self.i += 1;
                list[index] = self.value();
            }
            Some('.') => {
                self.i += 1;
                let inner = match &list[index] {
                    Value::Map(m) => m.clone(),
                    _ => {
                        let Value::Map(m) = Value::empty_map() else { unreachable!("a map") };
                        m
                    }
                };
                self.key(&mut inner.borrow_mut())?;
                list[index] = Value::Map(inner);
            }
            Some('[') => {
                self.i += 1;
                let inner = match &list[index] {
                    Value::List(l, _) => l.as_ref().clone(),
                    _ => Vec::new(),
                };
                list[index] = Value::list(self.list_item(inner)?);
            }
            other => {
                return Err(SetError(format!("parse error: unexpected {:?} after list index", other.map(String::from).unwrap_or_default())))
            }
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::print::sprint_value;

    #[test]
    fn set_types_values_like_helm() {
        let mut m = Map::new();
        apply_set(&mut m, "a.b=1,c=true,d=null,e[1]=x,f={p,2},g=007,h=1.5,i=a\\,b").unwrap();
        assert_eq!(sprint_value(&Value::map(m.clone())), "map[a:map[b:1] c:true d:<nil> e:[<nil> x] f:[p 2] g:007 h:1.5 i:a,b]");
        assert_eq!(m["a"].type_name(), "map[string]interface {}");
        let Value::Map(a) = &m["a"] else { panic!() };
        assert_eq!(a.borrow()["b"].type_name(), "int64");
    }

    #[test]
    fn user_null_deletes_a_default() {
        let mut given = Map::new();
        apply_set(&mut given, "a.x=null,b=2").unwrap();
        let defaults = Value::from_json(&serde_json::json!({"a": {"x": 1, "y": 2}, "b": 1, "c": 3}));
        let Value::Map(d) = defaults else { panic!() };
        coalesce_defaults(&d.borrow(), &[], &mut given, false);
        assert_eq!(sprint_value(&Value::map(given)), "map[a:map[y:2] b:2 c:3]");
    }
}
