//! `aqemia_chart`: one Helm chart installed as one release, without a helm binary. The chart
//! is fetched and pinned (version and archive digest in state), rendered by the Helm engine
//! with a seed the release keeps (so random passwords and certificates do not change from plan
//! to plan), and applied by the release engine: CRDs and their resources in one apply, each
//! changing object named in the plan, drift found at refresh. Schema, lifecycle, conversions;
//! `import` reads releases back from the cluster (aqemia's record, or Helm's).

mod import;

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::config::ProviderConfig;
use crate::cty::{Path, Type, Value};
use crate::framework::timeouts::{self, Operation};
use crate::framework::{Applied, Attribute, Block, Context, Diagnostics, Plan, Private, Read, Resource, Schema};
use crate::resources::release::{self, failed, finish, inventory_from, keep_seed, new_seed, open, options, seed_of, set, text, try_open};
use aqemia_addon::addon::{self, AddOn, Prepared};
use aqemia_addon::helm_release::is_helm_manager;
use aqemia_addon::install::{self, Installation, Prior, Target, Unrenderable};
use aqemia_addon::release::Session;
use aqemia_addon::render::{self, Capabilities};
use aqemia_addon::seed::ReleaseSeed;
use aqemia_addon::source::{valid_digest, ChartSource};
use aqemia_addon::{record, AddonError};
use aqemia_helm::source::{default_cache_dir, Fetcher};
use aqemia_release::apply::Forcing;
use aqemia_release::engine::{self, Failure, Installed, Options, ReleaseError};

pub const TYPE_NAME: &str = "aqemia_chart";
const TIMEOUTS: timeouts::Defaults = timeouts::Defaults {
    create: Duration::from_secs(600),
    read: Duration::from_secs(120),
    update: Duration::from_secs(600),
    delete: Duration::from_secs(600),
};
/// The cluster's capabilities a plan rendered with, handed to apply in the planned private
/// state: apply renders with them too, so the objects it makes are the ones the plan showed
/// even when another resource of the same apply adds APIs (the next plan renders with those).
const PLANNED_CAPABILITIES_KEY: &str = "planned_capabilities";

pub struct ChartRelease;

// ---- schema ----

fn schema() -> Schema {
    let block = Block::new()
        .description(
            "One Helm chart installed as one release, without a helm binary: rendered as Helm renders it, applied with \
             server-side apply in stages (CRDs and their resources in one apply), each object waited on until ready. \
             The chart's version and archive digest are recorded; the plan names each object that changes; drift made \
             in the cluster shows in the next plan. Random values and generated certificates come from a seed the \
             release keeps, so they stay the same from plan to plan until `rotation` changes.",
        )
        .attribute(Attribute::string("id").computed().use_state_for_unknown().description("`<namespace>/<name>`."))
        .attribute(crate::connection::attribute())
        .attribute(release::name_attribute())
        .attribute(
            Attribute::string("namespace")
                .default("default")
                .requires_replace()
                .description("The release's namespace (`.Release.Namespace`). Default `default`."),
        )
        .attribute(
            Attribute::bool("create_namespace")
                .default(false)
                .description("Create `namespace` if it does not exist (it is kept on destroy, as Helm keeps it). Default `false`."),
        )
        .attribute(
            Attribute::string("repository")
                .optional()
                .description(
                    "The chart repository's URL (`https://charts.jetstack.io`) or an OCI registry prefix \
                     (`oci://ghcr.io/traefik/helm`). Omit it for a local chart.",
                )
                .validate("an http(s):// or oci:// URL", validate_repository),
        )
        .attribute(
            Attribute::string("chart")
                .required()
                .description("The chart's name in `repository`, or without `repository` the path of a chart directory or `.tgz` archive."),
        )
        .attribute(Attribute::string("version").optional().description(
            "An exact version (`1.21.1`) or a constraint (`~1.21`, `>=1.20 <2`); the newest stable version when omitted. \
             The version it resolves to is `resolved_version`: a plan shows an upgrade when a newer one satisfies it.",
        ))
        .attribute(
            Attribute::string("digest")
                .optional_computed()
                .description(
                    "`sha256:<hex>` of the chart archive (for a chart directory, of its files' paths and content). Set it \
                     to pin the chart to the byte: a chart that differs is refused. Left out, it records the chart installed.",
                )
                .validate("sha256: followed by 64 hexadecimal digits", |v| {
                    let digest = v.as_str().unwrap_or_default();
                    if valid_digest(digest) {
                        Ok(())
                    } else {
                        Err(format!(
                            "{digest:?} is not an archive digest: write `sha256:` and 64 hexadecimal digits, as `sha256sum` prints them"
                        ))
                    }
                }),
        )
        .attribute(
            Attribute::new("values", Type::list(Type::String))
                .optional()
                .description("YAML documents of values, merged in order as `helm -f` merges files: later documents win."),
        )
        .attribute(
            Attribute::new("set", Type::map(Type::String)).optional().description(
                "Values by Helm `--set` path (`controller.replicas` = `\"2\"`), applied after `values`, as `--set` reads them.",
            ),
        )
        .attribute(
            Attribute::new("set_sensitive", Type::map(Type::String))
                .optional()
                .sensitive()
                .description("As `set`, for secrets: never shown in a plan. Applied after `set`."),
        )
        .attribute(
            Attribute::bool("include_crds")
                .default(true)
                .description("Install the CRDs of the chart's `crds/` folders, before everything else. Default `true`."),
        )
        .attribute(Attribute::bool("hooks").default(true).description(
            "Run the chart's hooks as Helm runs them: pre/post install, upgrade and delete, by weight, name and kind, with \
             their delete policies; hook Jobs are waited until complete and a failed one fails the apply with its reason. \
             `test` hooks never run. Default `true`.",
        ))
        .attribute(Attribute::bool("wait").default(true).description("Wait until every object is ready (kstatus rules). Default `true`."))
        .attribute(Attribute::bool("force_conflicts").default(false).description(
            "Take over fields that other field managers own (another tool, or a release installed by Helm). Default \
             `false`: such conflicts fail the plan and name the field and its manager.",
        ))
        .attribute(Attribute::bool("delete_crds_and_pvcs").default(false).description(
            "Also delete CustomResourceDefinitions and PersistentVolumeClaims when they leave the release or it is \
             destroyed. Default `false`: deleting a CRD deletes every object of its kind, and deleting a claim can delete its data.",
        ))
        .attribute(Attribute::string("rotation").optional().description(
            "Any text; changing it draws a new seed, so every random value, key and certificate the chart generates is \
             made anew at the next apply. `terraform apply -replace` does the same by reinstalling.",
        ))
        .attribute(Attribute::string("resolved_version").computed().description("The chart version installed: what `version` resolved to."))
        .attribute(
            Attribute::number("revision")
                .computed()
                .description("`.Release.Revision`: 1 at install, one more for each apply that changes the release."),
        )
        .attribute(release::objects_attribute())
        .attribute(Attribute::string("notes").computed().description("The chart's rendered NOTES.txt."))
        .block(timeouts::block(&TIMEOUTS));
    Schema::new(0, block)
}

fn validate_repository(v: &Value) -> Result<(), String> {
    let url = v.as_str().unwrap_or_default();
    if crate::config::is_chart_source_url(url) {
        Ok(())
    } else {
        Err(format!(
            "{url:?} is not a chart repository: write its URL (`https://charts.jetstack.io`) or an OCI prefix \
             (`oci://ghcr.io/traefik/helm`); for a local chart, leave repository out and put its path in chart"
        ))
    }
}

// ---- lifecycle ----

#[async_trait]
impl Resource<ProviderConfig> for ChartRelease {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        super::release::validate_cluster(config, diags);
        // Values that do not parse are known without a chart or a cluster.
        if let (Some(values), Some(sets)) = (strings(config, "values"), sets(config)) {
            if let Err(e) = render::user_supplied(&values, &sets) {
                addon_diagnostic(&e, diags);
            }
        }
    }

    async fn plan(&self, ctx: &Context, plan: &mut Plan) {
        release::plan_id(&mut plan.planned);
        let Some(addon) = addon_of(&plan.planned, Pin::Config(&plan.config)) else { return };
        let fetcher = match fetcher(&ctx.config) {
            Ok(fetcher) => fetcher,
            Err(e) => return addon_diagnostic(&e, &mut plan.diags),
        };
        // A new seed is drawn at apply (at install, or when `rotation` changes): until then
        // what it makes cannot be known.
        let rotating = !plan.is_create() && plan.prior.get("rotation") != plan.planned.get("rotation");
        let seed = if plan.is_create() || rotating { None } else { seed_of(&plan.private) };
        let mut session = try_open(&plan.planned, &ctx.config).await;
        // Without the cluster (created by this apply), the chart renders with Helm's default
        // capabilities; apply renders against the real ones, so objects stay unknown here.
        let capabilities = match &session {
            Some(session) => session.capabilities().await.ok(),
            None => None,
        };
        let offline = capabilities.is_none();
        match &capabilities {
            Some(capabilities) => plan.private.set(PLANNED_CAPABILITIES_KEY, capabilities_json(capabilities)),
            None => {
                plan.private.remove(PLANNED_CAPABILITIES_KEY);
            }
        }
        let prior_revision = revision_of(&plan.prior);
        let prepare = Preparation { addon: &addon, fetcher: &fetcher, seed: seed.as_ref(), capabilities: capabilities.clone() };
        let (mut prepared, mut unserved) = match prepare.for_plan(prior_revision.unwrap_or(1), session.as_mut()).await {
            Ok(prepared) => prepared,
            Err(e) => return addon_diagnostic(&e, &mut plan.diags),
        };
        // An apply that changes the release is a new revision: render again with it.
        let revision = match prior_revision {
            Some(prior) if rotating || release_changes(&plan.prior, &plan.planned, &prepared) => {
                match prepare.for_plan(prior + 1, session.as_mut()).await {
                    Ok(again) => (prepared, unserved) = again,
                    Err(e) => return addon_diagnostic(&e, &mut plan.diags),
                }
                prior + 1
            }
            Some(prior) => prior,
            None => 1,
        };
        set(&mut plan.planned, "revision", Value::from(revision));
        set(&mut plan.planned, "resolved_version", Value::string(prepared.version.clone()));
        if plan.config.get("digest").is_none_or(Value::is_null) {
            set(&mut plan.planned, "digest", prepared.digest.clone().map(Value::string).unwrap_or(Value::Null));
        }
        set(&mut plan.planned, "notes", Value::string(prepared.rendered.notes.clone()));
        if !prepared.verified && addon.source.repository.is_some() {
            plan.diags.attribute_warning(
                &Path::root().attr("digest"),
                "Chart not pinned",
                format!(
                    "Nothing vouches for the archive of {} {}: the repository's index gives no digest for it. Set digest = \
                     {:?} to pin what you reviewed; a different archive is then refused.",
                    addon.source.chart,
                    prepared.version,
                    prepared.digest.as_deref().unwrap_or("sha256:…")
                ),
            );
        }
        let objects = match (&prepared.manifests, session.as_mut()) {
            _ if unserved.is_some() => Value::unknown(),
            (Some(manifests), Some(session)) if preview_allowed(plan) => {
                let recorded = inventory_from(&plan.prior);
                // What the release applied before, so the dry run takes back its own fields
                // (drift) without calling them conflicts.
                let unchanged = aqemia_addon::release::changed(manifests, &recorded).is_empty();
                let helm = import::helm_records(&plan.private).is_some();
                let previous = match plan.is_create() || unchanged || helm {
                    true => Vec::new(),
                    false => match installation_of(&plan.prior, seed_of(&plan.private)) {
                        Some(installation) => install::previous(&fetcher, &installation, capabilities, session).await.manifests,
                        None => Vec::new(),
                    },
                };
                match session.preview(manifests, &recorded, &previous, &forcing(&plan.planned, &plan.private)).await {
                    Ok(()) => planned_objects(&prepared, seed.is_some()),
                    Err(e) => return release_diagnostic(&e, &mut plan.diags),
                }
            }
            (Some(_), _) if !offline => planned_objects(&prepared, seed.is_some()),
            _ => Value::unknown(),
        };
        if let Some(unserved) = unserved {
            plan.diags.attribute_warning(
                &Path::root().attr("objects"),
                "Objects known after apply",
                format!(
                    "{unserved}. If another resource of this apply installs that CustomResourceDefinition (order them with \
                     depends_on), the apply places the object then; otherwise the apply fails on it."
                ),
            );
        }
        if offline {
            plan.diags.attribute_warning(
                &Path::root().attr("objects"),
                "Objects known after apply",
                format!(
                    "The cluster does not answer yet, so {} was rendered with Helm's default capabilities; apply renders it \
                     again against the cluster's own version and APIs, which charts that check .Capabilities can turn \
                     into other objects. The objects are shown once the cluster exists.",
                    addon.source.chart
                ),
            );
        }
        set(&mut plan.planned, "objects", objects);
    }

    async fn create(&self, ctx: &Context, planned: Value, mut private: Private) -> Applied {
        let planned_capabilities = take_planned_capabilities(&mut private);
        let deadline = Instant::now() + TIMEOUTS.resolve(&planned, Operation::Create);
        let seed = match new_seed() {
            Ok(seed) => seed,
            Err(detail) => return failed(planned, private, detail),
        };
        let outcome = self.install(ctx, &planned, None, &seed, planned_capabilities, deadline, &private).await;
        keep_seed(&mut private, &seed);
        let mut applied = finish(planned, private, outcome, "creating");
        after_apply(ctx, &mut applied, &seed).await;
        applied
    }

    async fn update(&self, ctx: &Context, prior: Value, planned: Value, mut private: Private) -> Applied {
        let planned_capabilities = take_planned_capabilities(&mut private);
        let deadline = Instant::now() + TIMEOUTS.resolve(&planned, Operation::Update);
        let kept = seed_of(&private);
        let seed = match kept.filter(|_| prior.get("rotation") == planned.get("rotation")) {
            Some(seed) => seed,
            None => match new_seed() {
                Ok(seed) => seed,
                Err(detail) => return failed(prior, private, detail),
            },
        };
        let outcome = self.install(ctx, &planned, Some((&prior, kept)), &seed, planned_capabilities, deadline, &private).await;
        // Rolled back: the cluster holds the prior release again, and so does the state.
        if matches!(&outcome, Err(f) if f.rolled_back) {
            let mut applied = finish(prior, private, outcome, "updating");
            if let Some(kept) = &kept {
                after_apply(ctx, &mut applied, kept).await;
            }
            return applied;
        }
        keep_seed(&mut private, &seed);
        let mut applied = finish(planned, private, outcome, "updating");
        after_apply(ctx, &mut applied, &seed).await;
        applied
    }

    async fn import(&self, _ctx: &Context, id: &str) -> Result<(Value, Private), Diagnostics> {
        Ok((import::skeleton(schema().block.empty_value(), id)?, Private::default()))
    }

    async fn read(&self, ctx: &Context, mut state: Value, mut private: Private) -> Read {
        let mut diags = Diagnostics::new();
        if import::is_skeleton(&state) {
            let completed = async {
                let mut session = open(&state, &ctx.config).await?;
                import::complete(&mut session, state.clone(), &mut private, &schema().block.value_type()).await
            };
            match completed.await {
                Ok(complete) => state = complete,
                Err(e) => {
                    diags.error(format!("Importing release {}", text(&state, "id")), release::error_text(&e));
                    return Read { state: Some(state), private, diags };
                }
            }
        }
        // Imported from Helm and not applied yet: its objects are Helm's until the next apply.
        if import::helm_records(&private).is_some() {
            return Read { state: Some(state), private, diags };
        }
        let refreshed = async {
            let mut session = open(&state, &ctx.config).await.map_err(|e| Unrenderable::Failed(e.into()))?;
            let (fetcher, installation) = recorded(&ctx.config, &state, &private).map_err(Unrenderable::Failed)?;
            install::refresh(&mut session, &fetcher, &installation).await
        };
        match refreshed.await {
            Ok(objects) => set(&mut state, "objects", release::inventory_value(&objects)),
            // Comparing the cluster with a render of the changed chart would report its edits
            // as drift; the plan renders the chart as it is now and shows what changes.
            Err(Unrenderable::Changed(chart)) => diags.warning(
                "Drift not checked",
                format!("{}: drift in its objects is checked again once the next apply installs it.", install::changed_in_place(&chart)),
            ),
            Err(Unrenderable::Failed(e)) => diags.error("Reading the release failed", release::error_text(&e.into())),
        }
        Read { state: Some(state), private, diags }
    }

    async fn delete(&self, ctx: &Context, prior: Value, private: Private) -> Diagnostics {
        let deadline = Instant::now() + TIMEOUTS.resolve(&prior, Operation::Delete);
        if import::helm_records(&private).is_some() {
            let mut diags = Diagnostics::new();
            diags.warning(
                "Release left to Helm",
                format!(
                    "{} was imported from Helm and never applied, so its objects are still Helm's: nothing was deleted. \
                     `helm uninstall` removes it.",
                    text(&prior, "id")
                ),
            );
            return diags;
        }
        let mut diags = Diagnostics::new();
        let uninstalled = async {
            let mut session = open(&prior, &ctx.config).await?;
            let (fetcher, installation) = recorded(&ctx.config, &prior, &private)?;
            Ok::<_, AddonError>(install::uninstall(&mut session, &fetcher, &installation, &options(&prior, deadline), &ctx.cancel).await?)
        };
        match uninstalled.await {
            Ok(uninstalled) => {
                if let Some(why) = uninstalled.hooks_not_run {
                    diags.warning(
                        "Delete hooks not run",
                        format!("The release could not be rendered again to find its delete hooks: {why}"),
                    );
                }
                release::warn_kept(&uninstalled.kept, &mut diags);
            }
            Err(e) => diags.error("Uninstalling the release failed", release::error_text(&e.into())),
        }
        diags
    }
}

impl ChartRelease {
    /// Renders and installs (or upgrades) the planned release. Returns the planned value with
    /// what only apply learns (random objects' digests come with the inventory).
    async fn install(
        &self,
        ctx: &Context,
        planned: &Value,
        prior: Option<(&Value, Option<ReleaseSeed>)>,
        seed: &ReleaseSeed,
        planned_capabilities: Option<Capabilities>,
        deadline: Instant,
        private: &Private,
    ) -> Result<Installed, Failure> {
        let recorded = prior.map(|(prior, _)| inventory_from(prior)).unwrap_or_default();
        let early = |error: ReleaseError| Failure { inventory: recorded.clone(), error, rolled_back: false };
        let fetcher = fetcher(&ctx.config).map_err(|e| early(e.into()))?;
        let addon = addon_of(planned, Pin::Recorded).ok_or_else(|| early(anyhow::anyhow!("the plan does not name a chart").into()))?;
        let mut session = open(planned, &ctx.config).await.map_err(early)?;
        let installation = prior.and_then(|(prior, seed)| installation_of(prior, seed));
        let prior = match (&installation, import::helm_records(private)) {
            (Some(_), Some(_)) => Prior::Foreign {
                inventory: &recorded,
                why: "the previous release was installed by Helm, and aqemia keeps no copy of it".into(),
            },
            (Some(installation), None) => Prior::Installed(installation),
            (None, _) => Prior::Nothing,
        };
        let target = Target {
            addon: &addon,
            revision: revision_of(planned).unwrap_or(1),
            seed,
            hooks: hooks_enabled(planned),
            create_namespace: planned.get("create_namespace").and_then(Value::as_bool) == Some(true),
            capabilities: planned_capabilities,
        };
        let options = Options { forcing: forcing(planned, private), ..options(planned, deadline) };
        install::install(&mut session, &fetcher, target, prior, &options, &ctx.cancel).await
    }
}

/// The release a state or plan records, as it was installed; `None` while any input is unknown.
fn installation_of(value: &Value, seed: Option<ReleaseSeed>) -> Option<Installation> {
    Some(Installation {
        addon: addon_of(value, Pin::Recorded)?,
        revision: revision_of(value).unwrap_or(1),
        seed,
        hooks: hooks_enabled(value),
        inventory: inventory_from(value),
    })
}

/// The fetcher and the installation a state records.
fn recorded(provider: &ProviderConfig, state: &Value, private: &Private) -> Result<(Fetcher, Installation), AddonError> {
    let installation =
        installation_of(state, seed_of(private)).ok_or_else(|| AddonError::Source("the state does not name a chart".into()))?;
    Ok((fetcher(provider)?, installation))
}

/// Whether the plan may try each changed object with a server-side dry run: not when the
/// release's namespace is created by this apply (every namespaced object would be refused).
fn preview_allowed(plan: &Plan) -> bool {
    !(plan.is_create() && plan.planned.get("create_namespace").and_then(Value::as_bool) == Some(true))
}

/// Whether applying `planned` changes the release: its arguments, the chart resolved, or the
/// objects (drift at refresh shows as an object that changes).
fn release_changes(prior: &Value, planned: &Value, prepared: &Prepared) -> bool {
    let arguments = ["chart", "repository", "version", "values", "set", "set_sensitive", "include_crds", "rotation"];
    if arguments.iter().any(|name| prior.get(name) != planned.get(name)) {
        return true;
    }
    if text(prior, "resolved_version") != prepared.version || prior.get("digest").and_then(Value::as_str) != prepared.digest.as_deref() {
        return true;
    }
    let recorded = inventory_from(prior);
    match &prepared.manifests {
        Some(manifests) => engine::inventory_of(manifests) != recorded,
        None => true,
    }
}

/// The planned `objects`: each object's digest, unknown where it depends on a seed that
/// apply draws (random values, and Secrets, whose digests the seed keys).
fn planned_objects(prepared: &Prepared, seed_known: bool) -> Value {
    let Some(manifests) = &prepared.manifests else { return Value::unknown() };
    let objects = manifests.iter().enumerate().map(|(index, manifest)| {
        let digest = if !seed_known && prepared.seeded(index) { Value::unknown() } else { Value::string(manifest.digest.clone()) };
        (manifest.key.to_string(), digest)
    });
    Value::Map(objects.collect())
}

/// One add-on prepared at a given revision, with the same chart source, seed and cluster.
struct Preparation<'a> {
    addon: &'a AddOn,
    fetcher: &'a Fetcher,
    seed: Option<&'a ReleaseSeed>,
    /// The cluster's, when it answers; Helm's defaults otherwise.
    capabilities: Option<Capabilities>,
}

impl Preparation<'_> {
    async fn at(&self, revision: i64, session: Option<&mut Session>) -> Result<Prepared, AddonError> {
        let context = addon::Context { fetcher: self.fetcher, seed: self.seed, revision, capabilities: self.capabilities.clone() };
        addon::prepare(self.addon, context, session).await
    }

    /// As `at`, for a plan: a kind the cluster does not serve yet (another resource of the
    /// apply may install its CRD) is no error; the render is checked without the cluster, and
    /// the reason comes back to be shown.
    async fn for_plan(&self, revision: i64, session: Option<&mut Session>) -> Result<(Prepared, Option<String>), AddonError> {
        match self.at(revision, session).await {
            Err(unserved @ AddonError::Unserved { .. }) => Ok((self.at(revision, None).await?, Some(unserved.to_string()))),
            other => other.map(|prepared| (prepared, None)),
        }
    }
}

// ---- conversions ----

/// Which version and digest a value's chart is fetched at.
enum Pin<'a> {
    /// At plan: the configured version (maybe a constraint) and digest pin.
    Config(&'a Value),
    /// At apply and refresh: exactly what the plan or state recorded.
    Recorded,
}

/// The add-on a plan or state describes; `None` while any of its inputs is unknown.
fn addon_of(value: &Value, pin: Pin) -> Option<AddOn> {
    let known = |name: &str| value.get(name).is_none_or(Value::is_wholly_known);
    let inputs = ["name", "namespace", "repository", "chart", "version", "values", "set", "set_sensitive", "include_crds"];
    if !inputs.iter().all(|name| known(name)) {
        return None;
    }
    let optional = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
    let (version, digest) = match pin {
        Pin::Config(config) => (optional("version").unwrap_or_default(), config.get("digest").and_then(Value::as_str).map(str::to_string)),
        // A local chart is what its path holds: only a repository resolves versions.
        Pin::Recorded if value.get("repository").is_none_or(Value::is_null) => (String::new(), optional("digest")),
        Pin::Recorded => (optional("resolved_version")?, optional("digest")),
    };
    Some(AddOn {
        name: text(value, "name"),
        namespace: text(value, "namespace"),
        source: ChartSource { repository: optional("repository"), chart: text(value, "chart"), version, digest },
        values: strings(value, "values")?,
        sets: sets(value)?,
        include_crds: value.get("include_crds").and_then(Value::as_bool).unwrap_or(true),
        ..AddOn::default()
    })
}

fn strings(value: &Value, name: &str) -> Option<Vec<String>> {
    let list = value.get(name).unwrap_or(&Value::Null);
    if list.is_null() {
        return Some(Vec::new());
    }
    if !list.is_wholly_known() {
        return None;
    }
    Some(list.as_seq()?.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect())
}

/// `set`, then `set_sensitive`, as `--set path=value` arguments.
fn sets(value: &Value) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for name in ["set", "set_sensitive"] {
        let map = value.get(name).unwrap_or(&Value::Null);
        if !map.is_wholly_known() {
            return None;
        }
        if let Some(entries) = map.as_entries() {
            out.extend(entries.iter().map(|(path, v)| format!("{path}={}", v.as_str().unwrap_or_default())));
        }
    }
    Some(out)
}

/// The conflicts an apply may force: the user's choice, and while a release is taken over
/// from Helm, the fields Helm's field manager owns.
fn forcing(planned: &Value, private: &Private) -> Forcing {
    let take_over_from = import::helm_records(private).map(|_| is_helm_manager as fn(&str) -> bool);
    Forcing { take_over_from, ..release::forcing(planned) }
}

/// After an apply: the release's record written beside its inventory (for an import into
/// another state), and once a release taken over from Helm is installed, Helm's records
/// deleted. Both only tidy up: failing at them is a warning.
async fn after_apply(ctx: &Context, applied: &mut Applied, seed: &ReleaseSeed) {
    let installed = !applied.diags.has_errors();
    if !installed && inventory_from(&applied.state).is_empty() {
        return; // nothing in the cluster to describe
    }
    let description = import::description(&applied.state, &schema().block.value_type());
    let done = async {
        let session = open(&applied.state, &ctx.config).await?;
        record::store(session.discovery.client(), &session.id, &description, seed).await?;
        if installed {
            import::forget_helm(&session, &mut applied.private).await?;
        }
        Ok::<_, ReleaseError>(())
    };
    if let Err(e) = done.await {
        applied.diags.warning("Release records not updated", release::error_text(&e));
    }
}

fn hooks_enabled(value: &Value) -> bool {
    value.get("hooks").and_then(Value::as_bool) != Some(false)
}

fn revision_of(value: &Value) -> Option<i64> {
    value.get("revision")?.as_number()?.to_i64()
}

fn capabilities_json(capabilities: &Capabilities) -> serde_json::Value {
    serde_json::json!({"kube_version": capabilities.kube_version, "api_versions": capabilities.api_versions})
}

fn take_planned_capabilities(private: &mut Private) -> Option<Capabilities> {
    let json = private.remove(PLANNED_CAPABILITIES_KEY)?;
    let kube_version = json.get("kube_version")?.as_str()?.to_string();
    let api_versions = json.get("api_versions")?.as_array()?.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
    Some(Capabilities { kube_version, api_versions })
}

/// The chart fetcher for this provider: its mirrors, longest prefix first, and the user's
/// chart cache.
pub(crate) fn fetcher(config: &ProviderConfig) -> Result<Fetcher, AddonError> {
    let mut mirrors: Vec<(String, String)> = config.chart_mirrors.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    mirrors.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    Fetcher::new(default_cache_dir(), mirrors).map_err(|e| AddonError::Source(e.to_string()))
}

/// An add-on error as a diagnostic on the argument at fault.
fn addon_diagnostic(error: &AddonError, diags: &mut Diagnostics) {
    let detail = error.to_string();
    let (path, summary) = match error {
        AddonError::Values { index, .. } => (Path::root().attr("values").index(*index as i64), "Invalid values"),
        AddonError::Set(_) => (Path::root().attr("set"), "Invalid set path"),
        AddonError::DigestMismatch { .. } => (Path::root().attr("digest"), "Chart archive does not match its digest"),
        AddonError::Source(_) => (Path::root().attr("chart"), "Chart not available"),
        AddonError::Render(message) if message.contains("values don't meet the specifications of the schema") => {
            (Path::root().attr("values"), "Values refused by the chart's schema")
        }
        AddonError::Render(_) => (Path::root().attr("chart"), "Chart failed to render"),
        AddonError::Unserved { .. } => (Path::root().attr("chart"), "Object of a kind the cluster does not serve"),
        AddonError::Release(e) => return release_diagnostic(e, diags),
        AddonError::Stack(_) => (Path::root(), "Invalid stack"),
    };
    diags.attribute_error(&path, summary, detail);
}

fn release_diagnostic(error: &ReleaseError, diags: &mut Diagnostics) {
    diags.error("Release failed", release::error_text(error));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_urls() {
        assert!(validate_repository(&Value::from("https://charts.jetstack.io")).is_ok());
        assert!(validate_repository(&Value::from("oci://ghcr.io/traefik/helm")).is_ok());
        let err = validate_repository(&Value::from("charts.jetstack.io")).unwrap_err();
        assert!(err.contains("leave repository out"), "{err}");
    }

    #[test]
    fn sets_come_in_order_sensitive_last() {
        let value = Value::object([
            ("set", Value::Map([("a.b".to_string(), Value::from("1"))].into())),
            ("set_sensitive", Value::Map([("password".to_string(), Value::from("x,y"))].into())),
        ]);
        assert_eq!(sets(&value).unwrap(), ["a.b=1", "password=x,y"]);
        assert_eq!(sets(&Value::object([("set", Value::unknown())])), None);
    }
}
