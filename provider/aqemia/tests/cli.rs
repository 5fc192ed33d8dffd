//! The binary's command line, run as a user runs it. (Being an integration test, this file
//! also makes `cargo test` build the real binary, which the e2e suite then drives.)

use std::path::PathBuf;
use std::process::{Command, Output};

const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-aqemia");

fn run(args: &[&str]) -> Output {
    Command::new(BINARY).args(args).env_remove("TF_PLUGIN_MAGIC_COOKIE").output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A chart in a fresh directory: one ConfigMap from values, one value overridable.
fn chart(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aqemia-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(dir.join("Chart.yaml"), "apiVersion: v2\nname: demo\nversion: 1.2.3\n").unwrap();
    std::fs::write(dir.join("values.yaml"), "greeting: hello\nreplicas: 1\n").unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\ndata:\n  \
         greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n",
    )
    .unwrap();
    std::fs::write(dir.join("override.yaml"), "greeting: bonjour\n").unwrap();
    dir
}

#[test]
fn version_flag_and_subcommand_say_the_same() {
    let flag = run(&["--version"]);
    let subcommand = run(&["version"]);
    assert!(flag.status.success() && subcommand.status.success());
    assert_eq!(flag.stdout, subcommand.stdout);
    let line = text(&flag.stdout);
    assert!(line.starts_with(&format!("terraform-provider-aqemia {} (plugin protocol 5, ", env!("CARGO_PKG_VERSION"))), "{line}");
}

#[test]
fn started_by_hand_without_arguments_it_explains_itself() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("This binary is a plugin: the aqemia provider for Terraform."), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn template_renders_with_values_files_and_sets_in_helm_order() {
    let dir = chart("render");
    let out = run(&[
        "template",
        "-n",
        "web",
        "-f",
        dir.join("override.yaml").to_str().unwrap(),
        "--set",
        "replicas=3",
        "demo-release",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "---\n# Source: demo/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo-release\n  namespace: web\n\
         data:\n  greeting: \"bonjour\"\n  replicas: \"3\"\n"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn template_errors_read_as_helms() {
    let dir = chart("errors");
    let local_with_version = run(&["template", "--version", "^1", "rel", dir.to_str().unwrap()]);
    assert_eq!(local_with_version.status.code(), Some(1));
    assert_eq!(
        text(&local_with_version.stderr),
        format!("Error: --version applies to a chart in a repository or registry; {} is a local path\n", dir.display())
    );

    let bad_set = run(&["template", "--set", "noequals", "rel", dir.to_str().unwrap()]);
    assert_eq!(bad_set.status.code(), Some(1));
    assert_eq!(text(&bad_set.stderr), "Error: failed parsing --set data: key \"noequals\" has no value\n");

    let missing_values = run(&["template", "-f", "/nonexistent/values.yaml", "rel", dir.to_str().unwrap()]);
    assert_eq!(missing_values.status.code(), Some(1));
    assert!(text(&missing_values.stderr).starts_with("Error: open /nonexistent/values.yaml: "), "{}", text(&missing_values.stderr));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn command_line_mistakes_are_refused_with_usage() {
    let unknown = run(&["template", "--no-such-flag", "rel", "chart"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("--no-such-flag"), "{}", text(&unknown.stderr));

    let lonely_username = run(&["template", "--username", "u", "rel", "oci://example.org/charts/x"]);
    assert_eq!(lonely_username.status.code(), Some(2));
    assert!(text(&lonely_username.stderr).contains("--password"), "{}", text(&lonely_username.stderr));

    let missing_chart = run(&["template", "rel"]);
    assert_eq!(missing_chart.status.code(), Some(2));
    assert!(text(&missing_chart.stderr).contains("<CHART>"), "{}", text(&missing_chart.stderr));
}
