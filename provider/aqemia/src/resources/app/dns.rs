//! The app's Cloudflare record: its zone, what it points at (the ingress controller's load
//! balancer, waited for), and a create that never clobbers a record someone else made.

use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::ProviderConfig;
use crate::cty::{Path, Value};
use crate::framework::Diagnostics;
use aqemia_cloudflare::{Client, Record, RecordSpec, Zone, RECORD_EXISTS};

/// How often the load balancer's Service is read while waiting for its hostname.
const POLL: Duration = Duration::from_secs(2);

/// What the `dns` block asks for, once known.
#[derive(Debug, Clone, PartialEq)]
pub struct Dns {
    pub zone_id: Option<String>,
    pub zone: Option<String>,
    pub name: String,
    pub proxied: bool,
    pub ttl: u32,
    pub target: Option<String>,
    /// `(namespace, name)` of the Service whose load balancer the record points at.
    pub load_balancer_service: Option<(String, String)>,
    pub adopt_existing: bool,
}

/// Something wrong, on the `dns` attribute it is about (or the block).
#[derive(Debug)]
pub struct Problem {
    pub attribute: Option<&'static str>,
    pub summary: &'static str,
    pub detail: String,
}

impl Problem {
    fn new(attribute: Option<&'static str>, summary: &'static str, detail: impl Into<String>) -> Problem {
        Problem { attribute, summary, detail: detail.into() }
    }

    pub fn report(self, diags: &mut Diagnostics) {
        let path = Path::root().attr("dns");
        let path = match self.attribute {
            Some(attribute) => path.attr(attribute),
            None => path,
        };
        diags.attribute_error(&path, self.summary, self.detail);
    }
}

impl Dns {
    /// The block of a planned or prior value; `None` without one or while any part is unknown.
    pub fn from_value(value: &Value) -> Option<Dns> {
        let block = value.get("dns").filter(|b| !b.is_null())?;
        // `zone_id` is left out: unknown until the plan finds the zone by name.
        let configured = ["zone", "name", "proxied", "ttl", "target", "load_balancer_service", "adopt_existing"];
        if configured.iter().any(|a| block.get(a).is_some_and(Value::is_unknown)) || value.get("host").is_some_and(Value::is_unknown) {
            return None;
        }
        let text = |name: &str| block.get(name).and_then(Value::as_str).map(str::to_string);
        Some(Dns {
            zone_id: text("zone_id"),
            zone: text("zone"),
            name: super::schema::record_name(value)?.to_ascii_lowercase(),
            proxied: block.get("proxied").and_then(Value::as_bool).unwrap_or(true),
            ttl: block.get("ttl").and_then(Value::as_number).and_then(|n| n.to_u64()).unwrap_or(1) as u32,
            target: text("target"),
            load_balancer_service: text("load_balancer_service")
                .and_then(|s| s.split_once('/').map(|(ns, name)| (ns.to_string(), name.to_string()))),
            adopt_existing: block.get("adopt_existing").and_then(Value::as_bool).unwrap_or(false),
        })
    }

    /// The record this block wants, pointing at `content`, with the comment that marks it ours.
    pub fn spec(&self, content: &str, owner: &str) -> RecordSpec {
        let is_address = content.parse::<std::net::Ipv4Addr>().is_ok();
        RecordSpec {
            kind: if is_address { "A" } else { "CNAME" }.into(),
            name: self.name.clone(),
            content: content.to_ascii_lowercase(),
            proxied: self.proxied,
            ttl: self.ttl,
            comment: ownership_comment(owner),
        }
    }
}

/// Cloudflare's limit on a comment, on every plan.
const COMMENT_LIMIT: usize = 100;

/// The comment on every record aqemia writes: says who manages it, and lets a retried create
/// recognise its own record.
pub fn ownership_comment(owner: &str) -> String {
    let comment = format!("managed by aqemia: aqemia_app {owner}; edits are reverted");
    comment.chars().take(COMMENT_LIMIT).collect()
}

/// A client with the provider's token, or what to set.
pub fn client(config: &ProviderConfig) -> Result<Client, Problem> {
    if config.unknown.iter().any(|s| s == "cloudflare_api_token") {
        return Err(Problem::new(None, "Cloudflare API token not known", "the provider's cloudflare_api_token is not known until apply"));
    }
    let Some(token) = config.cloudflare_api_token.as_deref().filter(|t| !t.trim().is_empty()) else {
        return Err(Problem::new(
            None,
            "Missing Cloudflare API token",
            "the dns block writes a Cloudflare record, which needs an API token with DNS edit rights on the zone: set \
             cloudflare_api_token in the provider block, or the CLOUDFLARE_API_TOKEN environment variable",
        ));
    };
    Client::new(config.endpoint("cloudflare"), token).map_err(|e| Problem::new(None, "Cloudflare client", e.to_string()))
}

/// The zone the block names, as the token sees it.
pub async fn zone(client: &Client, dns: &Dns) -> Result<Zone, Problem> {
    let invisible = |what: String| {
        Problem::new(
            Some(if dns.zone_id.is_some() { "zone_id" } else { "zone" }),
            "Zone not found",
            format!(
                "the Cloudflare API token cannot see {what}: check the zone's name, and that the token has Zone:Read and \
                 DNS:Edit on it"
            ),
        )
    };
    if let Some(id) = &dns.zone_id {
        return match client.zone(id).await {
            Ok(zone) => Ok(zone),
            Err(e) if e.is_not_found() || e.is_not_allowed() => Err(invisible(format!("the zone with id {id} ({e})"))),
            Err(e) => Err(Problem::new(Some("zone_id"), "Reading the zone failed", e.to_string())),
        };
    }
    let name = dns.zone.as_deref().unwrap_or_default();
    match client.zone_named(name).await {
        Ok(Some(zone)) => Ok(zone),
        Ok(None) => Err(invisible(format!("a zone named {name}"))),
        Err(e) if e.is_not_allowed() => Err(invisible(format!("a zone named {name} ({e})"))),
        Err(e) => Err(Problem::new(Some("zone"), "Looking up the zone failed", e.to_string())),
    }
}

/// The hostname (or address) a Service's load balancer has now, if any.
pub async fn load_balancer_address(client: &kube::Client, namespace: &str, name: &str) -> Result<Option<String>, kube::Error> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "Service"));
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    let Some(service) = api.get_opt(name).await? else { return Ok(None) };
    let ingress = service.data.pointer("/status/loadBalancer/ingress/0");
    let address = ingress.and_then(|i| i.get("hostname").or_else(|| i.get("ip"))).and_then(|v| v.as_str());
    Ok(address.filter(|a| !a.is_empty()).map(str::to_string))
}

/// Waits for the Service's load balancer to have a hostname. A record is never written from a
/// placeholder: no hostname by the deadline is an error that names the Service.
pub async fn wait_for_load_balancer(
    client: &kube::Client,
    (namespace, name): (&str, &str),
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<String, Problem> {
    let started = Instant::now();
    loop {
        let last_error = match load_balancer_address(client, namespace, name).await {
            Ok(Some(address)) => return Ok(address),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        };
        if Instant::now() + POLL > deadline || cancel.is_cancelled() {
            let why = match last_error {
                Some(e) => format!("reading it failed: {e}"),
                None => "it does not exist, or its status.loadBalancer.ingress is still empty".to_string(),
            };
            return Err(Problem::new(
                Some("load_balancer_service"),
                "No load balancer hostname",
                format!(
                    "Service {namespace}/{name} has no load balancer hostname after {}s: {why}. No DNS record was written. \
                     Check that it is of type LoadBalancer and that the cluster's load balancer controller is running, then \
                     apply again.",
                    started.elapsed().as_secs()
                ),
            ));
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = cancel.cancelled() => {}
        }
    }
}

/// Makes the zone hold `spec`: the known record brought back in line, or a new one. A record
/// of that name that aqemia did not write is taken over only with `adopt_existing`.
pub async fn ensure_record(client: &Client, zone: &Zone, known: Option<&str>, spec: &RecordSpec, adopt: bool) -> Result<Record, Problem> {
    let failed = |e: aqemia_cloudflare::Error| Problem::new(None, "Writing the DNS record failed", e.to_string());
    if let Some(id) = known {
        if let Some(record) = client.record(&zone.id, id).await.map_err(failed)? {
            return if spec.matches(&record) { Ok(record) } else { client.patch_record(&zone.id, id, spec).await.map_err(failed) };
        }
    }
    let existing = client.records_named(&zone.id, &spec.name).await.map_err(failed)?;
    // Ours from an earlier attempt that was cut short (its answer lost): take it back.
    if let Some(ours) = existing.iter().find(|r| r.comment.as_deref() == Some(spec.comment.as_str())) {
        return client.patch_record(&zone.id, &ours.id, spec).await.map_err(failed);
    }
    if let Some(other) = existing.first() {
        if !adopt {
            return Err(conflict(spec, zone, other));
        }
        if existing.len() > 1 {
            return Err(Problem::new(
                Some("name"),
                "Several records to adopt",
                format!(
                    "{} has {} records in zone {} ({}); adopt_existing takes over one record: delete the others first",
                    spec.name,
                    existing.len(),
                    zone.name,
                    existing.iter().map(|r| format!("{} {}", r.kind, r.content)).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        return client.patch_record(&zone.id, &other.id, spec).await.map_err(failed);
    }
    match client.create_record(&zone.id, spec).await {
        Ok(record) => Ok(record),
        Err(e) if e.has_code(&RECORD_EXISTS) => {
            // Made between our listing and the create: name it.
            let existing = client.records_named(&zone.id, &spec.name).await.map_err(failed)?;
            match existing.first() {
                Some(other) => Err(conflict(spec, zone, other)),
                None => Err(failed(e)),
            }
        }
        Err(e) => Err(failed(e)),
    }
}

/// A record of that name is there and is not ours: at plan time where it can be seen.
pub async fn check_free(client: &Client, zone: &Zone, spec_name: &str, comment: &str) -> Result<(), Problem> {
    let existing =
        client.records_named(&zone.id, spec_name).await.map_err(|e| Problem::new(None, "Listing DNS records failed", e.to_string()))?;
    if existing.iter().any(|r| r.comment.as_deref() == Some(comment)) {
        return Ok(());
    }
    match existing.first() {
        Some(other) => Err(Problem::new(Some("name"), "DNS record already exists", other_text(spec_name, zone, other))),
        None => Ok(()),
    }
}

fn conflict(spec: &RecordSpec, zone: &Zone, other: &Record) -> Problem {
    Problem::new(Some("name"), "DNS record already exists", other_text(&spec.name, zone, other))
}

fn other_text(name: &str, zone: &Zone, other: &Record) -> String {
    format!(
        "zone {} already has a {} record {name} -> {} that aqemia did not create (Cloudflare refuses a second one: codes 81053 \
         and 81057). Set dns.adopt_existing = true to manage it from now on, or delete it, or choose another name.",
        zone.name, other.kind, other.content
    )
}

pub async fn delete_record(client: &Client, zone_id: &str, id: &str) -> Result<(), Problem> {
    client.delete_record(zone_id, id).await.map(|_| ()).map_err(|e| Problem::new(None, "Deleting the DNS record failed", e.to_string()))
}
