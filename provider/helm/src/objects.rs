//! The built-in objects a chart's templates see besides `.Values`: `.Chart` (Chart.yaml),
//! `.Files` (with Helm's helper methods), `.Capabilities` and its parts.

use std::rc::Rc;

use super::chart::ChartFile;
use super::ignore::glob_match;
use super::template::{Object, Value};
use super::yaml;

/// The Kubernetes version Helm 4.3.1's `helm template` assumes without a cluster.
pub const DEFAULT_KUBE_VERSION: &str = "v1.37.0";
/// The Helm release whose output this engine reproduces, as `.Capabilities.HelmVersion`.
pub const HELM_VERSION: &str = "v4.3.1";

/// `.Chart`: Chart.yaml as a map under the Go field names of Helm's `Metadata` (absent
/// strings empty, absent lists empty), plus `IsRoot`.
pub fn chart_map(fields: &serde_json::Map<String, serde_json::Value>, is_root: bool) -> Value {
    let text = |obj: &serde_json::Map<String, serde_json::Value>, key: &str| -> Value {
        match obj.get(key) {
            Some(serde_json::Value::String(s)) => Value::str(s.as_str()),
            Some(serde_json::Value::Null) | None => Value::str(""),
            Some(other) => Value::str(other.to_string()),
        }
    };
    let list = |obj: &serde_json::Map<String, serde_json::Value>, key: &str, item: &dyn Fn(&serde_json::Value) -> Value| -> Value {
        Value::list(obj.get(key).and_then(|v| v.as_array()).map(|items| items.iter().map(item).collect()).unwrap_or_default())
    };
    let plain = |v: &serde_json::Value| Value::from_json(v);
    let maintainer = |v: &serde_json::Value| {
        let empty = serde_json::Map::new();
        let m = v.as_object().unwrap_or(&empty);
        Value::map(
            [("Name".to_string(), text(m, "name")), ("Email".to_string(), text(m, "email")), ("URL".to_string(), text(m, "url"))]
                .into_iter()
                .collect(),
        )
    };
    let dependency = |v: &serde_json::Value| {
        let empty = serde_json::Map::new();
        let d = v.as_object().unwrap_or(&empty);
        Value::map(
            [
                ("Name".to_string(), text(d, "name")),
                ("Version".to_string(), text(d, "version")),
                ("Repository".to_string(), text(d, "repository")),
                ("Condition".to_string(), text(d, "condition")),
                ("Tags".to_string(), list(d, "tags", &plain)),
                ("Enabled".to_string(), Value::Bool(true)),
                ("ImportValues".to_string(), list(d, "import-values", &plain)),
                ("Alias".to_string(), text(d, "alias")),
            ]
            .into_iter()
            .collect(),
        )
    };
    let annotations = match fields.get("annotations") {
        Some(v @ serde_json::Value::Object(_)) => Value::from_json(v),
        _ => Value::empty_map(),
    };
    Value::map(
        [
            ("Name", text(fields, "name")),
            ("Home", text(fields, "home")),
            ("Sources", list(fields, "sources", &plain)),
            ("Version", text(fields, "version")),
            ("Description", text(fields, "description")),
            ("Keywords", list(fields, "keywords", &plain)),
            ("Maintainers", list(fields, "maintainers", &maintainer)),
            ("Icon", text(fields, "icon")),
            ("APIVersion", text(fields, "apiVersion")),
            ("Condition", text(fields, "condition")),
            ("Tags", text(fields, "tags")),
            ("AppVersion", text(fields, "appVersion")),
            ("Deprecated", Value::Bool(fields.get("deprecated").and_then(|v| v.as_bool()).unwrap_or(false))),
            ("Annotations", annotations),
            ("KubeVersion", text(fields, "kubeVersion")),
            ("Dependencies", list(fields, "dependencies", &dependency)),
            ("Type", text(fields, "type")),
            ("IsRoot", Value::Bool(is_root)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    )
}

/// `.Files`: the chart's other files, with `Get`, `GetBytes`, `Glob`, `Lines`, `AsConfig` and
/// `AsSecrets`.
#[derive(Debug, Clone)]
pub struct Files {
    pub files: Rc<Vec<ChartFile>>,
}

impl Files {
    fn get(&self, name: &str) -> Option<&ChartFile> {
        self.files.iter().find(|f| f.name == name)
    }

    fn text(&self, name: &str) -> String {
        self.get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned()).unwrap_or_default()
    }

    /// A map of base name to content, as `AsConfig` and `AsSecrets` build it.
    fn by_base_name(&self, encode: fn(&[u8]) -> String) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .files
            .iter()
            .map(|f| (f.name.rsplit('/').next().unwrap_or(&f.name).to_string(), serde_json::Value::String(encode(&f.data))))
            .collect();
        if map.is_empty() {
            return String::new();
        }
        yaml::helm_to_yaml(&serde_json::Value::Object(map))
    }
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "files.Files"
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn has_method(&self, name: &str) -> bool {
        matches!(name, "Get" | "GetBytes" | "Glob" | "Lines" | "AsConfig" | "AsSecrets")
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let want = match name {
            "Get" | "GetBytes" | "Glob" | "Lines" => 1,
            "AsConfig" | "AsSecrets" => 0,
            _ => return None,
        };
        if args.len() != want {
            return Some(Err(format!("wrong number of args for {name}: want {want} got {}", args.len())));
        }
        let arg = match args.first() {
            Some(Value::Str(s)) => s.to_string(),
            Some(other) => return Some(Err(format!("wrong type for value; expected string; got {}", other.type_name()))),
            None => String::new(),
        };
        Some(Ok(match name {
            "Get" => Value::str(self.text(&arg)),
            "GetBytes" => {
                Value::list(self.get(&arg).map(|f| f.data.iter().map(|b| Value::int(i64::from(*b))).collect()).unwrap_or_default())
            }
            "Lines" => {
                let text = self.text(&arg);
                if self.get(&arg).is_none() {
                    Value::strings(Vec::new())
                } else {
                    Value::strings(text.split('\n').map(String::from).collect())
                }
            }
            "Glob" => {
                Value::Object(Rc::new(Files { files: Rc::new(self.files.iter().filter(|f| glob_match(&arg, &f.name)).cloned().collect()) }))
            }
            "AsConfig" => Value::str(self.by_base_name(|d| String::from_utf8_lossy(d).into_owned())),
            _ => Value::str(self.by_base_name(|d| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(d)
            })),
        }))
    }

    fn go_string(&self) -> String {
        let bytes = |d: &[u8]| d.iter().map(u8::to_string).collect::<Vec<_>>().join(" ");
        let entries: Vec<String> = self.files.iter().map(|f| format!("{}:[{}]", f.name, bytes(&f.data))).collect();
        format!("map[{}]", entries.join(" "))
    }
}

/// `.Capabilities.KubeVersion`.
#[derive(Debug)]
pub struct KubeVersion {
    pub version: String,
}

impl KubeVersion {
    fn part(&self, i: usize) -> String {
        self.version.trim_start_matches('v').split(['.', '-', '+']).nth(i).unwrap_or_default().to_string()
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "*common.KubeVersion"
    }

    fn field(&self, name: &str) -> Option<Value> {
        Some(Value::str(match name {
            "Version" | "GitVersion" | "String" => self.version.clone(),
            "Major" => self.part(0),
            "Minor" => self.part(1),
            _ => return None,
        }))
    }

    fn go_string(&self) -> String {
        self.version.clone()
    }
}

/// `.Capabilities.APIVersions`: `Has "apps/v1"` or `Has "apps/v1/Deployment"`.
#[derive(Debug)]
pub struct ApiVersions {
    pub versions: Vec<String>,
}

impl Object for ApiVersions {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn has_method(&self, name: &str) -> bool {
        name == "Has"
    }

    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        if name != "Has" {
            return None;
        }
        Some(match args {
            [Value::Str(v)] => Ok(Value::Bool(self.versions.iter().any(|x| x == v.as_ref()))),
            _ => Err(format!("wrong number of args for Has: want 1 got {}", args.len())),
        })
    }

    fn go_string(&self) -> String {
        format!("[{}]", self.versions.join(" "))
    }

    fn items(&self) -> Option<Vec<Value>> {
        Some(self.versions.iter().map(|v| Value::str(v.as_str())).collect())
    }
}

/// `.Capabilities.HelmVersion`. The Go version field stays empty: no Go compiler built us.
#[derive(Debug)]
pub struct HelmVersion;

impl Object for HelmVersion {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }

    fn field(&self, name: &str) -> Option<Value> {
        Some(Value::str(match name {
            "Version" => HELM_VERSION.to_string(),
            "GitCommit" | "GitTreeState" | "GoVersion" => String::new(),
            "KubeClientVersion" => DEFAULT_KUBE_VERSION.rsplit_once('.').map_or(DEFAULT_KUBE_VERSION, |(mm, _)| mm).to_string(),
            _ => return None,
        }))
    }

    fn go_string(&self) -> String {
        format!("{{{HELM_VERSION}    {}}}", DEFAULT_KUBE_VERSION.rsplit_once('.').map_or(DEFAULT_KUBE_VERSION, |(mm, _)| mm))
    }
}

/// `.Capabilities`.
#[derive(Debug)]
pub struct Capabilities {
    pub kube_version: Rc<KubeVersion>,
    pub api_versions: Rc<ApiVersions>,
}

impl Object for Capabilities {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(self.kube_version.clone())),
            "APIVersions" => Some(Value::Object(self.api_versions.clone())),
            "HelmVersion" => Some(Value::Object(Rc::new(HelmVersion))),
            _ => None,
        }
    }

    /// As fmt prints the struct: the version's own fields, not its `String()`.
    fn go_string(&self) -> String {
        let kv = &self.kube_version;
        format!(
            "{{{{{} {} {} {}}} {} {}}}",
            kv.version,
            kv.version,
            kv.part(0),
            kv.part(1),
            self.api_versions.go_string(),
            HelmVersion.go_string()
        )
    }
}

/// The API versions `helm template` assumes without a cluster: Helm 4.3.1's built-in
/// scheme, in the order Helm lists them.
pub fn default_api_versions() -> Vec<String> {
    [
        "v1",
        "admissionregistration.k8s.io/v1",
        "admissionregistration.k8s.io/v1alpha1",
        "admissionregistration.k8s.io/v1beta1",
        "internal.apiserver.k8s.io/v1alpha1",
        "apps/v1",
        "apps/v1beta1",
        "apps/v1beta2",
        "authentication.k8s.io/v1",
        "authentication.k8s.io/v1alpha1",
        "authentication.k8s.io/v1beta1",
        "authorization.k8s.io/v1",
        "authorization.k8s.io/v1beta1",
        "autoscaling/v1",
        "autoscaling/v2",
        "batch/v1",
        "batch/v1beta1",
        "certificates.k8s.io/v1",
        "certificates.k8s.io/v1beta1",
        "certificates.k8s.io/v1alpha1",
        "coordination.k8s.io/v1alpha2",
        "coordination.k8s.io/v1beta1",
        "coordination.k8s.io/v1",
        "discovery.k8s.io/v1",
        "discovery.k8s.io/v1beta1",
        "events.k8s.io/v1",
        "events.k8s.io/v1beta1",
        "extensions/v1beta1",
        "flowcontrol.apiserver.k8s.io/v1",
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "flowcontrol.apiserver.k8s.io/v1beta2",
        "flowcontrol.apiserver.k8s.io/v1beta3",
        "lifecycle.k8s.io/v1alpha1",
        "networking.k8s.io/v1",
        "networking.k8s.io/v1beta1",
        "node.k8s.io/v1",
        "node.k8s.io/v1alpha1",
        "node.k8s.io/v1beta1",
        "policy/v1",
        "policy/v1beta1",
        "rbac.authorization.k8s.io/v1",
        "rbac.authorization.k8s.io/v1beta1",
        "rbac.authorization.k8s.io/v1alpha1",
        "resource.k8s.io/v1",
        "resource.k8s.io/v1beta2",
        "resource.k8s.io/v1beta1",
        "resource.k8s.io/v1alpha3",
        "scheduling.k8s.io/v1alpha3",
        "scheduling.k8s.io/v1beta1",
        "scheduling.k8s.io/v1",
        "storage.k8s.io/v1beta1",
        "storage.k8s.io/v1",
        "storage.k8s.io/v1alpha1",
        "storagemigration.k8s.io/v1",
        "storagemigration.k8s.io/v1beta1",
        "apiextensions.k8s.io/v1beta1",
        "apiextensions.k8s.io/v1",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

/// A chart's values converted for templates (JSON numbers are float64, as in Helm).
pub fn values_from_json(map: &serde_json::Map<String, serde_json::Value>) -> super::template::Map {
    map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()
}
