//! `data "aqemia_conformance"`: echoes its input with derived values, exercising data source
//! reads, dynamic values and exact numbers.

use async_trait::async_trait;

use crate::config::ProviderConfig;
use crate::cty::{Type, Value};
use crate::framework::{Attribute, Block, Context, DataSource, Diagnostics, Schema};

pub struct ConformanceEcho;

#[async_trait]
impl DataSource<ProviderConfig> for ConformanceEcho {
    fn type_name(&self) -> &'static str {
        super::resource::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new()
                .description("Echoes its input with derived values. Test builds only.")
                .attribute(Attribute::string("input").required())
                .attribute(Attribute::new("echo", Type::Dynamic).optional())
                .attribute(Attribute::new("numbers", Type::list(Type::Number)).optional())
                .attribute(Attribute::string("upper").computed())
                .attribute(Attribute::number("length").computed().description("Characters in input."))
                .attribute(Attribute::string("echo_type").computed().description("The type of echo, as Terraform writes types."))
                .attribute(Attribute::new("numbers_text", Type::list(Type::String)).computed().description("Each number printed exactly.")),
        )
    }

    async fn read(&self, _ctx: &Context, config: Value) -> Result<Value, Diagnostics> {
        let mut state = config;
        let input = state.get("input").and_then(Value::as_str).unwrap_or_default().to_string();
        let echo_type = match state.get("echo") {
            Some(Value::Dynamic(ty, _)) => ty.to_string(),
            _ => "null".to_string(),
        };
        let numbers_text = state
            .get("numbers")
            .and_then(Value::as_seq)
            .map(|ns| ns.iter().map(|n| n.as_number().map_or(Value::Null, |n| Value::string(n.to_string()))).collect())
            .unwrap_or_default();
        let computed = [
            ("upper", Value::string(input.to_uppercase())),
            ("length", Value::from(input.chars().count() as i64)),
            ("echo_type", Value::string(echo_type)),
            ("numbers_text", Value::List(numbers_text)),
        ];
        for (name, value) in computed {
            if let Some(slot) = state.get_mut(name) {
                *slot = value;
            }
        }
        Ok(state)
    }
}
