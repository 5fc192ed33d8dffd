//! Diagnostics: how every error reaches the user, with the attribute path it is about.

use crate::cty::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    /// The attribute the diagnostic is about; Terraform underlines it in the configuration.
    pub path: Option<Path>,
}

/// An ordered collection of diagnostics, errors and warnings mixed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, None);
    }

    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, None);
    }

    pub fn attribute_error(&mut self, path: &Path, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, Some(path.clone()));
    }

    pub fn attribute_warning(&mut self, path: &Path, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, Some(path.clone()));
    }

    fn push(&mut self, severity: Severity, summary: impl Into<String>, detail: impl Into<String>, path: Option<Path>) {
        self.0.push(Diagnostic { severity, summary: summary.into(), detail: detail.into(), path });
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// A failed operation as a diagnostic: `anyhow` chains become "summary: cause: cause".
impl From<anyhow::Error> for Diagnostics {
    fn from(err: anyhow::Error) -> Self {
        let mut diags = Diagnostics::new();
        diags.error(err.to_string(), format!("{err:#}"));
        diags
    }
}
