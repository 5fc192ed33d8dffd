use std::fmt;

/// One step into a value: an object attribute, a map key or a list/tuple/set index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    Attr(String),
    Key(String),
    Index(i64),
}

/// Where inside a resource's value something is; diagnostics carry it to Terraform so the
/// error points at the configuration line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path(pub Vec<PathStep>);

impl Path {
    pub fn root() -> Self {
        Path(Vec::new())
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    pub fn attr(&self, name: impl Into<String>) -> Self {
        self.with(PathStep::Attr(name.into()))
    }
    pub fn key(&self, key: impl Into<String>) -> Self {
        self.with(PathStep::Key(key.into()))
    }
    pub fn index(&self, index: i64) -> Self {
        self.with(PathStep::Index(index))
    }
    pub fn with(&self, step: PathStep) -> Self {
        let mut steps = self.0.clone();
        steps.push(step);
        Path(steps)
    }
    pub fn steps(&self) -> &[PathStep] {
        &self.0
    }
}

/// Prints the path the way Terraform users write it: `node_group.scaling[0]["key"]`.
impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(name) if i == 0 => write!(f, "{name}")?,
                PathStep::Attr(name) => write!(f, ".{name}")?,
                PathStep::Key(key) => write!(f, "[{key:?}]")?,
                PathStep::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A path under construction while walking a value, borrowed from the caller's frames so
/// that walking costs nothing; it becomes a [`Path`] only when an error needs one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Trail<'a> {
    Root,
    Attr(&'a Trail<'a>, &'a str),
    Key(&'a Trail<'a>, &'a str),
    Index(&'a Trail<'a>, i64),
}

impl<'a> Trail<'a> {
    pub fn attr(&'a self, name: &'a str) -> Trail<'a> {
        Trail::Attr(self, name)
    }
    pub fn key(&'a self, key: &'a str) -> Trail<'a> {
        Trail::Key(self, key)
    }
    pub fn index(&'a self, index: i64) -> Trail<'a> {
        Trail::Index(self, index)
    }
    pub fn to_path(&self) -> Path {
        let mut steps = Vec::new();
        let mut at = self;
        loop {
            match at {
                Trail::Root => break,
                Trail::Attr(parent, name) => {
                    steps.push(PathStep::Attr(name.to_string()));
                    at = parent;
                }
                Trail::Key(parent, key) => {
                    steps.push(PathStep::Key(key.to_string()));
                    at = parent;
                }
                Trail::Index(parent, i) => {
                    steps.push(PathStep::Index(*i));
                    at = parent;
                }
            }
        }
        steps.reverse();
        Path(steps)
    }
}
