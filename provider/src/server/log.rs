//! Logs for Terraform: go-plugin reads the provider's stderr and re-logs hclog JSON lines at
//! their level (`TF_LOG_PROVIDER=debug` shows them). Never log secrets.

use std::io::Write;

#[derive(Debug, Clone, Copy)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

pub fn log(level: Level, message: &str) {
    let line = serde_json::json!({"@level": level.name(), "@message": message, "@module": "provider.aqemia"});
    let mut stderr = std::io::stderr().lock();
    // A closed stderr must never take the provider down mid-apply.
    let _ = writeln!(stderr, "{line}");
}

pub fn info(message: &str) {
    log(Level::Info, message)
}

pub fn debug(message: &str) {
    log(Level::Debug, message)
}

pub fn warn(message: &str) {
    log(Level::Warn, message)
}
