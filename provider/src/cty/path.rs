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
