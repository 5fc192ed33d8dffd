//! Conversions between wire types and the framework's: values, diagnostics, paths, schemas.

use crate::cty::{self, Path, PathStep, Type, Value};
use crate::framework::{Block, Diagnostic, Diagnostics, Mode, Nesting, Schema, Severity};
use crate::proto::tfplugin5 as pb;

/// Decodes a DynamicValue against the expected type. An absent or empty value is null, as
/// Terraform treats it.
pub fn decode(value: Option<&pb::DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    let Some(value) = value else { return Ok(Value::Null) };
    let decoded = if !value.msgpack.is_empty() {
        cty::msgpack::decode(&value.msgpack, ty)
    } else if !value.json.is_empty() {
        cty::json::decode(&value.json, ty)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|err| {
        let mut diags = Diagnostics::new();
        diags.error(
            format!("Cannot decode the {what} Terraform sent"),
            format!("{err}. This is a bug in the provider or a Terraform release it does not support; please report it."),
        );
        diags
    })
}

/// Encodes a value as msgpack, which every Terraform release accepts.
pub fn encode(value: &Value, ty: &Type, what: &str) -> Result<pb::DynamicValue, Diagnostics> {
    cty::msgpack::encode(value, ty).map(|msgpack| pb::DynamicValue { msgpack, json: Vec::new() }).map_err(|err| {
        let mut diags = Diagnostics::new();
        diags.error(format!("Cannot encode the {what}"), format!("{err}. This is a bug in the provider; please report it."));
        diags
    })
}

pub fn diagnostics(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    diags.iter().map(diagnostic).collect()
}

fn diagnostic(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.path.as_ref().filter(|p| !p.is_root()).map(attribute_path),
    }
}

pub fn attribute_path(path: &Path) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .steps()
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attr(name) => Selector::AttributeName(name.clone()),
                    PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub fn schema(schema: &Schema) -> pb::Schema {
    pb::Schema { version: schema.version, block: Some(block(&schema.block)) }
}

fn block(b: &Block) -> pb::schema::Block {
    let kind = |text: &str| if text.is_empty() { pb::StringKind::Plain } else { pb::StringKind::Markdown } as i32;
    pb::schema::Block {
        version: 0,
        attributes: b
            .attributes
            .iter()
            .map(|a| pb::schema::Attribute {
                name: a.name.clone(),
                r#type: a.ty.to_json_bytes(),
                description: a.description.clone(),
                required: a.mode == Mode::Required,
                optional: matches!(a.mode, Mode::Optional | Mode::OptionalComputed),
                computed: a.mode.is_computed(),
                sensitive: a.sensitive,
                description_kind: kind(&a.description),
                deprecated: a.deprecation.is_some(),
                write_only: false,
                deprecation_message: a.deprecation.clone().unwrap_or_default(),
            })
            .collect(),
        block_types: b
            .blocks
            .iter()
            .map(|n| pb::schema::NestedBlock {
                type_name: n.name.clone(),
                block: Some(block(&n.block)),
                nesting: match n.nesting {
                    Nesting::Single => pb::schema::nested_block::NestingMode::Single,
                    Nesting::Group => pb::schema::nested_block::NestingMode::Group,
                    Nesting::List => pb::schema::nested_block::NestingMode::List,
                    Nesting::Set => pb::schema::nested_block::NestingMode::Set,
                    Nesting::Map => pb::schema::nested_block::NestingMode::Map,
                } as i32,
                min_items: n.min_items,
                max_items: n.max_items,
            })
            .collect(),
        description: b.description.clone(),
        description_kind: kind(&b.description),
        deprecated: b.deprecation.is_some(),
        deprecation_message: b.deprecation.clone().unwrap_or_default(),
    }
}
