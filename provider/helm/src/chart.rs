//! Loading a chart, from a directory or a `.tgz` archive, the way Helm's loader sorts its
//! files: `Chart.yaml`, `values.yaml`, `values.schema.json`, `templates/`, subcharts in
//! `charts/`, and every other file (`crds/` included) as `.Files`.

use std::io::Read;
use std::path::Path;

use super::ignore::IgnoreRules;
use super::yaml;

/// A file of a chart: its path relative to the chart root, with `/` separators.
#[derive(Clone, Debug)]
pub struct ChartFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// A dependency as Chart.yaml declares it.
#[derive(Clone, Debug, Default)]
pub struct Dependency {
    pub name: String,
    pub version: String,
    pub repository: String,
    pub condition: String,
    pub tags: Vec<String>,
    pub alias: String,
    pub import_values: Vec<serde_json::Value>,
}

#[derive(Clone, Debug)]
pub struct Chart {
    /// Chart.yaml as written.
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// values.yaml, parsed as Helm parses it.
    pub values: serde_json::Map<String, serde_json::Value>,
    pub schema: Option<Vec<u8>>,
    pub templates: Vec<ChartFile>,
    /// Everything else: `.Files`, `crds/` among them.
    pub files: Vec<ChartFile>,
    pub dependencies: Vec<Dependency>,
    pub subcharts: Vec<Chart>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("{0}")]
    Invalid(String),
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

fn invalid(msg: impl Into<String>) -> ChartError {
    ChartError::Invalid(msg.into())
}

impl Chart {
    pub fn name(&self) -> &str {
        self.metadata.get("name").and_then(|v| v.as_str()).unwrap_or_default()
    }

    pub fn version(&self) -> &str {
        self.metadata.get("version").and_then(|v| v.as_str()).unwrap_or_default()
    }

    /// The files under `crds/`, in name order.
    pub fn crds(&self) -> impl Iterator<Item = &ChartFile> {
        self.files.iter().filter(|f| f.name.starts_with("crds/"))
    }

    /// Loads a chart directory or archive.
    pub fn load(path: &Path) -> Result<Chart, ChartError> {
        let meta = std::fs::metadata(path).map_err(|source| ChartError::Io { path: path.display().to_string(), source })?;
        if meta.is_dir() {
            Chart::from_files(read_dir(path)?)
        } else {
            let data = std::fs::read(path).map_err(|source| ChartError::Io { path: path.display().to_string(), source })?;
            Chart::from_archive(&data)
        }
    }

    /// A chart directory, with `sha256:<hex>` of its content (each file's path and bytes, in
    /// path order, `.helmignore` applied): what identifies a chart that has no archive, so
    /// that a directory edited since a release installed it is recognized as another chart.
    pub fn load_directory(path: &Path) -> Result<(Chart, String), ChartError> {
        let files = read_dir(path)?;
        let mut sorted: Vec<&ChartFile> = files.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let mut content = Vec::new();
        for file in sorted {
            // Lengths keep the boundaries: no two different trees hash the same bytes.
            content.extend_from_slice(&(file.name.len() as u64).to_be_bytes());
            content.extend_from_slice(file.name.as_bytes());
            content.extend_from_slice(&(file.data.len() as u64).to_be_bytes());
            content.extend_from_slice(&file.data);
        }
        Ok((Chart::from_files(files)?, format!("sha256:{}", super::source::hex_sha256(&content))))
    }

    /// Loads a gzipped tar archive whose entries sit under one top directory.
    pub fn from_archive(data: &[u8]) -> Result<Chart, ChartError> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(data));
        let mut files = Vec::new();
        let entries = archive.entries().map_err(|e| invalid(format!("reading the chart archive: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| invalid(format!("reading the chart archive: {e}")))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let path = entry.path().map_err(|e| invalid(format!("reading the chart archive: {e}")))?.to_string_lossy().replace('\\', "/");
            // Drop the top directory (the chart's name), as Helm does.
            let Some((_, name)) = path.split_once('/') else { continue };
            if name.is_empty() || name.split('/').any(|p| p == "..") {
                return Err(invalid(format!("chart archive entry {path:?} is illegal")));
            }
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(|e| invalid(format!("reading {path} in the chart archive: {e}")))?;
            files.push(ChartFile { name: name.to_string(), data });
        }
        if files.is_empty() {
            return Err(invalid("no files in chart archive"));
        }
        Chart::from_files(files)
    }

    /// Sorts loaded files into a chart, loading subcharts from `charts/`.
    pub fn from_files(mut files: Vec<ChartFile>) -> Result<Chart, ChartError> {
        files.sort_by(|a, b| a.name.cmp(&b.name));
        let mut chart = Chart {
            metadata: serde_json::Map::new(),
            values: serde_json::Map::new(),
            schema: None,
            templates: Vec::new(),
            files: Vec::new(),
            dependencies: Vec::new(),
            subcharts: Vec::new(),
        };
        let mut sub_files: Vec<(String, ChartFile)> = Vec::new();
        let mut saw_chart_yaml = false;
        for file in files {
            match file.name.as_str() {
                "Chart.yaml" => {
                    saw_chart_yaml = true;
                    let text = String::from_utf8_lossy(&file.data);
                    chart.metadata = yaml::from_yaml_map(&text).map_err(|e| invalid(format!("cannot load Chart.yaml: {e}")))?;
                }
                "values.yaml" => {
                    let text = String::from_utf8_lossy(&file.data);
                    chart.values = yaml::parse_values(&text).map_err(|e| invalid(format!("cannot load values.yaml: {e}")))?;
                }
                "values.schema.json" => chart.schema = Some(file.data),
                "Chart.lock" | "requirements.lock" | "requirements.yaml" => {}
                name if name.starts_with("templates/") => chart.templates.push(file),
                name if name.starts_with("charts/") => {
                    let rest = &name["charts/".len()..];
                    if let Some((dir, inner)) = rest.split_once('/') {
                        sub_files.push((dir.to_string(), ChartFile { name: inner.to_string(), data: file.data }));
                    } else if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") {
                        let sub = Chart::from_archive(&file.data)
                            .map_err(|e| invalid(format!("error unpacking subchart {rest} in {}: {e}", chart.name())))?;
                        chart.subcharts.push(sub);
                    } else {
                        chart.files.push(file);
                    }
                }
                _ => chart.files.push(file),
            }
        }
        if !saw_chart_yaml {
            return Err(invalid("Chart.yaml file is missing"));
        }
        let mut dirs: Vec<String> = sub_files.iter().map(|(d, _)| d.clone()).collect();
        dirs.dedup();
        for dir in dirs {
            let inner: Vec<ChartFile> = sub_files.iter().filter(|(d, _)| *d == dir).map(|(_, f)| f.clone()).collect();
            let sub = Chart::from_files(inner).map_err(|e| invalid(format!("error unpacking subchart {dir} in {}: {e}", chart.name())))?;
            chart.subcharts.push(sub);
        }
        chart.dependencies = dependencies(&chart.metadata)?;
        chart.validate()?;
        Ok(chart)
    }

    fn validate(&self) -> Result<(), ChartError> {
        let api = self.metadata.get("apiVersion").and_then(|v| v.as_str()).unwrap_or_default();
        if api.is_empty() {
            return Err(invalid("validation: chart.metadata.apiVersion is required"));
        }
        if self.name().is_empty() {
            return Err(invalid("validation: chart.metadata.name is required"));
        }
        if self.version().is_empty() {
            return Err(invalid("validation: chart.metadata.version is required"));
        }
        Ok(())
    }
}

fn dependencies(metadata: &serde_json::Map<String, serde_json::Value>) -> Result<Vec<Dependency>, ChartError> {
    let Some(deps) = metadata.get("dependencies").and_then(|d| d.as_array()) else { return Ok(Vec::new()) };
    let text = |d: &serde_json::Value, key: &str| d.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    Ok(deps
        .iter()
        .map(|d| Dependency {
            name: text(d, "name"),
            version: text(d, "version"),
            repository: text(d, "repository"),
            condition: text(d, "condition"),
            tags: d
                .get("tags")
                .and_then(|t| t.as_array())
                .map(|t| t.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                .unwrap_or_default(),
            alias: text(d, "alias"),
            import_values: d.get("import-values").and_then(|t| t.as_array()).cloned().unwrap_or_default(),
        })
        .collect())
}

/// Reads a chart directory, skipping what `.helmignore` (and Helm's defaults) exclude.
fn read_dir(root: &Path) -> Result<Vec<ChartFile>, ChartError> {
    let rules = match std::fs::read_to_string(root.join(".helmignore")) {
        Ok(text) => IgnoreRules::parse(&text),
        Err(_) => IgnoreRules::default(),
    };
    let mut files = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(dir) = stack.pop() {
        let full = if dir.is_empty() { root.to_path_buf() } else { root.join(&dir) };
        let entries = std::fs::read_dir(&full).map_err(|source| ChartError::Io { path: full.display().to_string(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| ChartError::Io { path: full.display().to_string(), source })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if dir.is_empty() { name } else { format!("{dir}/{name}") };
            let file_type = entry.file_type().map_err(|source| ChartError::Io { path: rel.clone(), source })?;
            let path = entry.path();
            let is_dir = file_type.is_dir() || (file_type.is_symlink() && path.is_dir());
            if rules.ignores(&rel, is_dir) {
                continue;
            }
            if is_dir {
                stack.push(rel);
            } else {
                let data = std::fs::read(&path).map_err(|source| ChartError::Io { path: rel.clone(), source })?;
                files.push(ChartFile { name: rel, data });
            }
        }
    }
    Ok(files)
}
