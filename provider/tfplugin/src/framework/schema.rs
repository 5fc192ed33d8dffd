//! Typed schema builder. A resource's schema is the single source of its wire schema, its
//! plan rules (defaults, replacement, keep-state-for-unknown), its validation and its docs.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::cty::{Path, Type, Value};

use super::diag::Diagnostics;

/// Whether the user sets an attribute, the provider does, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
    Computed,
    OptionalComputed,
}

impl Mode {
    pub fn is_computed(self) -> bool {
        matches!(self, Mode::Computed | Mode::OptionalComputed)
    }
    pub fn is_configurable(self) -> bool {
        !matches!(self, Mode::Computed)
    }
}

/// A check of a known, non-null attribute value. Returns what is wrong and what would be right.
pub type ValidateFn = Arc<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

#[derive(Clone)]
pub struct Validator {
    /// What a valid value looks like, for docs ("one of `a`, `b`").
    pub description: String,
    pub check: ValidateFn,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub mode: Mode,
    pub sensitive: bool,
    pub description: String,
    pub deprecation: Option<String>,
    /// A change to this attribute replaces the object.
    pub requires_replace: bool,
    /// On update, keep the prior value instead of planning it unknown (the provider knows it
    /// does not change once set, e.g. an id or a creation time).
    pub use_state_for_unknown: bool,
    /// Planned when the configuration leaves an optional+computed attribute null.
    pub default: Option<Value>,
    pub validators: Vec<Validator>,
}

impl Attribute {
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty,
            mode: Mode::Optional,
            sensitive: false,
            description: String::new(),
            deprecation: None,
            requires_replace: false,
            use_state_for_unknown: false,
            default: None,
            validators: Vec::new(),
        }
    }
    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }
    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }
    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }
    pub fn required(mut self) -> Self {
        self.mode = Mode::Required;
        self
    }
    pub fn optional(mut self) -> Self {
        self.mode = Mode::Optional;
        self
    }
    pub fn computed(mut self) -> Self {
        self.mode = Mode::Computed;
        self
    }
    pub fn optional_computed(mut self) -> Self {
        self.mode = Mode::OptionalComputed;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecation = Some(message.into());
        self
    }
    pub fn requires_replace(mut self) -> Self {
        self.requires_replace = true;
        self
    }
    pub fn use_state_for_unknown(mut self) -> Self {
        self.use_state_for_unknown = true;
        self
    }
    /// A default makes the attribute optional+computed: Terraform must accept the planned value.
    pub fn default(mut self, value: impl Into<Value>) -> Self {
        self.default = Some(value.into());
        self.mode = Mode::OptionalComputed;
        self
    }
    pub fn validate(
        mut self,
        description: impl Into<String>,
        check: impl Fn(&Value) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.validators.push(Validator { description: description.into(), check: Arc::new(check) });
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; null when absent.
    Single,
    /// Exactly one block, always present (attributes null when not written).
    Group,
    List,
    Set,
    /// Blocks with one label each, keyed by it.
    Map,
}

#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

impl NestedBlock {
    pub fn new(name: impl Into<String>, nesting: Nesting, block: Block) -> Self {
        NestedBlock { name: name.into(), nesting, block, min_items: 0, max_items: 0 }
    }
    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }
    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }

    /// The cty type of this block's slot in its parent object (cty's implied type: list and
    /// map blocks holding `dynamic` attributes become dynamic, because their elements may
    /// differ in type).
    pub fn value_type(&self) -> Type {
        let element = self.block.value_type();
        match self.nesting {
            Nesting::Single | Nesting::Group => element,
            Nesting::List | Nesting::Map if self.block.has_dynamic() => Type::Dynamic,
            Nesting::List => Type::list(element),
            Nesting::Set => Type::set(element),
            Nesting::Map => Type::map(element),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    pub deprecation: Option<String>,
}

impl Block {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecation = Some(message.into());
        self
    }
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn find_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.name == name)
    }

    /// The object type a value of this block has.
    pub fn value_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self.attributes.iter().map(|a| (a.name.clone(), a.ty.clone())).collect();
        for nested in &self.blocks {
            attrs.insert(nested.name.clone(), nested.value_type());
        }
        Type::Object(attrs)
    }

    fn has_dynamic(&self) -> bool {
        fn contains_dynamic(ty: &Type) -> bool {
            match ty {
                Type::Dynamic => true,
                Type::List(e) | Type::Set(e) | Type::Map(e) => contains_dynamic(e),
                Type::Object(attrs) => attrs.values().any(contains_dynamic),
                Type::Tuple(elems) => elems.iter().any(contains_dynamic),
                _ => false,
            }
        }
        self.attributes.iter().any(|a| contains_dynamic(&a.ty)) || self.blocks.iter().any(|b| b.block.has_dynamic())
    }

    /// The value Terraform sends for this block when the configuration writes nothing in it:
    /// attributes null, list/set blocks empty, single blocks null.
    pub fn empty_value(&self) -> Value {
        let mut attrs: BTreeMap<String, Value> = self.attributes.iter().map(|a| (a.name.clone(), Value::Null)).collect();
        for nested in &self.blocks {
            let empty = match nested.nesting {
                Nesting::Single => Value::Null,
                Nesting::Group => nested.block.empty_value(),
                Nesting::List if nested.block.has_dynamic() => Value::Dynamic(Type::Tuple(vec![]), Box::new(Value::Tuple(vec![]))),
                Nesting::Map if nested.block.has_dynamic() => {
                    Value::Dynamic(Type::Object(BTreeMap::new()), Box::new(Value::Object(BTreeMap::new())))
                }
                Nesting::List => Value::List(vec![]),
                Nesting::Set => Value::Set(vec![]),
                Nesting::Map => Value::Map(BTreeMap::new()),
            };
            attrs.insert(nested.name.clone(), empty);
        }
        Value::Object(attrs)
    }

    /// Checks the rules Terraform enforces on provider schemas, so a mistake fails our unit
    /// tests instead of a user's `terraform plan`.
    pub fn check_internal(&self, path: &Path, problems: &mut Vec<String>) {
        let valid_name = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        let mut seen = std::collections::BTreeSet::new();
        for attr in &self.attributes {
            let at = path.attr(&attr.name);
            if !valid_name(&attr.name) {
                problems.push(format!("{at}: name must match [a-z0-9_]+"));
            }
            if !seen.insert(attr.name.clone()) {
                problems.push(format!("{at}: declared twice"));
            }
            if attr.default.is_some() && attr.mode != Mode::OptionalComputed {
                problems.push(format!("{at}: a default needs an optional+computed attribute"));
            }
            if attr.use_state_for_unknown && !attr.mode.is_computed() {
                problems.push(format!("{at}: keep-state-for-unknown needs a computed attribute"));
            }
        }
        for nested in &self.blocks {
            let at = path.attr(&nested.name);
            if !valid_name(&nested.name) {
                problems.push(format!("{at}: name must match [a-z0-9_]+"));
            }
            if !seen.insert(nested.name.clone()) {
                problems.push(format!("{at}: declared twice"));
            }
            let (min, max) = (nested.min_items, nested.max_items);
            let counts_ok = match nested.nesting {
                Nesting::Single => min == max && (min == 0 || min == 1) || (min == 0 && max == 1),
                Nesting::Group | Nesting::Map => min == 0 && max == 0,
                Nesting::List | Nesting::Set => max == 0 || min <= max,
            };
            if !counts_ok {
                problems.push(format!("{at}: min_items {min} / max_items {max} are invalid for {:?} nesting", nested.nesting));
            }
            if nested.nesting == Nesting::Set && nested.block.has_dynamic() {
                problems.push(format!("{at}: set blocks cannot hold dynamic attributes"));
            }
            nested.block.check_internal(&at, problems);
        }
    }

    /// Runs every attribute's validators over a configuration value (unknowns and nulls are
    /// skipped: they are checked again when known).
    pub fn validate_value(&self, value: &Value, path: &Path, diags: &mut Diagnostics) {
        if value.is_null() || value.is_unknown() {
            return;
        }
        for attr in &self.attributes {
            let Some(v) = value.get(&attr.name) else { continue };
            let at = path.attr(&attr.name);
            if !v.is_null() && !v.is_unknown() {
                for validator in &attr.validators {
                    if let Err(problem) = (validator.check)(v) {
                        diags.attribute_error(&at, format!("Invalid value for {}", attr.name), problem);
                    }
                }
            }
            if attr.deprecation.is_some() && !v.is_null() {
                diags.attribute_warning(&at, format!("Argument {} is deprecated", attr.name), attr.deprecation.clone().unwrap_or_default());
            }
        }
        for nested in &self.blocks {
            let Some(v) = value.get(&nested.name) else { continue };
            let at = path.attr(&nested.name);
            match nested.nesting {
                Nesting::Single | Nesting::Group => nested.block.validate_value(v, &at, diags),
                Nesting::List | Nesting::Set => {
                    for (i, item) in v.as_seq().unwrap_or_default().iter().enumerate() {
                        nested.block.validate_value(item, &at.index(i as i64), diags);
                    }
                }
                Nesting::Map => {
                    for (k, item) in v.as_entries().into_iter().flatten() {
                        nested.block.validate_value(item, &at.key(k), diags);
                    }
                }
            }
        }
    }
}

/// A resource's, data source's or the provider's schema.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Bumped whenever the stored state's shape changes; older states go through the
    /// resource's upgrader.
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Self {
        Schema { version, block }
    }
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}
