//! Whether an applied object has become what it was asked to be, by the kstatus rules that
//! `kubectl`'s wait, Flux and Helm 4 share, plus the kinds kstatus gets wrong (Prometheus
//! Operator CRs report per-condition generations only).
//!
//! Pure functions of the live object: the waiter polls, these judge.

use serde_json::Value;

use super::object::group_of;

/// The verdict on one live object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Reconciled to the latest spec.
    Current,
    /// Still converging; the text says on what.
    InProgress(String),
    /// Will not converge without a change; the text says why.
    Failed(String),
    /// Being deleted (a deletion timestamp is set).
    Terminating,
}

impl Health {
    pub fn is_current(&self) -> bool {
        matches!(self, Health::Current)
    }

    /// Current or Failed: polling further will not change the verdict.
    pub fn is_settled(&self) -> bool {
        matches!(self, Health::Current | Health::Failed(_))
    }
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Health::Current => f.write_str("current"),
            Health::InProgress(why) => write!(f, "in progress: {why}"),
            Health::Failed(why) => write!(f, "failed: {why}"),
            Health::Terminating => f.write_str("terminating"),
        }
    }
}

/// Judges `live`, a whole object as the API server returns it.
pub fn compute(live: &Value) -> Health {
    if live.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return Health::Terminating;
    }
    let generation = int(live, "/metadata/generation");
    if let (Some(observed), Some(generation)) = (int(live, "/status/observedGeneration"), generation) {
        if observed != generation {
            return Health::InProgress(format!("generation {generation} not observed yet (controller saw {observed})"));
        }
    }
    let conditions = Conditions(live.pointer("/status/conditions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]));
    if let Some(c) = conditions.with_status("Reconciling", "True") {
        return Health::InProgress(c.explain("Reconciling"));
    }
    if let Some(c) = conditions.with_status("Stalled", "True") {
        return Health::Failed(c.explain("Stalled"));
    }

    let group = group_of(live.get("apiVersion").and_then(Value::as_str).unwrap_or_default());
    let kind = live.get("kind").and_then(Value::as_str).unwrap_or_default();
    match (group, kind) {
        ("apps", "Deployment") => deployment(live, &conditions),
        ("apps", "StatefulSet") => stateful_set(live),
        ("apps", "DaemonSet") => daemon_set(live),
        ("apps", "ReplicaSet") => replica_set(live, &conditions),
        ("", "Pod") => pod(live, &conditions),
        ("batch", "Job") => job(live, &conditions),
        ("", "PersistentVolumeClaim") => match str_at(live, "/status/phase") {
            Some("Bound") => Health::Current,
            phase => Health::InProgress(format!("claim is {}, not Bound", phase.unwrap_or("pending"))),
        },
        ("", "Service") => service(live),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(&conditions),
        ("", "Secret" | "ConfigMap") | ("batch", "CronJob") | ("policy", "PodDisruptionBudget") => Health::Current,
        ("monitoring.coreos.com", "Prometheus" | "Alertmanager") => operator_managed(&conditions, generation),
        _ => match conditions.get("Ready") {
            Some(c) if c.status() == "True" => Health::Current,
            Some(c) => Health::InProgress(c.explain("not Ready")),
            // Objects without conditions have nothing to wait for.
            None => Health::Current,
        },
    }
}

fn int(v: &Value, pointer: &str) -> Option<i64> {
    v.pointer(pointer).and_then(Value::as_i64)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// A status count, absent meaning zero as the API server omits zero counts.
fn count(v: &Value, field: &str) -> i64 {
    int(v, &format!("/status/{field}")).unwrap_or(0)
}

/// `spec.replicas`, which the API server defaults to 1.
fn desired_replicas(v: &Value) -> i64 {
    int(v, "/spec/replicas").unwrap_or(1)
}

struct Conditions<'a>(&'a [Value]);

struct Condition<'a>(&'a Value);

impl<'a> Conditions<'a> {
    fn get(&self, kind: &str) -> Option<Condition<'a>> {
        self.0.iter().find(|c| c.get("type").and_then(Value::as_str) == Some(kind)).map(Condition)
    }

    fn with_status(&self, kind: &str, status: &str) -> Option<Condition<'a>> {
        self.get(kind).filter(|c| c.status() == status)
    }
}

impl Condition<'_> {
    fn status(&self) -> &str {
        self.field("status").unwrap_or("Unknown")
    }

    fn reason(&self) -> Option<&str> {
        self.field("reason")
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// `label` with the condition's reason and message, for a diagnostic.
    fn explain(&self, label: &str) -> String {
        let mut out = label.to_string();
        if let Some(reason) = self.reason().filter(|r| !r.is_empty()) {
            out.push_str(&format!(" ({reason})"));
        }
        if let Some(message) = self.field("message").filter(|m| !m.is_empty()) {
            out.push_str(&format!(": {message}"));
        }
        out
    }
}

/// The first unmet "have ≥ want" requirement, in the order a reader would check them.
fn first_shortfall(checks: &[(&str, i64, i64)]) -> Option<String> {
    checks.iter().find(|(_, have, want)| have < want).map(|(what, have, want)| format!("{what}: {have}/{want}"))
}

fn deployment(v: &Value, conditions: &Conditions) -> Health {
    if let Some(c) = conditions.get("Progressing").filter(|c| c.reason() == Some("ProgressDeadlineExceeded")) {
        return Health::Failed(c.explain("progress deadline exceeded"));
    }
    let want = desired_replicas(v);
    let (replicas, updated, ready, available) =
        (count(v, "replicas"), count(v, "updatedReplicas"), count(v, "readyReplicas"), count(v, "availableReplicas"));
    if let Some(short) =
        first_shortfall(&[("replicas", replicas, want), ("updated replicas", updated, want), ("ready replicas", ready, want)])
    {
        return Health::InProgress(short);
    }
    if replicas > want {
        return Health::InProgress(format!("{} old replicas pending termination", replicas - want));
    }
    if available < updated {
        return Health::InProgress(format!("available replicas: {available}/{updated}"));
    }
    let has_deadline = v.pointer("/spec/progressDeadlineSeconds").is_some();
    if has_deadline
        && conditions.get("Progressing").and_then(|c| c.reason().map(str::to_owned)).as_deref() != Some("NewReplicaSetAvailable")
    {
        return Health::InProgress("the new ReplicaSet is not available yet".into());
    }
    match conditions.get("Available") {
        Some(c) if c.status() == "True" => Health::Current,
        Some(c) => Health::InProgress(c.explain("not Available")),
        None => Health::InProgress("no Available condition yet".into()),
    }
}

fn stateful_set(v: &Value) -> Health {
    if str_at(v, "/spec/updateStrategy/type") == Some("OnDelete") {
        return Health::Current;
    }
    let want = desired_replicas(v);
    if let Some(short) = first_shortfall(&[("replicas", count(v, "replicas"), want), ("ready replicas", count(v, "readyReplicas"), want)]) {
        return Health::InProgress(short);
    }
    // A partitioned rollout is done when the replicas above the partition run the new revision.
    if let Some(partition) = int(v, "/spec/updateStrategy/rollingUpdate/partition").filter(|p| *p > 0) {
        let expected = (want - partition).max(0);
        return match first_shortfall(&[("updated replicas", count(v, "updatedReplicas"), expected)]) {
            Some(short) => Health::InProgress(format!("partitioned rollout: {short}")),
            None => Health::Current,
        };
    }
    if let Some(short) = first_shortfall(&[("current replicas", count(v, "currentReplicas"), want)]) {
        return Health::InProgress(short);
    }
    match (str_at(v, "/status/currentRevision"), str_at(v, "/status/updateRevision")) {
        (Some(current), Some(update)) if current == update => Health::Current,
        (current, update) => {
            Health::InProgress(format!("rolling out revision {} (pods run {})", update.unwrap_or("?"), current.unwrap_or("?")))
        }
    }
}

fn daemon_set(v: &Value) -> Health {
    // Without an observed generation the controller has not looked at it yet.
    if int(v, "/status/observedGeneration").is_none() {
        return Health::InProgress("the DaemonSet controller has not observed it yet".into());
    }
    let want = count(v, "desiredNumberScheduled");
    match first_shortfall(&[
        ("scheduled pods", count(v, "currentNumberScheduled"), want),
        ("updated pods", count(v, "updatedNumberScheduled"), want),
        ("available pods", count(v, "numberAvailable"), want),
        ("ready pods", count(v, "numberReady"), want),
    ]) {
        Some(short) => Health::InProgress(short),
        None => Health::Current,
    }
}

fn replica_set(v: &Value, conditions: &Conditions) -> Health {
    if let Some(c) = conditions.with_status("ReplicaFailure", "True") {
        return Health::InProgress(c.explain("replica failure"));
    }
    let want = desired_replicas(v);
    match first_shortfall(&[
        ("labelled replicas", count(v, "fullyLabeledReplicas"), want),
        ("available replicas", count(v, "availableReplicas"), want),
        ("ready replicas", count(v, "readyReplicas"), want),
    ]) {
        Some(short) => Health::InProgress(short),
        None => Health::Current,
    }
}

fn pod(v: &Value, conditions: &Conditions) -> Health {
    let statuses = container_statuses(v);
    if let Some(name) = statuses
        .iter()
        .find(|s| str_at(s, "/state/waiting/reason") == Some("CrashLoopBackOff"))
        .map(|s| s.get("name").and_then(Value::as_str).unwrap_or("?"))
    {
        return Health::Failed(format!("container {name} is in CrashLoopBackOff"));
    }
    match str_at(v, "/status/phase") {
        Some("Succeeded") => Health::Current,
        Some("Failed") => Health::Failed(str_at(v, "/status/message").unwrap_or("pod failed").to_string()),
        Some("Running") => match conditions.get("Ready") {
            Some(c) if c.status() == "True" => Health::Current,
            Some(c) => Health::InProgress(c.explain("running, not Ready")),
            None => Health::InProgress("running, not Ready".into()),
        },
        phase => match conditions.with_status("PodScheduled", "False") {
            Some(c) => Health::InProgress(c.explain("not scheduled")),
            None => Health::InProgress(match statuses.iter().find_map(container_waiting) {
                Some(waiting) => format!("pod is {}: {waiting}", phase.unwrap_or("Pending")),
                None => format!("pod is {}", phase.unwrap_or("Pending")),
            }),
        },
    }
}

fn container_statuses(pod: &Value) -> Vec<&Value> {
    ["/status/initContainerStatuses", "/status/containerStatuses"]
        .iter()
        .flat_map(|p| pod.pointer(p).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]))
        .collect()
}

/// What keeps one container from running: waiting (with the kubelet's reason and message),
/// or restarting after it ended (exit code and reason of its last run).
fn container_waiting(status: &&Value) -> Option<String> {
    let name = status.get("name").and_then(Value::as_str).unwrap_or("?");
    let waiting = status.pointer("/state/waiting")?;
    let mut out = format!("container {name} waiting");
    if let Some(reason) = str_at(waiting, "/reason") {
        out.push_str(&format!(" ({reason})"));
    }
    if let Some(message) = str_at(waiting, "/message").filter(|m| !m.is_empty()) {
        out.push_str(&format!(": {message}"));
    }
    if let Some(last) = status.pointer("/lastState/terminated") {
        let restarts = int(status, "/restartCount").unwrap_or(0);
        let code = int(last, "/exitCode").map_or_else(|| "?".into(), |c| c.to_string());
        let reason = str_at(last, "/reason").unwrap_or("ended");
        out.push_str(&format!(" after {restarts} restarts, last exit {code} ({reason})"));
    }
    Some(out)
}

/// Why a pod is not serving yet, for a diagnostic that names it; `None` when it is Ready
/// (or finished). The most specific cause first: scheduling, then containers, then the
/// Ready condition.
pub fn pod_trouble(pod: &Value) -> Option<String> {
    let conditions = Conditions(pod.pointer("/status/conditions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]));
    if conditions.with_status("Ready", "True").is_some() || str_at(pod, "/status/phase") == Some("Succeeded") {
        return None;
    }
    if let Some(c) = conditions.with_status("PodScheduled", "False") {
        return Some(c.explain("not scheduled"));
    }
    let waiting: Vec<String> = container_statuses(pod).iter().filter_map(container_waiting).collect();
    if !waiting.is_empty() {
        return Some(waiting.join(", "));
    }
    Some(match (str_at(pod, "/status/phase"), conditions.get("Ready")) {
        (Some("Failed"), _) => str_at(pod, "/status/message").unwrap_or("failed").to_string(),
        (_, Some(c)) => c.explain("not Ready"),
        (phase, None) => format!("{}, not Ready", phase.unwrap_or("Pending")),
    })
}

/// The label selector of a workload's pods (`kubectl get pods -l` form), for the kinds whose
/// pods say why the workload waits.
pub fn pod_selector(workload: &Value) -> Option<String> {
    let group = group_of(workload.get("apiVersion").and_then(Value::as_str).unwrap_or_default());
    let kind = workload.get("kind").and_then(Value::as_str).unwrap_or_default();
    if !matches!((group, kind), ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job")) {
        return None;
    }
    let selector = workload.pointer("/spec/selector")?;
    let mut terms: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
        .collect();
    for expression in selector.get("matchExpressions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
        let key = str_at(expression, "/key")?;
        let values: Vec<&str> =
            expression.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        terms.push(match str_at(expression, "/operator")? {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return None,
        });
    }
    (!terms.is_empty()).then(|| terms.join(","))
}

fn job(v: &Value, conditions: &Conditions) -> Health {
    if let Some(c) = conditions.with_status("Failed", "True") {
        return Health::Failed(c.explain("job failed"));
    }
    if conditions.with_status("Complete", "True").is_some() || v.pointer("/spec/suspend") == Some(&Value::Bool(true)) {
        return Health::Current;
    }
    // kstatus: a started Job is as far as an installer should wait; its pods run on.
    if v.pointer("/status/startTime").is_some() {
        return Health::Current;
    }
    Health::InProgress("job has not started".into())
}

fn service(v: &Value) -> Health {
    let is_load_balancer = str_at(v, "/spec/type") == Some("LoadBalancer");
    let has_cluster_ip = str_at(v, "/spec/clusterIP").is_some_and(|ip| !ip.is_empty());
    if is_load_balancer && !has_cluster_ip {
        return Health::InProgress("load balancer has no cluster IP yet".into());
    }
    Health::Current
}

fn crd(conditions: &Conditions) -> Health {
    if let Some(c) = conditions.with_status("NamesAccepted", "False") {
        return Health::Failed(c.explain("names not accepted"));
    }
    match conditions.get("Established") {
        Some(c) if c.status() == "True" => Health::Current,
        Some(c) if c.status() == "False" && c.reason() != Some("Installing") => Health::Failed(c.explain("not established")),
        _ => Health::InProgress("not established yet".into()),
    }
}

/// Prometheus Operator CRs: `Available=True` for the latest generation (the condition carries
/// its own observedGeneration; there is no top-level one, so plain kstatus says Current at once).
fn operator_managed(conditions: &Conditions, generation: Option<i64>) -> Health {
    match conditions.get("Available") {
        Some(c) if c.status() == "True" => {
            let observed = c.0.get("observedGeneration").and_then(Value::as_i64);
            if generation.is_none() || observed == generation {
                Health::Current
            } else {
                Health::InProgress(format!("Available for generation {}, not {}", observed.unwrap_or(0), generation.unwrap_or(0)))
            }
        }
        Some(c) => Health::InProgress(c.explain("not Available")),
        None => Health::InProgress("no Available condition yet".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(spec_replicas: i64, status: Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": spec_replicas, "progressDeadlineSeconds": 600},
            "status": status,
        })
    }

    fn available_conditions() -> Value {
        json!([
            {"type": "Available", "status": "True"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
        ])
    }

    #[test]
    fn deployment_rolled_out_is_current() {
        let live = deploy(
            2,
            json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2, "conditions": available_conditions()}),
        );
        assert_eq!(compute(&live), Health::Current);
    }

    #[test]
    fn deployment_waits_for_ready_replicas_and_says_so() {
        let live = deploy(
            3,
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 1, "conditions": available_conditions()}),
        );
        assert_eq!(compute(&live), Health::InProgress("ready replicas: 1/3".into()));
    }

    #[test]
    fn unobserved_generation_is_in_progress() {
        let live = deploy(
            1,
            json!({"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "conditions": available_conditions()}),
        );
        assert!(matches!(compute(&live), Health::InProgress(why) if why.contains("generation 2")));
    }

    #[test]
    fn deployment_past_its_deadline_failed() {
        let live = deploy(
            1,
            json!({"observedGeneration": 2, "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"web-1\" has timed out progressing."}
            ]}),
        );
        let Health::Failed(why) = compute(&live) else { panic!("expected Failed") };
        assert!(why.contains("timed out progressing"), "{why}");
    }

    #[test]
    fn surplus_replicas_pending_termination() {
        let live = deploy(
            1,
            json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2, "conditions": available_conditions()}),
        );
        assert_eq!(compute(&live), Health::InProgress("1 old replicas pending termination".into()));
    }

    #[test]
    fn daemon_set_needs_observation_then_every_node() {
        let base = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"generation": 1}, "status": {}});
        assert!(matches!(compute(&base), Health::InProgress(_)));
        let mut partial = base.clone();
        partial["status"] = json!({"observedGeneration": 1, "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 1, "numberReady": 2});
        assert_eq!(compute(&partial), Health::InProgress("available pods: 1/2".into()));
        partial["status"]["numberAvailable"] = json!(2);
        assert_eq!(compute(&partial), Health::Current);
    }

    #[test]
    fn stateful_set_revisions_and_partitions() {
        let mut live = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"generation": 1},
            "spec": {"replicas": 3, "updateStrategy": {"type": "RollingUpdate"}},
            "status": {"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "currentReplicas": 3, "currentRevision": "a", "updateRevision": "b"}});
        assert!(matches!(compute(&live), Health::InProgress(why) if why.contains("revision b")));
        live["spec"]["updateStrategy"]["rollingUpdate"] = json!({"partition": 2});
        live["status"]["updatedReplicas"] = json!(1);
        assert_eq!(compute(&live), Health::Current);
        live["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
        live["status"] = json!({});
        assert_eq!(compute(&live), Health::Current);
    }

    #[test]
    fn jobs_pods_and_claims() {
        let job = |status: Value| json!({"apiVersion": "batch/v1", "kind": "Job", "status": status});
        assert_eq!(compute(&job(json!({}))), Health::InProgress("job has not started".into()));
        assert_eq!(compute(&job(json!({"startTime": "2026-11-30T00:00:00Z"}))), Health::Current);
        assert!(
            matches!(compute(&job(json!({"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}))), Health::Failed(why) if why.contains("BackoffLimitExceeded"))
        );

        let pod = json!({"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Running", "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        assert_eq!(compute(&pod), Health::Failed("container app is in CrashLoopBackOff".into()));
        let pending = json!({"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/2 nodes are available"}]}});
        assert_eq!(compute(&pending), Health::InProgress("not scheduled (Unschedulable): 0/2 nodes are available".into()));

        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": {"phase": "Pending"}});
        assert_eq!(compute(&pvc), Health::InProgress("claim is Pending, not Bound".into()));
    }

    #[test]
    fn crds_established_or_rejected() {
        let crd = |conditions: Value| json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "status": {"conditions": conditions}});
        assert_eq!(compute(&crd(json!([{"type": "Established", "status": "True"}]))), Health::Current);
        assert!(matches!(
            compute(&crd(json!([{"type": "Established", "status": "False", "reason": "Installing"}]))),
            Health::InProgress(_)
        ));
        assert!(
            matches!(compute(&crd(json!([{"type": "NamesAccepted", "status": "False", "reason": "ListKindConflict"}]))), Health::Failed(why) if why.contains("ListKindConflict"))
        );
    }

    #[test]
    fn generic_kinds_follow_ready_and_stalled() {
        let cr = |conditions: Value| json!({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"generation": 1}, "status": {"conditions": conditions}});
        assert_eq!(compute(&cr(json!([]))), Health::Current);
        assert_eq!(compute(&cr(json!([{"type": "Ready", "status": "True"}]))), Health::Current);
        assert_eq!(
            compute(&cr(json!([{"type": "Ready", "status": "False", "reason": "ErrRegisterACMEAccount", "message": "dns failed"}]))),
            Health::InProgress("not Ready (ErrRegisterACMEAccount): dns failed".into())
        );
        assert!(matches!(compute(&cr(json!([{"type": "Stalled", "status": "True"}]))), Health::Failed(_)));
        let mut deleting = cr(json!([]));
        deleting["metadata"]["deletionTimestamp"] = json!("2026-11-30T00:00:00Z");
        assert_eq!(compute(&deleting), Health::Terminating);
    }

    #[test]
    fn prometheus_needs_availability_for_its_generation() {
        let prom = |observed: i64| {
            json!({"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus", "metadata": {"generation": 3},
            "status": {"conditions": [{"type": "Available", "status": "True", "observedGeneration": observed}]}})
        };
        assert!(matches!(compute(&prom(2)), Health::InProgress(_)));
        assert_eq!(compute(&prom(3)), Health::Current);
    }

    #[test]
    fn load_balancer_without_cluster_ip_waits() {
        let svc = json!({"apiVersion": "v1", "kind": "Service", "spec": {"type": "LoadBalancer"}});
        assert!(matches!(compute(&svc), Health::InProgress(_)));
        let svc = json!({"apiVersion": "v1", "kind": "Service", "spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.9"}});
        assert_eq!(compute(&svc), Health::Current);
    }

    #[test]
    fn a_pod_says_why_it_is_not_ready() {
        let pod = |status: Value| json!({"apiVersion": "v1", "kind": "Pod", "status": status});
        let unscheduled = pod(json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False",
            "reason": "Unschedulable", "message": "0/2 nodes are available: 2 Insufficient cpu."}]}));
        assert_eq!(pod_trouble(&unscheduled).unwrap(), "not scheduled (Unschedulable): 0/2 nodes are available: 2 Insufficient cpu.");
        let pulling = pod(json!({"phase": "Pending", "containerStatuses": [{"name": "app",
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"web:9\""}}}]}));
        assert_eq!(pod_trouble(&pulling).unwrap(), "container app waiting (ImagePullBackOff): Back-off pulling image \"web:9\"");
        assert_eq!(
            compute(&pulling),
            Health::InProgress("pod is Pending: container app waiting (ImagePullBackOff): Back-off pulling image \"web:9\"".into())
        );
        let crashing = pod(json!({"phase": "Running", "containerStatuses": [{"name": "app", "restartCount": 4,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"exitCode": 2, "reason": "Error"}}}]}));
        assert_eq!(pod_trouble(&crashing).unwrap(), "container app waiting (CrashLoopBackOff) after 4 restarts, last exit 2 (Error)");
        let probing =
            pod(json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]}));
        assert_eq!(pod_trouble(&probing).unwrap(), "not Ready (ContainersNotReady)");
        assert_eq!(pod_trouble(&pod(json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}))), None);
        assert_eq!(pod_trouble(&pod(json!({"phase": "Succeeded"}))), None);
    }

    #[test]
    fn workloads_select_their_pods() {
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"selector": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}, {"key": "canary", "operator": "DoesNotExist"}]}}});
        assert_eq!(pod_selector(&deployment).as_deref(), Some("app=web,tier in (a,b),!canary"));
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "spec": {"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}}}});
        assert_eq!(pod_selector(&job).as_deref(), Some("batch.kubernetes.io/controller-uid=u1"));
        let service = json!({"apiVersion": "v1", "kind": "Service", "spec": {"selector": {"app": "web"}}});
        assert_eq!(pod_selector(&service), None);
    }
}
