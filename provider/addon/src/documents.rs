//! YAML texts into object bodies, read as Kubernetes reads them: documents split where
//! kubectl splits them (a line that is `---`, optionally followed by a comment), each read by
//! `sigs.k8s.io/yaml.YAMLToJSON` rules (YAML 1.1: `on` and `yes` are booleans, `0644` is octal).
//! The Helm engine's reader does this, so manifests and rendered charts mean the same thing.

use aqemia_helm::yaml;
use aqemia_release::manifest::DocumentError;
use serde_json::Value;

/// Object bodies with the index of the text each came from. `List` objects are unpacked;
/// empty documents are skipped.
pub fn parse(texts: &[&str]) -> Result<Vec<(usize, Value)>, DocumentError> {
    let mut out = Vec::new();
    for (index, text) in texts.iter().enumerate() {
        for (first_line, document) in split(text) {
            let fail = |message: String| DocumentError { document: index, message };
            let value = yaml::yaml_to_json(document).map_err(|e| match e.line {
                // go-yaml counts lines within the document; say where it is in the text.
                Some(line) => {
                    let problem = e.message().strip_prefix(&format!("yaml: line {line}: ")).unwrap_or(e.message());
                    fail(format!("invalid YAML at line {}: {problem}", line + first_line - 1))
                }
                None => fail(format!("invalid YAML: {}", e.message())),
            })?;
            unpack(value, &mut |body| out.push((index, body))).map_err(fail)?;
        }
    }
    Ok(out)
}

fn unpack(value: Value, push: &mut impl FnMut(Value)) -> Result<(), String> {
    match value {
        Value::Null => Ok(()),
        Value::Object(_) if value.get("kind").and_then(Value::as_str) == Some("List") && value.get("items").is_some() => {
            let Some(Value::Array(items)) = value.get("items").cloned() else {
                return Err("a List's items must be a list of objects".into());
            };
            items.into_iter().try_for_each(|item| match item {
                Value::Object(_) => {
                    push(item);
                    Ok(())
                }
                other => Err(format!("a List's items must be objects, not {}", short(&other))),
            })
        }
        Value::Object(_) => {
            push(value);
            Ok(())
        }
        other => Err(format!("a document must be a Kubernetes object (a map), not {}", short(&other))),
    }
}

/// kubectl's document reader (`k8s.io/apimachinery/pkg/util/yaml.YAMLReader`): a document
/// ends at a line that starts with `---` followed by nothing but spaces or a comment. Each
/// document comes with the 1-based line it starts on.
fn split(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut start, mut start_line, mut offset) = (0, 1, 0);
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let rest = line.strip_prefix("---").map(str::trim);
        if rest.is_some_and(|rest| rest.is_empty() || rest.starts_with('#')) {
            out.push((start_line, &text[start..offset]));
            start = offset + line.len();
            start_line = number + 2;
        }
        offset += line.len();
    }
    out.push((start_line, &text[start..]));
    out.retain(|(_, document)| !document.trim().is_empty());
    out
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_lists_and_empty_documents() {
        let text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n--- # next\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: s}}\n";
        let bodies = parse(&[text, "kind: Namespace\napiVersion: v1\nmetadata: {name: web}\n"]).unwrap();
        let names: Vec<(usize, &str)> = bodies.iter().map(|(i, b)| (*i, b["metadata"]["name"].as_str().unwrap())).collect();
        assert_eq!(names, [(0, "a"), (0, "s"), (1, "web")]);
    }

    #[test]
    fn read_as_kubernetes_reads_yaml() {
        // The YAML 1.1 rules kubectl and the API server apply: `on` is a key `true`, 0644 is
        // octal, and integers stay exact.
        let bodies =
            parse(&["apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nspec:\n  mode: 0644\n  on: yes\n  big: 9007199254740993\n"])
                .unwrap();
        assert_eq!(bodies[0].1["spec"], json!({"mode": 420, "true": true, "big": 9007199254740993u64}));
        // A separator must stand alone on its line.
        assert_eq!(split("a: 1\n---x\nb: 2\n").len(), 1);
    }

    #[test]
    fn errors_name_the_text_and_line() {
        let err = parse(&["apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", "a: 1\n---\nb: [unclosed\nc: 2\n"]).unwrap_err();
        assert_eq!(err.document, 1);
        assert_eq!(err.message, "invalid YAML at line 3: did not find expected ',' or ']'");
        let err = parse(&["- just\n- a list\n"]).unwrap_err();
        assert!(err.message.contains("must be a Kubernetes object"), "{}", err.message);
    }
}
