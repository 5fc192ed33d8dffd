//! `values.schema.json`: each chart's values checked against its schema after coalescing, a
//! subchart against its own section, as Helm does before rendering. The first line of the
//! error is Helm's; the lines naming each violation come from the validator and may be worded
//! differently from Helm's.

use super::chart::Chart;
use super::template::funcs::to_json_value;
use super::template::{Map, Value};

/// Violations for `chart` and its subcharts, as Helm lists them: `NAME:` then one line each.
fn violations(chart: &Chart, values: &Map, out: &mut String) {
    if let Some(schema) = &chart.schema {
        let lines = match serde_json::from_slice::<serde_json::Value>(schema) {
            Err(e) => vec![format!("invalid values.schema.json: {e}")],
            Ok(schema) => match jsonschema::validator_for(&schema) {
                Err(e) => vec![format!("invalid values.schema.json: {e}")],
                Ok(validator) => {
                    let instance = to_json_value(&Value::map(values.clone())).unwrap_or(serde_json::Value::Null);
                    validator.iter_errors(&instance).map(|e| format!("- at '{}': {e}", e.instance_path())).collect()
                }
            },
        };
        if !lines.is_empty() {
            out.push_str(&format!("{}:\n", chart.name()));
            for line in lines {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    for sub in &chart.subcharts {
        match values.get(sub.name()) {
            None | Some(Value::Nil) => {}
            Some(Value::Map(m)) => violations(sub, &m.borrow(), out),
            Some(other) => {
                out.push_str(&format!("{}:\ninvalid type for values: expected object (map), got {}\n", sub.name(), other.type_name()))
            }
        }
    }
}

/// Checks coalesced values against every schema in the chart tree.
pub fn validate(chart: &Chart, values: &Map) -> Result<(), String> {
    let mut out = String::new();
    violations(chart, values, &mut out);
    if out.is_empty() {
        Ok(())
    } else {
        Err(format!("values don't meet the specifications of the schema(s) in the following chart(s):\n{out}"))
    }
}
