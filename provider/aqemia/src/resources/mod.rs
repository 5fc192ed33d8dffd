//! The provider's resources and data sources.

pub mod app;
pub mod chart;
pub mod checks;
pub mod cluster;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod manifests;
pub mod release;

use crate::framework::Registry;

/// Everything this build of the provider offers.
pub fn registry() -> Registry {
    let registry = Registry::new("aqemia", crate::VERSION)
        .resource(cluster::Cluster)
        .resource(manifests::Manifests)
        .resource(chart::ChartRelease)
        .resource(app::App);
    #[cfg(feature = "conformance")]
    let registry = conformance::register(registry);
    registry
}

#[cfg(test)]
mod tests {
    #[test]
    fn schemas_pass_terraforms_rules() {
        let problems = super::registry().schema_problems();
        assert!(problems.is_empty(), "schema problems: {problems:#?}");
        let mut provider = Vec::new();
        crate::config::schema().block.check_internal(&crate::cty::Path::root(), &mut provider);
        assert!(provider.is_empty(), "provider schema problems: {provider:#?}");
    }
}
