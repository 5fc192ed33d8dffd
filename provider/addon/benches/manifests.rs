//! Parsing and digesting release documents: how fast the YAML of a large release becomes
//! objects (every plan and apply of `aqemia_manifests` does it). Prints figures.
//!
//! usage: cargo bench -p aqemia-addon --bench manifests [-- FILE...]

use std::time::Instant;

use aqemia_addon::documents;
use aqemia_release::manifest::{self, BuiltinScopes};

fn main() {
    let files: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let texts: Vec<(String, String)> = if files.is_empty() {
        vec![("generated 1 MB CRD".into(), generated_crd())]
    } else {
        files.iter().map(|f| (f.clone(), std::fs::read_to_string(f).expect("readable file"))).collect()
    };
    for (name, text) in &texts {
        let mut times = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let bodies = documents::parse(&[text.as_str()]).expect("valid YAML");
            let placed = manifest::manifests(bodies, "default", &BuiltinScopes).expect("valid objects");
            std::hint::black_box(placed);
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "{name}: {:.1} KB, parse + digest median {:.1} ms ({:.1} MB/s)",
            text.len() as f64 / 1e3,
            median * 1e3,
            text.len() as f64 / 1e6 / median
        );
    }
}

/// A CRD of about 1 MB: 2000 string properties with long descriptions, as large operators ship.
fn generated_crd() -> String {
    let properties: Vec<String> = (0..2000)
        .map(|p| format!("\"field{p:04}\": {{\"type\": \"string\", \"description\": \"Field {p}. {}\"}}", "d".repeat(520)))
        .collect();
    format!(
        "{{\"apiVersion\": \"apiextensions.k8s.io/v1\", \"kind\": \"CustomResourceDefinition\", \"metadata\": {{\"name\": \"bigs.example.com\"}}, \
         \"spec\": {{\"group\": \"example.com\", \"scope\": \"Namespaced\", \"names\": {{\"kind\": \"Big\", \"plural\": \"bigs\"}}, \
         \"versions\": [{{\"name\": \"v1\", \"served\": true, \"storage\": true, \"schema\": {{\"openAPIV3Schema\": {{\"type\": \"object\", \
         \"properties\": {{\"spec\": {{\"type\": \"object\", \"properties\": {{{}}}}}}}}}}}}}]}}}}",
        properties.join(", ")
    )
}
