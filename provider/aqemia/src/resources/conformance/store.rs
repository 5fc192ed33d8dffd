//! The conformance resource's "remote API": one JSON file per object.

use std::path::PathBuf;

use anyhow::{Context as _, Result};

pub const STORE_ENV: &str = "AQEMIA_CONFORMANCE_STORE";

pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn open() -> Result<Store> {
        let dir = std::env::var_os(STORE_ENV)
            .map(PathBuf::from)
            .with_context(|| format!("{STORE_ENV} is not set; point it at a directory for conformance objects"))?;
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Store { dir })
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    pub fn get(&self, id: &str) -> Result<Option<serde_json::Value>> {
        let path = self.path(id);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn put(&self, id: &str, object: &serde_json::Value) -> Result<()> {
        let path = self.path(id);
        // Write then rename, so a provider killed mid-write never leaves half an object.
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(object)?).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }

    pub fn delete(&self, id: &str) -> Result<()> {
        match std::fs::remove_file(self.path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).context("deleting object"),
            _ => Ok(()),
        }
    }

    /// Reserves a new id, never used before in this store (like a cloud API's ids), and
    /// unique even when Terraform creates several objects in parallel.
    pub fn reserve_id(&self) -> Result<String> {
        let issued = self.dir.join(".issued");
        std::fs::create_dir_all(&issued).context("creating the id registry")?;
        for n in 1u64.. {
            let id = format!("obj-{n}");
            match std::fs::OpenOptions::new().write(true).create_new(true).open(issued.join(&id)) {
                Ok(_) => return Ok(id),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).context("reserving an id"),
            }
        }
        unreachable!("ids are unbounded")
    }
}
