//! A release that Helm installed, as Helm records it: one Secret per revision, named
//! `sh.helm.release.v1.NAME.vN` and labelled `owner=helm`, `name=NAME`, `status=...`, whose
//! `release` key holds base64 of the gzipped JSON release (chart, values, manifest). Read
//! to take a Helm release over; forgotten once aqemia owns its objects.

use std::io::Read as _;

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::ByteString;
use kube::api::{Api, ListParams};
use serde_json::Value;

use aqemia_release::api::{delete_if_present, describe, with_retries};
use aqemia_release::engine::ReleaseError;

/// The newest deployed revision of a Helm release.
#[derive(Debug, Clone, PartialEq)]
pub struct HelmRelease {
    pub revision: i64,
    /// The chart's name and version, from its `Chart.yaml`.
    pub chart: String,
    pub chart_version: String,
    /// The values the user supplied (`-f` and `--set`), merged: Helm keeps no more.
    pub values: Value,
    /// The rendered objects, as YAML documents (hooks are kept apart and not included).
    pub manifest: String,
    /// Every record Secret of the release, all revisions.
    pub records: Vec<String>,
}

/// Whether a field manager is Helm writing: the `helm` binary, or Terraform's helm provider,
/// which writes as its own binary's name.
pub fn is_helm_manager(manager: &str) -> bool {
    manager == "helm" || manager.starts_with("terraform-provider-helm")
}

/// The newest deployed revision of release `name` in `namespace`; `None` when Helm has no
/// deployed release of that name there.
pub async fn latest_deployed(client: &kube::Client, namespace: &str, name: &str) -> Result<Option<HelmRelease>, ReleaseError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let params = ListParams::default().labels(&format!("owner=helm,name={name}"));
    let list = with_retries(|| api.list(&params))
        .await
        .map_err(|e| anyhow::anyhow!("listing the Helm records of release {namespace}/{name}: {}", describe(&e)))?;
    let records: Vec<String> = list.items.iter().filter_map(|s| s.metadata.name.clone()).collect();
    let deployed = list.items.iter().filter(|s| label(s, "status") == Some("deployed"));
    // Helm takes the newest when (after concurrent upgrades) several say deployed.
    let Some(newest) = deployed.max_by_key(|s| label(s, "version").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0)) else {
        return Ok(None);
    };
    let record = newest.metadata.name.clone().unwrap_or_default();
    let bytes = newest.data.as_ref().and_then(|d| d.get("release")).map(|ByteString(b)| b.as_slice()).unwrap_or_default();
    let release = decode(bytes).map_err(|e| anyhow::anyhow!("the Helm record {namespace}/{record} cannot be read: {e}"))?;
    let text = |pointer: &str| release.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_string();
    Ok(Some(HelmRelease {
        revision: release.get("version").and_then(Value::as_i64).unwrap_or(1),
        chart: text("/chart/metadata/name"),
        chart_version: text("/chart/metadata/version"),
        values: release.get("config").cloned().filter(|v| !v.is_null()).unwrap_or_else(|| Value::Object(Default::default())),
        manifest: text("/manifest"),
        records,
    }))
}

/// Deletes Helm's records of a release that aqemia now owns, so that neither `helm list`
/// shows a release Helm no longer manages nor `helm uninstall` deletes aqemia's objects.
pub async fn forget(client: &kube::Client, namespace: &str, records: &[String]) -> Result<(), ReleaseError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    for name in records {
        delete_if_present(&api, name, &Default::default())
            .await
            .map_err(|e| anyhow::anyhow!("deleting Helm's record {namespace}/{name}: {}", describe(&e)))?;
    }
    Ok(())
}

fn label<'a>(secret: &'a Secret, name: &str) -> Option<&'a str> {
    secret.metadata.labels.as_ref()?.get(name).map(String::as_str)
}

/// The release JSON of a record's `release` key: base64, then gzip (records written before
/// Helm compressed them are plain JSON).
fn decode(data: &[u8]) -> Result<Value, String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(data).map_err(|e| format!("not base64: {e}"))?;
    let json = if bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice()).read_to_end(&mut out).map_err(|e| format!("not gzip: {e}"))?;
        out
    } else {
        bytes
    };
    serde_json::from_slice(&json).map_err(|e| format!("not a release: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn records_decode_compressed_or_not() {
        let release = serde_json::json!({"name": "web", "version": 3, "chart": {"metadata": {"name": "web", "version": "1.2.0"}}});
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(release.to_string().as_bytes()).unwrap();
        let compressed = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        assert_eq!(decode(compressed.as_bytes()).unwrap(), release);
        let plain = base64::engine::general_purpose::STANDARD.encode(release.to_string());
        assert_eq!(decode(plain.as_bytes()).unwrap(), release);
        assert!(decode(b"%%%").unwrap_err().contains("not base64"));
    }

    #[test]
    fn helm_writes_as_helm_or_as_terraforms_helm_provider() {
        assert!(is_helm_manager("helm"));
        assert!(is_helm_manager("terraform-provider-helm_v3.1.1_x5"));
        assert!(!is_helm_manager("kubectl-client-side-apply"));
        assert!(!is_helm_manager("aqemia"));
    }
}
