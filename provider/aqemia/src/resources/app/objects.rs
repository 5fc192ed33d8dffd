//! What an `aqemia_app` asks for, as plain Rust, and the Kubernetes objects it becomes: pure
//! functions, so the objects are known at plan time and tested without a cluster.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use crate::cty::Value;
use aqemia_addon::seed::ReleaseSeed;

/// The pod annotation that changes when `secret_env` does, so that pods restart to read it.
pub const SECRET_DIGEST_ANNOTATION: &str = "aqemia.io/secret-env-digest";

#[derive(Debug, Clone, PartialEq)]
pub struct AppSpec {
    pub name: String,
    pub stage: String,
    pub image: String,
    pub replicas: i64,
    pub port: i64,
    pub service_port: i64,
    pub health_path: String,
    /// `{requests = {cpu, memory}, limits = {cpu, memory}}` as Kubernetes writes them.
    pub resources: Json,
    pub env: BTreeMap<String, String>,
    pub secret_env: BTreeMap<String, String>,
    pub host: Option<String>,
    pub ingress_class: Option<String>,
    pub cluster_issuer: Option<String>,
    pub disruption_budget: bool,
}

impl AppSpec {
    /// The spec a planned or prior value gives; `None` while any part of it is unknown.
    pub fn from_value(value: &Value) -> Option<AppSpec> {
        let known = |name: &str| value.get(name).filter(|v| v.is_wholly_known());
        let text = |name: &str| known(name).and_then(Value::as_str).map(str::to_string);
        let int = |name: &str| known(name).and_then(Value::as_number).and_then(|n| n.to_i64());
        let strings = |name: &str| -> Option<BTreeMap<String, String>> {
            let v = known(name)?;
            Some(
                v.as_entries()
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
                    .unwrap_or_default(),
            )
        };
        let resources = known("resources")?;
        let quantities = |part: &str| -> Json {
            let map = resources.get(part).and_then(Value::as_entries).cloned().unwrap_or_default();
            Json::Object(map.into_iter().map(|(k, v)| (k, Json::String(v.as_str().unwrap_or_default().to_string()))).collect())
        };
        Some(AppSpec {
            name: text("name")?,
            stage: text("stage")?,
            image: text("image")?,
            replicas: int("replicas")?,
            port: int("port")?,
            service_port: int("service_port")?,
            health_path: text("health_path")?,
            resources: json!({"requests": quantities("requests"), "limits": quantities("limits")}),
            env: strings("env")?,
            secret_env: strings("secret_env")?,
            host: known("host").map(|v| v.as_str().map(str::to_string))?,
            ingress_class: known("ingress_class").map(|v| v.as_str().map(str::to_string))?,
            cluster_issuer: known("cluster_issuer").map(|v| v.as_str().map(str::to_string))?,
            disruption_budget: known("disruption_budget").and_then(Value::as_bool)?,
        })
    }

    /// The Secret the Deployment reads `secret_env` from, and the certificate's Secret.
    pub fn env_secret_name(&self) -> String {
        format!("{}-env", self.name)
    }

    pub fn tls_secret_name(&self) -> String {
        format!("{}-{}-tls", self.name, self.stage)
    }

    fn labels(&self) -> Json {
        json!({
            // `app` is what the cluster's policies require; the others are Kubernetes' own.
            "app": self.name,
            "app.kubernetes.io/name": self.name,
            "app.kubernetes.io/instance": format!("{}-{}", self.name, self.stage),
            "app.kubernetes.io/managed-by": "aqemia",
        })
    }

    fn selector(&self) -> Json {
        json!({"app": self.name, "app.kubernetes.io/instance": format!("{}-{}", self.name, self.stage)})
    }

    fn metadata(&self, name: &str) -> Json {
        json!({"name": name, "namespace": self.stage, "labels": self.labels()})
    }

    /// The objects, in the order they are listed in plans. `key` digests `secret_env` into
    /// the pod template; without it (a first plan, before the release's key is drawn) the
    /// digest is a placeholder and the caller plans the Deployment as unknown.
    pub fn objects(&self, key: Option<&ReleaseSeed>) -> Vec<(usize, Json)> {
        let mut objects = vec![json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": self.metadata(&self.name),
            // The application does not talk to the Kubernetes API; no token is mounted.
            "automountServiceAccountToken": false,
        })];
        if !self.secret_env.is_empty() {
            objects.push(json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": self.metadata(&self.env_secret_name()),
                "type": "Opaque",
                "stringData": self.secret_env,
            }));
        }
        objects.push(self.deployment(key));
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self.metadata(&self.name),
            "spec": {
                "type": "ClusterIP",
                "selector": self.selector(),
                "ports": [{"name": "http", "port": self.service_port, "targetPort": "http", "protocol": "TCP"}],
            },
        }));
        if let Some(ingress) = self.ingress() {
            objects.push(ingress);
        }
        if self.disruption_budget && self.replicas > 1 {
            objects.push(json!({
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": self.metadata(&self.name),
                // One pod at a time may go during a node drain; the rest keep serving.
                "spec": {"maxUnavailable": 1, "selector": {"matchLabels": self.selector()}},
            }));
        }
        objects.into_iter().enumerate().collect()
    }

    fn deployment(&self, key: Option<&ReleaseSeed>) -> Json {
        let probe = json!({
            "httpGet": {"path": self.health_path, "port": "http"},
            "initialDelaySeconds": 15,
            "periodSeconds": 10,
        });
        let mut container = json!({
            "name": self.name,
            "image": self.image,
            "ports": [{"name": "http", "containerPort": self.port, "protocol": "TCP"}],
            "readinessProbe": probe,
            "livenessProbe": probe,
            "resources": self.resources,
            "securityContext": {"allowPrivilegeEscalation": false},
        });
        if !self.env.is_empty() {
            container["env"] = self.env.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
        }
        let mut annotations = serde_json::Map::new();
        if !self.secret_env.is_empty() {
            container["envFrom"] = json!([{"secretRef": {"name": self.env_secret_name()}}]);
            let digest = match key {
                Some(key) => key.keyed_digest(&serde_json::to_string(&self.secret_env).unwrap_or_default()),
                None => "pending".to_string(),
            };
            annotations.insert(SECRET_DIGEST_ANNOTATION.into(), digest.into());
        }
        let mut template_metadata = json!({"labels": self.labels()});
        if !annotations.is_empty() {
            template_metadata["annotations"] = Json::Object(annotations);
        }
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self.metadata(&self.name),
            "spec": {
                "replicas": self.replicas,
                "selector": {"matchLabels": self.selector()},
                // A new pod is ready before an old one goes: no capacity lost while rolling.
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
                "template": {
                    "metadata": template_metadata,
                    "spec": {
                        "serviceAccountName": self.name,
                        "automountServiceAccountToken": false,
                        "containers": [container],
                    },
                },
            },
        })
    }

    fn ingress(&self) -> Option<Json> {
        let host = self.host.as_ref()?;
        let mut metadata = self.metadata(&self.name);
        let mut spec = json!({
            "rules": [{
                "host": host,
                "http": {"paths": [{
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": {"service": {"name": self.name, "port": {"number": self.service_port}}},
                }]},
            }],
        });
        if let Some(class) = &self.ingress_class {
            spec["ingressClassName"] = class.as_str().into();
        }
        if let Some(issuer) = &self.cluster_issuer {
            metadata["annotations"] = json!({"cert-manager.io/cluster-issuer": issuer});
            spec["tls"] = json!([{"hosts": [host], "secretName": self.tls_secret_name()}]);
        }
        Some(json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> AppSpec {
        AppSpec {
            name: "web".into(),
            stage: "prod".into(),
            image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2".into(),
            replicas: 2,
            port: 8000,
            service_port: 80,
            health_path: "/health".into(),
            resources: json!({"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}),
            env: BTreeMap::from([("LOG_LEVEL".into(), "info".into())]),
            secret_env: BTreeMap::new(),
            host: Some("app.example.com".into()),
            ingress_class: Some("traefik".into()),
            cluster_issuer: Some("letsencrypt".into()),
            disruption_budget: true,
        }
    }

    fn kinds(objects: &[(usize, Json)]) -> Vec<&str> {
        objects.iter().map(|(_, o)| o["kind"].as_str().unwrap()).collect()
    }

    #[test]
    fn a_production_app_has_probes_a_safe_rollout_tls_and_a_budget() {
        let objects = spec().objects(None);
        assert_eq!(kinds(&objects), ["ServiceAccount", "Deployment", "Service", "Ingress", "PodDisruptionBudget"]);
        let deployment = &objects[1].1;
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(container["readinessProbe"]["initialDelaySeconds"], 15);
        assert_eq!(container["livenessProbe"]["periodSeconds"], 10);
        assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/health");
        assert_eq!(deployment["spec"]["strategy"]["rollingUpdate"], json!({"maxSurge": 1, "maxUnavailable": 0}));
        assert_eq!(deployment["spec"]["template"]["metadata"]["labels"]["app"], "web");
        let ingress = &objects[3].1;
        assert_eq!(ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"], "letsencrypt");
        assert_eq!(ingress["spec"]["tls"][0], json!({"hosts": ["app.example.com"], "secretName": "web-prod-tls"}));
        assert_eq!(ingress["spec"]["ingressClassName"], "traefik");
    }

    #[test]
    fn one_replica_has_no_budget_and_no_host_no_ingress() {
        let single = AppSpec { replicas: 1, host: None, ..spec() };
        assert_eq!(kinds(&single.objects(None)), ["ServiceAccount", "Deployment", "Service"]);
    }

    #[test]
    fn secret_env_goes_through_a_secret_whose_keyed_digest_rolls_the_pods() {
        let key = ReleaseSeed::generate().unwrap();
        let with_secret = AppSpec { secret_env: BTreeMap::from([("DB_PASSWORD".into(), "hunter2".into())]), ..spec() };
        let objects = with_secret.objects(Some(&key));
        assert_eq!(objects[1].1["kind"], "Secret");
        let template = &objects[2].1["spec"]["template"];
        assert_eq!(template["spec"]["containers"][0]["envFrom"][0]["secretRef"]["name"], "web-env");
        let digest = template["metadata"]["annotations"][SECRET_DIGEST_ANNOTATION].as_str().unwrap().to_string();
        assert!(digest.starts_with("hmac-sha256:") && !digest.contains("hunter2"));
        let changed = AppSpec { secret_env: BTreeMap::from([("DB_PASSWORD".into(), "hunter3".into())]), ..spec() };
        let other = changed.objects(Some(&key))[2].1["spec"]["template"]["metadata"]["annotations"][SECRET_DIGEST_ANNOTATION].clone();
        assert_ne!(other, Json::String(digest));
    }
}
