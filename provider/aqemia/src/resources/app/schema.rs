//! The schema of `aqemia_app` and its checks: defaults that make a production-shaped web
//! service from a name, a stage and an image, and diagnostics that name the attribute.

use std::time::Duration;

use crate::cty::{Path, Type, Value};
use crate::framework::timeouts;
use crate::framework::{Attribute, Block, Diagnostics, NestedBlock, Nesting, Schema};
use crate::resources::checks::{is_dns_label, is_host_name, range};

pub const TIMEOUTS: timeouts::Defaults = timeouts::Defaults {
    create: Duration::from_secs(10 * 60),
    read: Duration::from_secs(60),
    update: Duration::from_secs(10 * 60),
    delete: Duration::from_secs(5 * 60),
};

/// Cloudflare's automatic TTL; a proxied record always has it.
pub const AUTOMATIC_TTL: i64 = 1;

pub fn schema() -> Schema {
    let quantities = Type::map(Type::String);
    let resources_type = Type::object([("requests", quantities.clone()), ("limits", quantities)]);
    let default_resources = Value::object([
        ("requests", Value::Map([("cpu".into(), "100m".into()), ("memory".into(), "256Mi".into())].into())),
        ("limits", Value::Map([("cpu".into(), "500m".into()), ("memory".into(), "512Mi".into())].into())),
    ]);
    let block = Block::new()
        .description(
            "The application in one stage (a namespace of the cluster, e.g. `dev` or `prod`): a Deployment with \
             probes and a rolling update that never drops capacity, a Service, an Ingress with a Let's Encrypt \
             certificate through cert-manager, a Secret for `secret_env`, a PodDisruptionBudget when it runs more \
             than one replica, and a proxied Cloudflare record that points at the ingress controller's real load \
             balancer. The objects are one release (server-side apply, drift in the plan, pruning); the apply waits \
             until the rollout is complete and the record is written only from a real hostname.",
        )
        .attribute(Attribute::string("id").computed().use_state_for_unknown().description("`<stage>/<name>`."))
        .attribute(crate::connection::attribute())
        .attribute(
            Attribute::string("name")
                .required()
                .requires_replace()
                .description("The application's name: its objects' names and the `app` label. 1 to 53 lowercase letters, digits or hyphens.")
                .validate("a name such as \"web\"", super::super::release::validate_name),
        )
        .attribute(
            Attribute::string("stage")
                .required()
                .requires_replace()
                .description("The stage, which is the namespace the application runs in (created if missing, kept on destroy), e.g. `dev` or `prod`.")
                .validate("a namespace name such as \"prod\"", |v| {
                    let stage = v.as_str().unwrap_or_default();
                    if is_dns_label(stage) {
                        Ok(())
                    } else {
                        Err(format!("{stage:?} is not a namespace name: use 1 to 63 lowercase letters, digits or hyphens, like \"prod\""))
                    }
                }),
        )
        .attribute(
            Attribute::string("image")
                .required()
                .description(
                    "Container image with a tag or a digest, e.g. `<account>.dkr.ecr.<region>.amazonaws.com/web:1.4.2` or \
                     `...@sha256:<digest>`. `latest` and untagged images are refused: a rollout must name what it runs.",
                )
                .validate("an image with a tag other than latest, or a digest", |v| check_image(v.as_str().unwrap_or_default())),
        )
        .attribute(Attribute::number("replicas").default(1i64).description("Pods to run. Default 1.").validate("0 to 1000", range(0, 1000)))
        .attribute(Attribute::number("port").default(8000i64).description("The container's port. Default 8000.").validate("1 to 65535", range(1, 65535)))
        .attribute(
            Attribute::number("service_port")
                .default(80i64)
                .description("The Service's port, which the Ingress routes to. Default 80.")
                .validate("1 to 65535", range(1, 65535)),
        )
        .attribute(
            Attribute::string("health_path")
                .default("/health")
                .description("HTTP path of the readiness and liveness probes: first checked 15 s after start, then every 10 s. Default `/health`.")
                .validate("a path starting with /", |v| {
                    let path = v.as_str().unwrap_or_default();
                    if path.starts_with('/') && !path.contains(char::is_whitespace) {
                        Ok(())
                    } else {
                        Err(format!("{path:?} is not an HTTP path: start it with a slash and leave out spaces, like \"/health\""))
                    }
                }),
        )
        .attribute(
            Attribute::new("resources", resources_type)
                .default(default_resources)
                .description(
                    "Requests and limits, as Kubernetes writes them: `{ requests = { cpu = \"100m\", memory = \"256Mi\" }, limits = \
                     { cpu = \"500m\", memory = \"512Mi\" } }` (the default).",
                )
                .validate("cpu and memory quantities such as \"250m\" and \"512Mi\"", check_resources),
        )
        .attribute(
            Attribute::new("env", Type::map(Type::String))
                .optional()
                .description("Environment variables, in clear in the Deployment.")
                .validate("names made of letters, digits, _ . and -, not starting with a digit", check_env_names),
        )
        .attribute(
            Attribute::new("secret_env", Type::map(Type::String))
                .optional()
                .sensitive()
                .description(
                    "Secret environment variables: kept in a Secret `<name>-env` that the Deployment reads; pods restart when \
                     they change. Never shown in plans.",
                )
                .validate("names made of letters, digits, _ . and -, not starting with a digit", check_env_names),
        )
        .attribute(
            Attribute::string("host")
                .optional()
                .description("The public host name, e.g. `app.example.com`. With it the Ingress is made; without it the app is reachable in the cluster only.")
                .validate("a host name such as \"app.example.com\"", check_host),
        )
        .attribute(Attribute::string("ingress_class").optional().description(
            "IngressClass of the Ingress, e.g. `aqemia_security_stack.<name>.ingress_class`. Default: the cluster's default class.",
        ))
        .attribute(Attribute::string("cluster_issuer").optional().description(
            "cert-manager ClusterIssuer for the Ingress's certificate; with it the Ingress gets a TLS section and the \
             certificate is kept in the Secret `<name>-<stage>-tls`.",
        ))
        .attribute(Attribute::bool("disruption_budget").default(true).description(
            "Make a PodDisruptionBudget (one pod unavailable at most) when `replicas` is above 1. Default `true`.",
        ))
        .attribute(
            Attribute::string("url")
                .computed()
                .description("`https://<host>` with a `cluster_issuer`, `http://<host>` without; null without a host."),
        )
        .attribute(super::super::release::objects_attribute())
        .block(NestedBlock::new("dns", Nesting::Single, dns_block()))
        .block(timeouts::block(&TIMEOUTS));
    Schema::new(0, block)
}

fn dns_block() -> Block {
    Block::new()
        .description(
            "A Cloudflare record for `host`, proxied by default, pointing at the ingress controller's load balancer. It is \
             written only once the load balancer has a real hostname, carries a comment saying aqemia manages it, is \
             repaired when changed in the dashboard, and deleted on destroy. The API token is the provider's \
             `cloudflare_api_token`.",
        )
        .attribute(Attribute::string("zone_id").optional_computed().description("The zone's id. Give this or `zone`; with `zone`, the id it was found under."))
        .attribute(
            Attribute::string("zone")
                .optional()
                .description("The zone's name, e.g. `example.com`, looked up with the token. Give this or `zone_id`.")
                .validate("a zone name such as \"example.com\"", check_host),
        )
        .attribute(
            Attribute::string("name")
                .optional()
                .description("The record's fully qualified name. Default: `host`.")
                .validate("a host name such as \"app.example.com\"", check_host),
        )
        .attribute(Attribute::bool("proxied").default(true).description("Serve through Cloudflare's proxy. Default `true`."))
        .attribute(
            Attribute::number("ttl")
                .default(AUTOMATIC_TTL)
                .description("TTL in seconds for a record that is not proxied: 60 to 86400, or 1 for automatic (the default, and the only value a proxied record has).")
                .validate("1, or 60 to 86400", |v| match v.as_number().and_then(|n| n.to_i64()) {
                    Some(1 | 60..=86400) => Ok(()),
                    _ => Err(format!(
                        "{} is not a TTL Cloudflare accepts: use 1 for automatic, or 60 to 86400 seconds",
                        v.as_number().map(|n| n.to_string()).unwrap_or_default()
                    )),
                }),
        )
        .attribute(Attribute::string("target").optional().description(
            "What the record points at: a hostname (a CNAME) or an IPv4 address (an A record), e.g. \
             `aqemia_security_stack.<name>.ingress_hostname`. Give this or `load_balancer_service`.",
        ))
        .attribute(
            Attribute::string("load_balancer_service")
                .optional()
                .description(
                    "The ingress controller's Service, `<namespace>/<name>`, whose load balancer hostname (its \
                     `status.loadBalancer.ingress`) the record points at; the apply waits for it. Give this or `target`.",
                )
                .validate("<namespace>/<name>, such as \"ingress/traefik\"", |v| {
                    let text = v.as_str().unwrap_or_default();
                    match text.split_once('/') {
                        Some((ns, name)) if is_dns_label(ns) && !name.is_empty() && !name.contains('/') => Ok(()),
                        _ => Err(format!("{text:?} does not name a Service: write <namespace>/<name>, like \"ingress/traefik\"")),
                    }
                }),
        )
        .attribute(Attribute::bool("adopt_existing").default(false).description(
            "Take over a record of the same name that aqemia did not create. Default `false`: such a record is an error \
             that names it, so nothing someone else made is changed by surprise.",
        ))
        .attribute(Attribute::string("record_id").computed().description("The record's id in Cloudflare."))
        .attribute(Attribute::string("content").computed().description("What the record points at, as Cloudflare has it."))
}

/// Checks across attributes, on what is known.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let root = Path::root();
    let known = |v: Option<&Value>| v.filter(|v| v.is_wholly_known() && !v.is_null()).cloned();
    if let (Some(env), Some(secret)) = (known(config.get("env")), known(config.get("secret_env"))) {
        if let (Some(env), Some(secret)) = (env.as_entries(), secret.as_entries()) {
            if let Some(both) = env.keys().find(|k| secret.contains_key(*k)) {
                diags.attribute_error(
                    &root.attr("secret_env").key(both),
                    "Variable set twice",
                    format!("{both} is in both env and secret_env; keep it in one of them (secret_env if it is a secret)"),
                );
            }
        }
    }
    let Some(dns) = known(config.get("dns")) else { return };
    let dns_path = root.attr("dns");
    let given = |name: &str| dns.get(name).is_some_and(|v| !v.is_null());
    match (given("zone_id"), given("zone")) {
        (true, true) => diags.attribute_error(&dns_path.attr("zone"), "Conflicting arguments", "give dns.zone_id or dns.zone, not both"),
        (false, false) => diags.attribute_error(
            &dns_path,
            "Missing zone",
            "the record needs its zone: set dns.zone (its name, e.g. \"example.com\") or dns.zone_id",
        ),
        _ => {}
    }
    match (given("target"), given("load_balancer_service")) {
        (true, true) => diags.attribute_error(
            &dns_path.attr("target"),
            "Conflicting arguments",
            "give dns.target or dns.load_balancer_service, not both",
        ),
        (false, false) => diags.attribute_error(
            &dns_path,
            "Missing target",
            "the record needs what it points at: set dns.load_balancer_service (the ingress controller's Service, e.g. \
             \"ingress/traefik\") or dns.target (e.g. aqemia_security_stack.<name>.ingress_hostname)",
        ),
        _ => {}
    }
    if !given("name") && config.get("host").is_some_and(Value::is_null) {
        diags.attribute_error(&dns_path.attr("name"), "Missing record name", "set host (the record takes its name) or dns.name");
    }
    let proxied = dns.get("proxied").and_then(Value::as_bool).unwrap_or(true);
    let ttl = dns.get("ttl").and_then(Value::as_number).and_then(|n| n.to_i64()).unwrap_or(AUTOMATIC_TTL);
    if proxied && ttl != AUTOMATIC_TTL {
        diags.attribute_error(
            &dns_path.attr("ttl"),
            "TTL of a proxied record",
            format!("a proxied record's TTL is always automatic, so ttl = {ttl} would never hold: leave ttl out, or set proxied = false"),
        );
    }
    if let (Some(zone), Some(name)) = (dns.get("zone").and_then(Value::as_str), record_name(config)) {
        if !in_zone(&name, zone) {
            diags.attribute_error(
                &dns_path.attr("name"),
                "Record outside its zone",
                format!("{name} is not in the zone {zone}: use a name that ends in .{zone}, or the zone that holds {name}"),
            );
        }
    }
}

/// The record's name: `dns.name`, else `host`.
pub fn record_name(value: &Value) -> Option<String> {
    let dns_name = value.get("dns").and_then(|d| d.get("name")).and_then(Value::as_str);
    dns_name.or_else(|| value.get("host").and_then(Value::as_str)).map(str::to_string)
}

pub fn in_zone(name: &str, zone: &str) -> bool {
    let (name, zone) = (name.to_ascii_lowercase(), zone.to_ascii_lowercase());
    name == zone || name.ends_with(&format!(".{zone}"))
}

fn check_host(v: &Value) -> Result<(), String> {
    let host = v.as_str().unwrap_or_default();
    if is_host_name(host) {
        Ok(())
    } else {
        Err(format!("{host:?} is not a host name: use lowercase labels of letters, digits and hyphens, like \"app.example.com\""))
    }
}

/// An image reference must pin what runs: a tag other than `latest`, or a digest.
pub fn check_image(image: &str) -> Result<(), String> {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    if let Some(digest) = digest {
        let ok = digest.strip_prefix("sha256:").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
        if !ok {
            return Err(format!("{image:?} has a malformed digest: write it as @sha256: followed by 64 hex digits"));
        }
    }
    // A tag follows the last colon after the last slash; a colon before it is a registry port.
    let last = name.rsplit('/').next().unwrap_or(name);
    let (repository_part, tag) = match last.split_once(':') {
        Some((repo, tag)) => (repo, Some(tag)),
        None => (last, None),
    };
    let repository = &name[..name.len() - last.len() + repository_part.len()];
    if repository.is_empty() || repository.contains(char::is_whitespace) || repository.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("{image:?} is not an image reference: write <registry>/<repository>:<tag>, in lowercase, like \"registry.example.com/web:1.4.2\""));
    }
    match tag {
        Some("latest") => Err(format!(
            "{image:?} uses the tag latest, which the cluster's policies refuse and which cannot be rolled back: use a version tag like \
             {repository}:1.4.2, or a digest"
        )),
        Some(tag) if tag.is_empty() || tag.len() > 128 || !tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) => {
            Err(format!("{image:?} has an invalid tag {tag:?}: use letters, digits, _ . and -, up to 128 characters"))
        }
        None if digest.is_none() => Err(format!(
            "{image:?} names no tag, so it runs whatever latest is at the time: add a version tag like {repository}:1.4.2, or a digest"
        )),
        _ => Ok(()),
    }
}

fn check_env_names(v: &Value) -> Result<(), String> {
    let names = v.as_entries().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    match names.iter().find(|n| {
        n.is_empty() || n.starts_with(|c: char| c.is_ascii_digit()) || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    }) {
        Some(bad) => Err(format!(
            "{bad:?} is not an environment variable name: use letters, digits, _ . and -, not starting with a digit, like \"LOG_LEVEL\""
        )),
        None => Ok(()),
    }
}

fn check_resources(v: &Value) -> Result<(), String> {
    for part in ["requests", "limits"] {
        let Some(entries) = v.get(part).and_then(Value::as_entries) else { continue };
        for (name, quantity) in entries {
            let text = quantity.as_str().unwrap_or_default();
            if !["cpu", "memory", "ephemeral-storage"].contains(&name.as_str()) {
                return Err(format!(
                    "resources.{part}.{name} is not a resource this app can ask for: use cpu, memory or ephemeral-storage"
                ));
            }
            if !is_quantity(text) {
                return Err(format!(
                    "resources.{part}.{name} = {text:?} is not a quantity: write it like \"250m\" (cpu) or \"512Mi\" (memory)"
                ));
            }
        }
    }
    Ok(())
}

/// A Kubernetes quantity: a decimal number with an optional binary, decimal or exponent suffix.
fn is_quantity(text: &str) -> bool {
    let digits_end = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits_end);
    let number_ok = !number.is_empty() && number != "." && number.matches('.').count() <= 1;
    let suffix_ok = matches!(suffix, "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei")
        || suffix.strip_prefix(['e', 'E']).is_some_and(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()));
    number_ok && suffix_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_must_pin_what_runs() {
        for good in [
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2",
            "registry.example.com:5000/team/web:v2",
            "web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(check_image(good), Ok(()), "{good}");
        }
        assert!(check_image("web:latest").unwrap_err().contains("latest"));
        assert!(check_image("registry.example.com:5000/web").unwrap_err().contains("names no tag"));
        assert!(check_image("Web:1").unwrap_err().contains("lowercase"));
        assert!(check_image("web@sha256:abc").unwrap_err().contains("digest"));
    }

    #[test]
    fn quantities_are_what_kubernetes_reads() {
        for good in ["100m", "0.5", "1", "256Mi", "1Gi", "2e3"] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["", "lots", "1.2.3", "5 Mi", "1mi", "."] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn records_stay_in_their_zone() {
        assert!(in_zone("app.example.com", "example.com"));
        assert!(in_zone("example.com", "Example.com"));
        assert!(!in_zone("app.example.org", "example.com"));
        assert!(!in_zone("badexample.com", "example.com"));
    }
}
