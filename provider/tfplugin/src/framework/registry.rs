//! The provider's resources and data sources, with their schemas computed once per process
//! (Terraform asks for the schema in every provider process it starts).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cty::Type;

use super::diag::Diagnostics;
use super::resource::{DataSource, ProviderData, Resource};
use super::schema::Schema;

pub struct Registered<T: ?Sized> {
    pub implementation: Arc<T>,
    pub schema: Schema,
    pub value_type: Type,
}

pub struct Registry<D: ProviderData> {
    /// The provider's name and release, for messages about types it does not have.
    pub provider: &'static str,
    pub version: &'static str,
    pub resources: BTreeMap<&'static str, Registered<dyn Resource<D>>>,
    pub data_sources: BTreeMap<&'static str, Registered<dyn DataSource<D>>>,
}

impl<D: ProviderData> Registry<D> {
    pub fn new(provider: &'static str, version: &'static str) -> Self {
        Registry { provider, version, resources: BTreeMap::new(), data_sources: BTreeMap::new() }
    }

    pub fn resource(mut self, resource: impl Resource<D>) -> Self {
        let schema = resource.schema();
        let value_type = schema.value_type();
        let name = resource.type_name();
        self.resources.insert(name, Registered { implementation: Arc::new(resource), schema, value_type });
        self
    }

    pub fn data_source(mut self, data_source: impl DataSource<D>) -> Self {
        let schema = data_source.schema();
        let value_type = schema.value_type();
        let name = data_source.type_name();
        self.data_sources.insert(name, Registered { implementation: Arc::new(data_source), schema, value_type });
        self
    }

    /// The answer to a request for a type this build does not have.
    pub fn unknown_type(&self, kind: &str, name: &str) -> Diagnostics {
        let mut diags = Diagnostics::new();
        diags.error(
            format!("Unknown {kind} type {name:?}"),
            format!(
                "This build of the {} provider ({}) has no {kind} named {name:?}; check the spelling or upgrade the provider.",
                self.provider, self.version
            ),
        );
        diags
    }

    /// Every schema problem Terraform would reject, for a unit test to assert there are none.
    pub fn schema_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let schemas = self.resources.iter().map(|(n, r)| (n, &r.schema)).chain(self.data_sources.iter().map(|(n, d)| (n, &d.schema)));
        for (name, schema) in schemas {
            let mut found = Vec::new();
            schema.block.check_internal(&crate::cty::Path::root(), &mut found);
            if schema.version < 0 {
                found.push("schema version must not be negative".into());
            }
            problems.extend(found.into_iter().map(|p| format!("{name}: {p}")));
        }
        problems
    }
}
