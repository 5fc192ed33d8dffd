//! Go's text/template, with Sprig's and Helm's functions: the language Helm charts are
//! written in, rendered with the same output and the same errors.
//!
//! `lex` and `parse` turn a file into trees (`ast`); `exec` runs them over `value`s; `print`
//! is Go's `fmt`; `funcs` holds every function a template can call; `entropy` is what their
//! random and time functions draw from.

pub mod ast;
pub mod entropy;
pub mod exec;
pub mod funcs;
pub mod lex;
pub mod parse;
pub mod print;
pub mod value;

pub use exec::{Engine, TemplateSet, ROOT_NAME};
pub use value::{Map, Object, Value};

use parse::Tree;
use print::go_quote;

/// A template file's name and text, kept for error positions.
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// A parse or execution error, worded as Go's text/template words it. Helm reformats
/// execution errors by walking the chain of wrapped errors, so the chain is kept.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub message: String,
    /// Raised while executing (Go's `ExecError`), not while parsing.
    pub exec: bool,
    pub cause: Option<Box<Cause>>,
}

/// What a function call failed with.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    /// A template error from `include` or `tpl`.
    Template(TemplateError),
    /// Any other error a function returned.
    Plain(String),
}

/// 1-based line and 0-based byte column of `pos`, as Go's `ErrorContext` counts them.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = 1 + before.matches('\n').count();
    let col = match before.rfind('\n') {
        Some(nl) => before.len() - nl - 1,
        None => before.len(),
    };
    (line, col)
}

impl TemplateError {
    pub fn plain(message: impl Into<String>) -> TemplateError {
        TemplateError { message: message.into(), exec: false, cause: None }
    }

    /// `template: NAME:LINE: MESSAGE`.
    pub fn parse(name: &str, text: &str, pos: usize, msg: impl Into<String>) -> TemplateError {
        let (line, _) = line_col(text, pos);
        TemplateError::plain(format!("template: {name}:{line}: {}", msg.into()))
    }

    /// `template: FILE:LINE:COL: executing "NAME" at <NODE>: MESSAGE`.
    pub fn exec(tree: &Tree, pos: usize, context: &str, msg: impl Into<String>) -> TemplateError {
        let (line, col) = line_col(&tree.source.text, pos);
        TemplateError {
            message: format!(
                "template: {}:{line}:{col}: executing {} at <{context}>: {}",
                tree.source.name,
                go_quote(&tree.name),
                msg.into()
            ),
            exec: true,
            cause: None,
        }
    }

    pub fn with_cause(mut self, cause: Cause) -> TemplateError {
        self.cause = Some(Box::new(cause));
        self
    }
}

#[cfg(test)]
mod tests;
