//! A chart rendered for a release: the Helm engine's output read into object bodies, with
//! what the plan needs to know about each (which template made it, whether it is random).

use aqemia_helm::chart::Chart;
use aqemia_helm::render::{render, RenderOptions, Seed};
use aqemia_helm::values::{user_values, UserValuesError};
use serde_json::Value;

use crate::hooks::Hook;
use crate::{documents, AddonError};

/// What a chart is rendered with, besides the chart.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub release: String,
    pub namespace: String,
    /// YAML documents merged in order, as `-f` files.
    pub values: Vec<String>,
    /// Helm `--set` arguments, applied after the documents.
    pub sets: Vec<String>,
    pub include_crds: bool,
    pub revision: i64,
    pub seed: Option<Seed>,
    /// The cluster's version and API versions; `None` renders with Helm's defaults.
    pub capabilities: Option<Capabilities>,
    /// The cluster `lookup` reads; none finds nothing.
    pub cluster: aqemia_helm::lookup::Cluster,
}

#[derive(Debug, Clone)]
pub struct Capabilities {
    pub kube_version: String,
    pub api_versions: Vec<String>,
}

/// One rendered object.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The template that made it (`chart/templates/deployment.yaml`).
    pub source: String,
    pub body: Value,
    /// Its template drew random values or the time, or read the live cluster: known only
    /// once the release has its seed (see [`aqemia_helm::render::Manifest::random`]).
    pub random: bool,
}

/// A chart's render: objects in Helm's order (CRDs first), hooks apart.
#[derive(Debug, Clone, Default)]
pub struct Release {
    pub objects: Vec<Rendered>,
    /// In install order of kinds, as Helm keeps them; `hooks::for_event` orders them for a run.
    pub hooks: Vec<Hook>,
    pub notes: String,
}

impl Release {
    /// The bodies as the release engine takes them, each with its index in `objects`.
    pub fn bodies(&self) -> Vec<(usize, Value)> {
        self.objects.iter().enumerate().map(|(i, r)| (i, r.body.clone())).collect()
    }
}

/// The user's values: `documents` merged in order, then `sets`, as `-f` and `--set` merge.
/// Needs no chart, so a document that does not parse is found before anything is fetched.
pub fn user_supplied(documents: &[String], sets: &[String]) -> Result<aqemia_helm::template::Map, AddonError> {
    let names: Vec<String> = (0..documents.len()).map(|i| format!("values[{i}]")).collect();
    user_values(names.iter().map(String::as_str).zip(documents.iter().map(String::as_str)), sets).map_err(|e| match e {
        UserValuesError::Document { name, reason } => {
            let index = name.trim_start_matches("values[").trim_end_matches(']').parse().unwrap_or(0);
            AddonError::Values { index, message: reason }
        }
        UserValuesError::Set(e) => AddonError::Set(e.to_string()),
    })
}

/// Renders `chart` with `inputs`. Errors say which values document or template is at fault.
pub fn chart(chart: &Chart, inputs: &Inputs) -> Result<Release, AddonError> {
    let values = user_supplied(&inputs.values, &inputs.sets)?;
    let mut options = RenderOptions::new(&inputs.release, &inputs.namespace);
    options.include_crds = inputs.include_crds;
    options.is_upgrade = inputs.revision > 1;
    options.revision = inputs.revision.max(1);
    options.seed = inputs.seed;
    options.cluster = inputs.cluster.clone();
    if let Some(capabilities) = &inputs.capabilities {
        options.kube_version = capabilities.kube_version.clone();
        options.api_versions = capabilities.api_versions.clone();
    }
    let rendered = render(chart, values, &options).map_err(|e| AddonError::Render(e.to_string()))?;
    let read = |manifest: &aqemia_helm::render::Manifest| -> Result<Vec<Rendered>, AddonError> {
        let bodies = documents::parse(&[manifest.content.as_str()])
            .map_err(|e| AddonError::Render(format!("{}: {}", manifest.source, e.message)))?;
        Ok(bodies.into_iter().map(|(_, body)| Rendered { source: manifest.source.clone(), body, random: manifest.random }).collect())
    };
    let mut objects = Vec::new();
    for manifest in rendered.crds.iter().chain(&rendered.manifests) {
        objects.extend(read(manifest)?);
    }
    let mut hooks = Vec::new();
    for manifest in &rendered.hooks {
        hooks.extend(read(manifest)?.into_iter().map(|rendered| Hook {
            rendered,
            kind: manifest.kind.clone(),
            name: manifest.name.clone(),
            events: manifest.hook_events.clone(),
            weight: manifest.hook_weight,
            delete_policies: match manifest.hook_delete_policies.is_empty() {
                true => vec!["before-hook-creation".to_string()],
                false => manifest.hook_delete_policies.clone(),
            },
        }));
    }
    Ok(Release { objects, hooks, notes: rendered.notes })
}
