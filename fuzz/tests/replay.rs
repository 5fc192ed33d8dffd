//! Runs the fuzz targets' checks without libFuzzer, on stable Rust:
//!
//! - the generated seeds ([`aqemia_fuzz::seeds`]);
//! - every file under `seeds/<target>/` and `regressions/<target>/` (crash inputs kept after
//!   their fix);
//! - any files or directories named in `FUZZ_REPLAY` (colon-separated), through both targets,
//!   e.g. `FUZZ_REPLAY=artifacts/msgpack_decode cargo test -p aqemia-fuzz`.
//!
//! `FUZZ_WRITE_SEEDS=1` (re)writes `seeds/` from [`aqemia_fuzz::seeds`].

use std::fs;
use std::path::{Path, PathBuf};

/// A target's checks, as libFuzzer would call them.
type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 2] = [("msgpack_decode", aqemia_fuzz::fuzz_msgpack), ("json_decode", aqemia_fuzz::fuzz_json)];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let Ok(entries) = fs::read_dir(path) else { return Vec::new() };
    let mut out: Vec<PathBuf> = entries.flatten().flat_map(|e| files_under(&e.path())).collect();
    out.sort();
    out
}

fn replay(run: Target, file: &Path) {
    let data = fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    eprintln!("replaying {}", file.display());
    run(&data);
}

#[test]
fn generated_seeds_pass() {
    let write = std::env::var_os("FUZZ_WRITE_SEEDS").is_some();
    for (name, packed, text) in aqemia_fuzz::seeds() {
        aqemia_fuzz::fuzz_msgpack(&packed);
        if let Some(text) = &text {
            aqemia_fuzz::fuzz_json(text);
        }
        if write {
            let dir = root().join("seeds");
            fs::create_dir_all(dir.join("msgpack_decode")).unwrap();
            fs::create_dir_all(dir.join("json_decode")).unwrap();
            fs::write(dir.join("msgpack_decode").join(&name), &packed).unwrap();
            if let Some(text) = text {
                fs::write(dir.join("json_decode").join(&name), text).unwrap();
            }
        }
    }
}

#[test]
fn seeds_and_regressions_pass() {
    for (target, run) in TARGETS {
        for dir in ["seeds", "regressions"] {
            for file in files_under(&root().join(dir).join(target)) {
                replay(run, &file);
            }
        }
    }
}

#[test]
fn replay_named_inputs() {
    let Some(paths) = std::env::var_os("FUZZ_REPLAY") else { return };
    for path in std::env::split_paths(&paths) {
        for file in files_under(&path) {
            for (_, run) in TARGETS {
                replay(run, &file);
            }
        }
    }
}
