//! Rendering a chart as `helm template` does: dependencies enabled or not, values coalesced,
//! every template parsed into one set (subcharts first), each non-partial file rendered with
//! its chart's scope, documents split and sorted into Helm's install order, hooks apart.

use std::rc::Rc;

use super::chart::{Chart, Dependency};
use super::objects::{chart_map, default_api_versions, ApiVersions, Capabilities, Files, KubeVersion, DEFAULT_KUBE_VERSION};
use super::semver::{Constraint, Version};
use super::template::entropy::Entropy;
use super::template::funcs::to_json_value;
use super::template::funcs::{FAIL_END, FAIL_START};
use super::template::print::sprint_value;
use super::template::{Cause, Engine, Map, TemplateError, TemplateSet, Value};
use super::values::{coalesce, merge_tables, merged_defaults, path_value, ValueTree};
use super::yaml;

/// What `helm template` is told besides the chart and the values.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    pub release_name: String,
    pub namespace: String,
    pub kube_version: String,
    pub api_versions: Vec<String>,
    pub include_crds: bool,
    pub skip_hooks: bool,
    /// `.Release.IsUpgrade` (and not `.Release.IsInstall`), as in `helm upgrade`.
    pub is_upgrade: bool,
    /// `.Release.Revision`.
    pub revision: i64,
    /// Draw random values, keys and the time from a seed and a recorded clock instead of the
    /// system, so that the same inputs render the same output every time.
    pub seed: Option<Seed>,
    /// The cluster `lookup` reads; none (as `helm template`) finds nothing.
    pub cluster: crate::lookup::Cluster,
}

/// A release's recorded randomness: see [`Entropy::seeded`].
#[derive(Clone, Copy)]
pub struct Seed {
    pub bytes: [u8; 32],
    pub clock: time::OffsetDateTime,
}

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The seed makes the chart's passwords and keys: never printed.
        write!(f, "Seed {{ clock: {} }}", self.clock)
    }
}

impl RenderOptions {
    pub fn new(release_name: &str, namespace: &str) -> RenderOptions {
        RenderOptions {
            release_name: release_name.to_string(),
            namespace: namespace.to_string(),
            kube_version: DEFAULT_KUBE_VERSION.to_string(),
            api_versions: default_api_versions(),
            include_crds: false,
            skip_hooks: false,
            is_upgrade: false,
            revision: 1,
            seed: None,
            cluster: Default::default(),
        }
    }
}

/// One document of the output and where it came from.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub source: String,
    pub kind: String,
    /// `metadata.name`, as written.
    pub name: String,
    pub content: String,
    /// The `helm.sh/hook` events, empty for an ordinary object.
    pub hook_events: Vec<String>,
    pub hook_weight: i64,
    pub hook_delete_policies: Vec<String>,
    /// The template that made it drew random values or the time, or read the live cluster:
    /// without a seed it differs on every render, and what the cluster holds can change
    /// before the next one.
    pub random: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Rendered {
    pub crds: Vec<Manifest>,
    pub manifests: Vec<Manifest>,
    pub hooks: Vec<Manifest>,
    pub notes: String,
}

impl Rendered {
    /// The hooks for one event (`pre-install`, `post-upgrade`...) in the order Helm runs
    /// them: by weight, then by name; `hooks` is in install order of kinds, and the sort is
    /// stable, so kind decides only between hooks of the same weight and name (Helm's
    /// `hookByWeight` over hooks sorted by kind).
    pub fn hooks_for(&self, event: &str) -> Vec<&Manifest> {
        let mut hooks: Vec<&Manifest> = self.hooks.iter().filter(|h| h.hook_events.iter().any(|e| e == event)).collect();
        sort_hooks_for_run(&mut hooks, |h| (h.hook_weight, h.name.as_str()));
        hooks
    }

    /// The text `helm template` prints.
    pub fn helm_template_output(&self) -> String {
        let mut body = String::new();
        for m in self.crds.iter().chain(&self.manifests) {
            body.push_str(&format!("---\n# Source: {}\n{}\n", m.source, m.content));
        }
        let mut out = format!("{}\n", body.trim());
        for h in &self.hooks {
            out.push_str(&format!("---\n# Source: {}\n{}\n", h.source, h.content));
        }
        out
    }
}

/// Sorts the hooks of one event into the order Helm runs them, given each one's weight and
/// name: by weight, then by name. Stable, so hooks in install order of kinds (as rendered)
/// keep it between equal weights and names.
pub fn sort_hooks_for_run<T>(hooks: &mut [T], weight_and_name: impl Fn(&T) -> (i64, &str)) {
    hooks.sort_by(|a, b| weight_and_name(a).cmp(&weight_and_name(b)));
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

/// Helm's install order: kinds earlier in the list are applied first; others go last.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

impl ValueTree for Chart {
    fn chart_name(&self) -> &str {
        self.name()
    }

    fn default_values(&self) -> Map {
        super::objects::values_from_json(&self.values)
    }

    fn children(&self) -> Vec<&Chart> {
        self.subcharts.iter().collect()
    }
}

/// Helm's `processDependencyEnabled`: aliases applied, subcharts whose tags or condition turn
/// them off removed, recursively.
fn enabled_dependencies(chart: &Chart, user: &Map, path: &str) -> Chart {
    let mut chart = chart.clone();
    let mut subs: Vec<Chart> = Vec::new();
    let declared = chart.dependencies.clone();
    // A subchart belongs to a declared dependency when the names match and its version
    // satisfies the dependency's constraint (Helm's `IsCompatibleRange`); others stay as they
    // are, without conditions or aliases.
    let compatible = |dep: &Dependency, sub: &Chart| -> bool {
        !dep.version.trim().is_empty()
            && matches!((Constraint::parse(&dep.version), Version::parse(sub.version())), (Ok(c), Ok(v)) if c.matches(&v))
    };
    for sub in &chart.subcharts {
        if !declared.iter().any(|d| d.name == sub.name() && compatible(d, sub)) {
            subs.push(sub.clone());
        }
    }
    let mut deps = Vec::new();
    for dep in &declared {
        let mut dep = dep.clone();
        if let Some(sub) = chart.subcharts.iter().find(|s| s.name() == dep.name && compatible(&dep, s)) {
            let mut sub = sub.clone();
            if !dep.alias.is_empty() {
                sub.metadata.insert("name".into(), serde_json::Value::String(dep.alias.clone()));
            }
            subs.push(sub);
        }
        // Every declared dependency takes its alias and is switched by tags and conditions,
        // matched by a subchart or not; switching one off removes the subcharts of its name.
        if !dep.alias.is_empty() {
            dep.name = dep.alias.clone();
        }
        deps.push(dep);
    }
    chart.subcharts = subs;
    let mut cvals = user.clone();
    coalesce(&chart, &mut cvals);
    let tags = match cvals.get("tags") {
        Some(Value::Map(m)) => Some(m.borrow().clone()),
        _ => None,
    };
    let mut disabled: Vec<String> = Vec::new();
    for dep in &deps {
        let mut enabled = true;
        if let Some(tags) = &tags {
            let (mut has_true, mut has_false) = (false, false);
            for tag in &dep.tags {
                match tags.get(tag) {
                    Some(Value::Bool(true)) => has_true = true,
                    Some(Value::Bool(false)) => has_false = true,
                    _ => {}
                }
            }
            if !has_true && has_false {
                enabled = false;
            }
        }
        for condition in dep.condition.trim().split(',').filter(|c| !c.is_empty()) {
            if let Some(Value::Bool(b)) = path_value(&cvals, &format!("{path}{condition}")) {
                enabled = b;
                break;
            }
        }
        if !enabled {
            disabled.push(dep.name.clone());
        }
    }
    chart.subcharts.retain(|s| !disabled.iter().any(|d| d == s.name()));
    deps.retain(|d| !disabled.contains(&d.name));
    // `.Chart.Dependencies` lists the enabled ones, under their aliases, as Helm leaves them.
    let declared_json: Vec<serde_json::Value> = chart.metadata.get("dependencies").and_then(|d| d.as_array()).cloned().unwrap_or_default();
    let renamed: Vec<serde_json::Value> = declared_json
        .into_iter()
        .filter_map(|mut d| {
            let alias = d.get("alias").and_then(|a| a.as_str()).filter(|a| !a.is_empty()).map(String::from);
            if let (Some(alias), Some(obj)) = (alias, d.as_object_mut()) {
                obj.insert("name".into(), serde_json::Value::String(alias));
            }
            let name = d.get("name").and_then(|n| n.as_str()).unwrap_or_default();
            (!disabled.iter().any(|x| x == name)).then_some(d)
        })
        .collect();
    if chart.metadata.contains_key("dependencies") {
        chart.metadata.insert("dependencies".into(), serde_json::Value::Array(renamed));
    }
    chart.dependencies = deps;
    let subcharts = std::mem::take(&mut chart.subcharts);
    chart.subcharts = subcharts.iter().map(|s| enabled_dependencies(s, &cvals, &format!("{path}{}.", s.name()))).collect();
    chart
}

/// The table at a dotted path (Helm's `Values.Table`).
fn table_at(values: &Map, path: &str) -> Option<Map> {
    let mut current = values.clone();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        current = match current.get(part) {
            Some(Value::Map(m)) => m.borrow().clone(),
            _ => return None,
        };
    }
    Some(current)
}

/// `data` placed at a dotted path (`.` is the top), as Helm's `pathToMap`.
fn at_path(path: &str, data: Map) -> Map {
    if path == "." {
        return data;
    }
    path.split('.').filter(|p| !p.is_empty()).rev().fold(data, |inner, key| [(key.to_string(), Value::map(inner))].into_iter().collect())
}

/// Helm's `processDependencyImportValues`, subcharts first: a chart that declares
/// dependencies takes as its defaults its values merged with its subcharts' (nulls kept),
/// under which come the values it imports from them (`import-values`: `exports.NAME` of the
/// child, or a child table put at a parent path). Its own values win over imported ones.
fn import_values(chart: &mut Chart) {
    for sub in &mut chart.subcharts {
        import_values(sub);
    }
    if !chart.metadata.contains_key("dependencies") {
        return;
    }
    let merged = merged_defaults(&*chart);
    let mut imported = Map::new();
    for dep in &chart.dependencies {
        for spec in &dep.import_values {
            let (child, parent) = match spec {
                serde_json::Value::Object(m) => {
                    let text = |k: &str| m.get(k).map(|v| sprint_value(&Value::from_json(v))).unwrap_or_else(|| "<nil>".into());
                    (text("child"), text("parent"))
                }
                serde_json::Value::String(name) => (format!("exports.{name}"), ".".to_string()),
                _ => continue,
            };
            if let Some(table) = table_at(&merged, &format!("{}.{child}", dep.name)) {
                merge_tables(&mut imported, at_path(&parent, table));
            }
        }
    }
    let mut values: Map = merged.iter().map(|(k, v)| (k.clone(), v.deep_copy())).collect();
    merge_tables(&mut values, imported);
    if let Ok(serde_json::Value::Object(json)) = to_json_value(&Value::map(values)) {
        chart.values = json;
    }
}

/// A template file with the data it renders with.
struct Renderable {
    name: String,
    text: String,
    data: Map,
}

/// Gathers the templates of a chart and its subcharts with their scope (Helm's
/// `recAllTpls`); returns the chart's scope, which its parent sees as `.Subcharts.NAME`.
fn collect(chart: &Chart, prefix: &str, is_root: bool, values: Value, common: &Map, out: &mut Vec<Renderable>) -> Value {
    let mut data = common.clone();
    data.insert("Values".into(), values.clone());
    data.insert("Chart".into(), chart_map(&chart.metadata, is_root));
    data.insert("Files".into(), Value::Object(Rc::new(Files { files: Rc::new(chart.files.clone()) })));
    let mut subcharts = Map::new();
    for sub in &chart.subcharts {
        let sub_values = match &values {
            Value::Map(m) => match m.borrow().get(sub.name()) {
                Some(v @ Value::Map(_)) => v.clone(),
                _ => Value::empty_map(),
            },
            _ => Value::empty_map(),
        };
        let scope = collect(sub, &format!("{prefix}/charts/{}", sub.name()), false, sub_values, common, out);
        subcharts.insert(sub.name().to_string(), scope);
    }
    data.insert("Subcharts".into(), Value::map(subcharts));
    let library = chart.metadata.get("type").and_then(|t| t.as_str()) == Some("library");
    for file in &chart.templates {
        let base = file.name.rsplit('/').next().unwrap_or(&file.name);
        // A library chart contributes only its partials.
        if library && !base.starts_with('_') {
            continue;
        }
        let mut data = data.clone();
        let name = format!("{prefix}/{}", file.name);
        data.insert(
            "Template".into(),
            Value::map(
                [("Name".to_string(), Value::str(name.as_str())), ("BasePath".to_string(), Value::str(format!("{prefix}/templates")))]
                    .into_iter()
                    .collect(),
            ),
        );
        out.push(Renderable { name, text: String::from_utf8_lossy(&file.data).into_owned(), data });
    }
    Value::map(data)
}

/// Helm's template order: deeper paths first, then names in reverse order. Definitions from
/// files parsed later win, so a parent chart overrides its subcharts' helpers.
fn helm_order(a: &str, b: &str) -> std::cmp::Ordering {
    let (da, db) = (a.matches('/').count(), b.matches('/').count());
    db.cmp(&da).then_with(|| b.cmp(a))
}

/// One level of a template error as Helm lays it out (Helm's `TraceableError`).
#[derive(PartialEq)]
struct Traceable {
    location: String,
    executing: String,
    message: String,
}

impl Traceable {
    /// Reads a Go template error text; `None` when it is not one.
    fn parse(text: &str) -> Option<Traceable> {
        let rest = text.strip_prefix("template: ")?;
        let cut_chained = |m: &str| m.find(" template:").map_or(m, |i| &m[..i]).to_string();
        if rest.starts_with("no template ") {
            return Some(Traceable { location: String::new(), executing: String::new(), message: text.to_string() });
        }
        if let Some((location, after)) = rest.split_once(": executing ") {
            let after = after.strip_prefix('"')?;
            let end = after.find('"')?;
            let function = &after[..end];
            let at = after[end + 1..].strip_prefix(" at <")?;
            let (node, message) = at.split_once(">: ")?;
            return Some(Traceable {
                location: location.to_string(),
                executing: format!("executing \"{function}\" at <{node}>:"),
                message: cut_chained(message),
            });
        }
        let sep = rest.rfind(": ")?;
        Some(Traceable { location: rest[..sep].to_string(), executing: String::new(), message: cut_chained(&rest[sep + 2..]) })
    }

    fn write(&self, out: &mut String) {
        if !self.location.is_empty() {
            out.push_str(&format!("{}\n  ", self.location));
        }
        if !self.executing.is_empty() {
            out.push_str(&format!("{}\n    ", self.executing));
        }
        if !self.message.is_empty() {
            out.push_str(&format!("{}\n", self.message));
        }
    }
}

/// Helm's `reformatExecErrorMsg`: `fail` and `required` become "execution error at
/// (FILE:L:C): message"; a chain of template errors is laid out level by level; anything it
/// cannot read stays as Go printed it.
fn reformat_exec_error(file: &str, err: &TemplateError) -> String {
    if !err.exec {
        return err.message.clone();
    }
    let tokens: Vec<&str> = err.message.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({file}): {}", err.message);
    }
    if let (Some(start), Some(end)) = (tokens[2].find(FAIL_START), tokens[2].rfind(FAIL_END)) {
        if start + FAIL_START.len() <= end {
            return format!("execution error at ({}): {}", tokens[1], &tokens[2][start + FAIL_START.len()..end]);
        }
    }
    let mut levels: Vec<Traceable> = Vec::new();
    let mut current = err;
    loop {
        let Some(level) = Traceable::parse(&current.message) else { return err.message.clone() };
        if levels.last() != Some(&level) {
            levels.push(level);
        }
        match current.cause.as_deref() {
            None => break,
            Some(Cause::Plain(_)) => return err.message.clone(),
            Some(Cause::Template(inner)) => current = inner,
        }
    }
    let mut out = String::new();
    for level in &levels {
        level.write(&mut out);
    }
    out.trim().to_string()
}

fn reformat_parse_error(file: &str, err: &str) -> String {
    let tokens: Vec<&str> = err.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({file}): {err}");
    }
    format!("parse error at ({}): {}", tokens[1], tokens[tokens.len() - 1])
}

/// Renders a chart with the user's values (files merged and `--set` applied already).
pub fn render(chart: &Chart, user: Map, opts: &RenderOptions) -> Result<Rendered, RenderError> {
    let mut chart = enabled_dependencies(chart, &user, "");
    import_values(&mut chart);
    let mut values = user;
    coalesce(&chart, &mut values);
    super::schema::validate(&chart, &values).map_err(RenderError)?;
    let release = Value::map(
        [
            ("Name".to_string(), Value::str(opts.release_name.as_str())),
            ("Namespace".to_string(), Value::str(opts.namespace.as_str())),
            ("IsUpgrade".to_string(), Value::Bool(opts.is_upgrade)),
            ("IsInstall".to_string(), Value::Bool(!opts.is_upgrade)),
            ("Revision".to_string(), Value::int(opts.revision)),
            ("Service".to_string(), Value::str("Helm")),
        ]
        .into_iter()
        .collect(),
    );
    let capabilities = Capabilities {
        kube_version: Rc::new(KubeVersion { version: opts.kube_version.clone() }),
        api_versions: Rc::new(ApiVersions { versions: opts.api_versions.clone() }),
    };
    let common: Map =
        [("Release".to_string(), release), ("Capabilities".to_string(), Value::Object(Rc::new(capabilities)))].into_iter().collect();
    let mut renderables = Vec::new();
    collect(&chart, chart.name(), true, Value::map(values), &common, &mut renderables);
    renderables.sort_by(|a, b| helm_order(&a.name, &b.name));

    let mut set = TemplateSet::new();
    for r in &renderables {
        set.add_file(&r.name, &r.text).map_err(|e| RenderError(reformat_parse_error(&r.name, &e.to_string())))?;
    }
    let mut engine = Engine::new(set);
    engine.cluster = opts.cluster.clone();
    if let Some(seed) = opts.seed {
        engine.entropy = Entropy::seeded(seed.bytes, seed.clock);
    }
    // (file, output, whether it drew entropy)
    let mut outputs: Vec<(String, String, bool)> = Vec::new();
    for r in renderables {
        let base = r.name.rsplit('/').next().unwrap_or(&r.name);
        if base.starts_with('_') {
            continue;
        }
        engine.entropy.drawn = false;
        let out = engine.execute(&r.name, Value::map(r.data)).map_err(|e| RenderError(reformat_exec_error(&r.name, &e)))?;
        outputs.push((r.name, out.replace("<no value>", ""), engine.entropy.drawn));
    }

    let mut rendered = Rendered::default();
    let notes_name = format!("{}/templates/NOTES.txt", chart.name());
    outputs.retain(|(name, text, _)| {
        if name.ends_with("NOTES.txt") {
            if *name == notes_name {
                rendered.notes = text.clone();
            }
            return false;
        }
        true
    });
    outputs.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, text, random) in outputs {
        if text.trim().is_empty() {
            continue;
        }
        for doc in split_manifests(&text) {
            let Some(mut m) = head(&name, doc)? else { continue };
            m.random = random;
            if m.hook_events.is_empty() {
                rendered.manifests.push(m);
            } else if !opts.skip_hooks {
                rendered.hooks.push(m);
            }
        }
    }
    rendered.manifests.sort_by_key(|m| kind_rank(&m.kind));
    rendered.hooks.sort_by_key(|m| kind_rank(&m.kind));
    if opts.include_crds {
        collect_crds(&chart, chart.name(), &mut rendered.crds);
    }
    Ok(rendered)
}

/// Sort key by kind: known kinds by install order, unknown kinds after them by name.
fn kind_rank(kind: &str) -> (usize, String) {
    match INSTALL_ORDER.iter().position(|k| *k == kind) {
        Some(i) => (i, String::new()),
        None => (INSTALL_ORDER.len(), kind.to_string()),
    }
}

fn collect_crds(chart: &Chart, prefix: &str, out: &mut Vec<Manifest>) {
    for f in chart.crds() {
        if [".yaml", ".yml", ".json"].iter().any(|ext| f.name.ends_with(ext)) {
            out.push(Manifest {
                source: format!("{prefix}/{}", f.name),
                kind: "CustomResourceDefinition".into(),
                name: String::new(),
                content: String::from_utf8_lossy(&f.data).into_owned(),
                hook_events: Vec::new(),
                hook_weight: 0,
                hook_delete_policies: Vec::new(),
                random: false,
            });
        }
    }
    for sub in &chart.subcharts {
        collect_crds(sub, &format!("{prefix}/charts/{}", sub.name()), out);
    }
}

/// Helm's `SplitManifests`: documents start after each line that begins with `---` (the
/// dashes and the spaces or tabs after them are dropped, the rest of the line stays); leading
/// whitespace is trimmed, trailing whitespace kept, and blank documents dropped.
pub fn split_manifests(text: &str) -> Vec<&str> {
    let s = text.trim_start();
    let mut docs = Vec::new();
    let mut last = 0;
    let mut line_start = 0;
    while line_start <= s.len() {
        let line_end = s[line_start..].find('\n').map_or(s.len(), |i| line_start + i);
        if s[line_start..].starts_with("---") {
            docs.push(&s[last..line_start]);
            let mut end = line_start + 3;
            while end < line_end && matches!(s.as_bytes()[end], b' ' | b'\t') {
                end += 1;
            }
            last = end;
        }
        line_start = line_end + 1;
    }
    docs.push(&s[last..]);
    docs.into_iter().filter(|d| !d.trim().is_empty()).map(str::trim_start).collect()
}

/// Reads a document's kind and hook annotations, as Helm's `SimpleHead`; `None` for a hook
/// with an event Helm does not know, which Helm drops.
fn head(source: &str, doc: &str) -> Result<Option<Manifest>, RenderError> {
    let parsed = yaml::from_yaml(doc).map_err(|e| RenderError(format!("YAML parse error on {source}: {e}")))?;
    let kind = parsed.get("kind").and_then(|k| k.as_str()).unwrap_or_default().to_string();
    let name = parsed.get("metadata").and_then(|m| m.get("name")).and_then(|n| n.as_str()).unwrap_or_default().to_string();
    let annotations = parsed.get("metadata").and_then(|m| m.get("annotations")).and_then(|a| a.as_object());
    let annotation = |key: &str| annotations.and_then(|a| a.get(key)).and_then(|v| v.as_str()).map(str::to_string);
    let mut m = Manifest {
        source: source.to_string(),
        kind,
        name,
        content: doc.to_string(),
        hook_events: Vec::new(),
        hook_weight: 0,
        hook_delete_policies: Vec::new(),
        random: false,
    };
    if let Some(events) = annotation("helm.sh/hook") {
        let events: Vec<String> = events.split(',').map(|e| e.trim().to_lowercase()).collect();
        if !events.iter().all(|e| HOOK_EVENTS.contains(&e.as_str())) {
            return Ok(None);
        }
        m.hook_events = events;
        // strconv.Atoi: no spaces around the number; anything else weighs 0.
        m.hook_weight = annotation("helm.sh/hook-weight").and_then(|w| w.parse().ok()).unwrap_or(0);
        m.hook_delete_policies =
            annotation("helm.sh/hook-delete-policy").map(|p| p.split(',').map(|x| x.trim().to_lowercase()).collect()).unwrap_or_default();
    }
    Ok(Some(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::ChartFile;

    fn chart(files: &[(&str, &str)]) -> Chart {
        Chart::from_files(files.iter().map(|(n, d)| ChartFile { name: n.to_string(), data: d.as_bytes().to_vec() }).collect()).unwrap()
    }

    fn hook(name: &str, kind: &str, events: &str, weight: i32) -> String {
        format!("apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {name}\n  annotations:\n    helm.sh/hook: {events}\n    helm.sh/hook-weight: \"{weight}\"\n    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded\n")
    }

    #[test]
    fn hooks_come_in_phases_by_weight_then_name_then_kind() {
        let (a, b, c, d, e) = (
            hook("b-job", "Job", "pre-install", 5),
            hook("a-cm", "ConfigMap", "pre-install,pre-upgrade", 5),
            hook("z", "Job", "pre-install", -1),
            hook("late", "Job", "post-install", 0),
            hook("a-cm", "Job", "pre-install", 5),
        );
        let chart = chart(&[
            ("Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n"),
            ("templates/hooks.yaml", &format!("{e}---\n{a}---\n{b}---\n{c}---\n{d}")),
            ("templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n"),
        ]);
        let rendered = render(&chart, Map::new(), &RenderOptions::new("r", "ns")).unwrap();
        let names = |event: &str| rendered.hooks_for(event).iter().map(|h| h.name.clone()).collect::<Vec<_>>();
        let kinds = |event: &str| rendered.hooks_for(event).iter().map(|h| h.kind.clone()).collect::<Vec<_>>();
        // Same weight: by name; same weight and name: the ConfigMap before the Job, as kinds install.
        assert_eq!(names("pre-install"), ["z", "a-cm", "a-cm", "b-job"]);
        assert_eq!(kinds("pre-install"), ["Job", "ConfigMap", "Job", "Job"]);
        assert_eq!(names("pre-upgrade"), ["a-cm"]);
        assert_eq!(names("post-install"), ["late"]);
        assert_eq!(rendered.manifests.len(), 1);
        assert_eq!(rendered.hooks_for("pre-install")[1].hook_delete_policies, ["before-hook-creation", "hook-succeeded"]);
    }

    #[test]
    fn documents_split_on_dash_lines() {
        assert_eq!(split_manifests("a: 1\n---\nb: 2\n--- # c\nc: 3\n---\n\n"), vec!["a: 1\n", "b: 2\n", "# c\nc: 3\n"]);
        assert_eq!(split_manifests("---#x\na: 1"), vec!["#x\na: 1"]);
    }

    #[test]
    fn seeded_renders_repeat_and_name_the_random_documents() {
        let chart = chart(&[
            ("Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n"),
            ("templates/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: {{ randAlphaNum 20 }}\n"),
            ("templates/config.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  upgrade: {{ .Release.IsUpgrade | quote }}\n  revision: {{ .Release.Revision | quote }}\n"),
        ]);
        let mut opts = RenderOptions::new("r", "ns");
        opts.seed = Some(Seed { bytes: [9; 32], clock: time::OffsetDateTime::UNIX_EPOCH });
        let first = render(&chart, Map::new(), &opts).unwrap();
        assert_eq!(first.helm_template_output(), render(&chart, Map::new(), &opts).unwrap().helm_template_output());
        let random: Vec<(&str, bool)> = first.manifests.iter().map(|m| (m.kind.as_str(), m.random)).collect();
        assert_eq!(random, [("Secret", true), ("ConfigMap", false)]);
        assert!(first.manifests[1].content.contains("upgrade: \"false\"\n  revision: \"1\""));
        opts.is_upgrade = true;
        opts.revision = 4;
        let upgrade = render(&chart, Map::new(), &opts).unwrap();
        assert!(upgrade.manifests[1].content.contains("upgrade: \"true\"\n  revision: \"4\""));
        opts.seed = None;
        assert_ne!(first.manifests[0].content, render(&chart, Map::new(), &opts).unwrap().manifests[0].content);
    }

    /// Answers every lookup of Secret `ns/kept`; refuses kind `Missing`.
    struct OneSecret;

    impl crate::lookup::LiveCluster for OneSecret {
        fn lookup(&self, _: &str, kind: &str, namespace: &str, name: &str) -> Result<Option<serde_json::Value>, String> {
            match (kind, namespace, name) {
                ("Missing", ..) => Err("the server could not find the requested resource".into()),
                ("Secret", "ns", "kept") => Ok(Some(serde_json::json!({"data": {"password": "a2VwdA=="}}))),
                _ => Ok(None),
            }
        }
    }

    #[test]
    fn lookup_reads_the_live_cluster_and_finds_nothing_without_one() {
        let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  kept: {{ (lookup \"v1\" \"Secret\" \"ns\" \"kept\").data | default dict | dig \"password\" \"new\" | quote }}\n  other: {{ lookup \"v1\" \"Secret\" \"ns\" \"other\" | len | quote }}\n";
        let chart = chart(&[("Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n"), ("templates/config.yaml", template)]);
        let mut opts = RenderOptions::new("r", "ns");
        let offline = render(&chart, Map::new(), &opts).unwrap();
        assert!(offline.manifests[0].content.contains("kept: \"new\"\n  other: \"0\""), "{}", offline.manifests[0].content);
        opts.cluster = crate::lookup::Cluster(Some(std::sync::Arc::new(OneSecret)));
        let live = render(&chart, Map::new(), &opts).unwrap();
        assert!(live.manifests[0].content.contains("kept: \"a2VwdA==\"\n  other: \"0\""), "{}", live.manifests[0].content);
        // What the cluster answered may change before the next render, as random values do.
        assert!(live.manifests[0].random && !offline.manifests[0].random);
        let refused = chart_with("{{ lookup \"v1\" \"Missing\" \"\" \"x\" }}");
        let err = render(&refused, Map::new(), &opts).unwrap_err().to_string();
        assert!(err.contains("error calling lookup: the server could not find the requested resource"), "{err}");
    }

    fn chart_with(template: &str) -> Chart {
        chart(&[("Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n"), ("templates/t.yaml", template)])
    }
}
