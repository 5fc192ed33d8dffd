//! Logs for Terraform. Providers log with `tracing`; this layer writes each event to stderr as
//! the hclog JSON line go-plugin reads (`@level`, `@message`, `@module`, `@timestamp`, then the
//! event's fields), and Terraform re-logs it under `TF_LOG`.
//!
//! The level comes from the environment Terraform passes on, as terraform-plugin-log reads
//! it: `TF_LOG_PROVIDER_<NAME>`, else `TF_LOG_PROVIDER`, else `TF_LOG`; unset means no
//! logging at all, so a normal run formats nothing. Never log secrets.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::Layer;

/// Installs the stderr writer as the process's subscriber; a second call changes nothing.
pub fn install(provider_name: &str) {
    let level = level_from_env(provider_name, |name| std::env::var(name).ok());
    if level == LevelFilter::OFF {
        return;
    }
    let layer = HclogLayer { module: format!("provider.{provider_name}") }.with_filter(level);
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer));
}

/// The level Terraform's variables ask for. Terraform takes any value it does not know as
/// `TRACE`, and so does this.
pub fn level_from_env(provider_name: &str, var: impl Fn(&str) -> Option<String>) -> LevelFilter {
    let names = [format!("TF_LOG_PROVIDER_{}", provider_name.to_uppercase().replace('-', "_")), "TF_LOG_PROVIDER".into(), "TF_LOG".into()];
    let Some(value) = names.iter().filter_map(|name| var(name)).find(|v| !v.trim().is_empty()) else {
        return LevelFilter::OFF;
    };
    match value.trim().to_ascii_uppercase().as_str() {
        "OFF" => LevelFilter::OFF,
        "ERROR" => LevelFilter::ERROR,
        "WARN" => LevelFilter::WARN,
        "INFO" => LevelFilter::INFO,
        "DEBUG" => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

struct HclogLayer {
    module: String,
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = hclog_line(&self.module, *event.metadata().level(), event);
        let mut stderr = std::io::stderr().lock();
        // A closed stderr must never take the provider down mid-apply.
        let _ = writeln!(stderr, "{line}");
    }
}

/// One event as hclog writes it: the four `@` keys first, then the event's own fields.
fn hclog_line(module: &str, level: Level, event: &Event<'_>) -> String {
    let mut fields = Fields::default();
    event.record(&mut fields);
    let mut line = serde_json::Map::new();
    line.insert("@level".into(), level.as_str().to_ascii_lowercase().into());
    line.insert("@message".into(), fields.message.into());
    line.insert("@module".into(), module.into());
    line.insert("@timestamp".into(), timestamp().into());
    line.extend(fields.others);
    serde_json::Value::Object(line).to_string()
}

/// hclog's JSON time format: RFC 3339 with microseconds.
fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let mut text = String::with_capacity(32);
    let _ = write!(
        text,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.microsecond()
    );
    text
}

#[derive(Default)]
struct Fields {
    message: String,
    others: serde_json::Map<String, serde_json::Value>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: serde_json::Value) {
        if field.name() == "message" {
            self.message = match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
        } else {
            self.others.insert(field.name().to_string(), value);
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn the_most_specific_variable_sets_the_level() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        };
        assert_eq!(level_from_env("aqemia", env(&[])), LevelFilter::OFF);
        assert_eq!(level_from_env("aqemia", env(&[("TF_LOG", "debug")])), LevelFilter::DEBUG);
        assert_eq!(level_from_env("aqemia", env(&[("TF_LOG", "debug"), ("TF_LOG_PROVIDER", "WARN")])), LevelFilter::WARN);
        assert_eq!(level_from_env("aqemia", env(&[("TF_LOG_PROVIDER", "WARN"), ("TF_LOG_PROVIDER_AQEMIA", "off")])), LevelFilter::OFF);
        assert_eq!(level_from_env("aqemia", env(&[("TF_LOG", "json")])), LevelFilter::TRACE);
        assert_eq!(level_from_env("aqemia", env(&[("TF_LOG", "  ")])), LevelFilter::OFF);
    }

    /// Captures the lines the layer would write, through the same formatting.
    struct Capture(Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            self.0.lock().unwrap().push(hclog_line("provider.test", *event.metadata().level(), event));
        }
    }

    #[test]
    fn events_become_hclog_json_lines() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Capture(lines.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(tf_resource_type = "test_thing", attempts = 3, "created {}", "x");
        });
        let lines = lines.lock().unwrap();
        let line: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(line["@level"], "info");
        assert_eq!(line["@message"], "created x");
        assert_eq!(line["@module"], "provider.test");
        assert_eq!(line["tf_resource_type"], "test_thing");
        assert_eq!(line["attempts"], 3);
        let stamp = line["@timestamp"].as_str().unwrap();
        assert_eq!(stamp.len(), "2026-12-04T17:05:07.123456Z".len(), "{stamp}");
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert_eq!(keys[..4], ["@level", "@message", "@module", "@timestamp"]);
    }
}
