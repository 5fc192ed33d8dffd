//! Whole templates through the engine, checked against what Go's text/template (with Sprig
//! and Helm's functions) prints for them.

use super::*;

fn render_with(text: &str, data: Value) -> Result<String, String> {
    let mut set = TemplateSet::new();
    set.add_file("t", text).map_err(|e| e.to_string())?;
    let mut engine = Engine::new(set);
    engine.execute("t", data).map_err(|e| e.to_string())
}

fn values() -> Value {
    let json = serde_json::json!({
        "name": "demo", "n": 3, "big": 1000000, "f": 1.5, "on": true, "off": false,
        "list": ["a", "b", "c"], "nums": [1, 2], "map": {"z": 1, "a": "x"}, "empty": {}, "none": null
    });
    Value::map([("Values".to_string(), Value::from_json(&json))].into_iter().collect())
}

fn render(text: &str) -> String {
    render_with(text, values()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn prints_values_as_go_does() {
    assert_eq!(render("{{ .Values.n }} {{ .Values.big }} {{ .Values.f }} {{ .Values.on }}"), "3 1e+06 1.5 true");
    assert_eq!(render("{{ .Values.list }} {{ .Values.map }} {{ .Values.empty }}"), "[a b c] map[a:x z:1] map[]");
    assert_eq!(render("{{ .Values.missing }}|{{ .Values.none }}"), "<no value>|<no value>");
    assert_eq!(render("{{ 3 }} {{ 1.0 }} {{ 1e3 }} {{ 'a' }} {{ 0x10 }}"), "3 1 1000 97 16");
}

#[test]
fn control_structures() {
    assert_eq!(render("{{ if .Values.off }}a{{ else if .Values.n }}b{{ else }}c{{ end }}"), "b");
    assert_eq!(render("{{ range $i, $v := .Values.list }}{{ $i }}={{ $v }};{{ end }}"), "0=a;1=b;2=c;");
    assert_eq!(render("{{ range $k, $v := .Values.map }}{{ $k }}={{ $v }};{{ end }}"), "a=x;z=1;");
    assert_eq!(render("{{ range .Values.empty }}x{{ else }}none{{ end }}"), "none");
    assert_eq!(render("{{ range 3 }}{{ . }}{{ end }}"), "012");
    assert_eq!(
        render("{{ range .Values.list }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ if eq . \"c\" }}{{ break }}{{ end }}{{ . }}{{ end }}"),
        "a"
    );
    assert_eq!(render("{{ with .Values.map }}{{ .a }}{{ end }}{{ with .Values.none }}x{{ else }}y{{ end }}"), "xy");
    assert_eq!(render("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}"), "2");
    assert_eq!(render("{{ range .Values.list }}{{ $.Values.name }}{{ end }}"), "demodemodemo");
}

#[test]
fn and_or_return_operands() {
    assert_eq!(render("{{ and 1 0 2 }} {{ or 0 \"\" \"x\" }} {{ and 1 2 }} {{ or 0 false }}"), "0 x 2 false");
    assert_eq!(render("{{ or .Values.name (fail \"not evaluated\") }}"), "demo");
}

#[test]
fn defines_and_includes() {
    let text = r#"{{- define "a" }}[{{ . }}]{{ end -}}
{{- define "b" }}{{ include "a" . | upper }}{{ end -}}
{{ template "a" "x" }}{{ include "b" "y" | nindent 2 }}{{ block "c" 1 }}<{{ . }}>{{ end }}"#;
    assert_eq!(render(text), "[x]\n  [Y]<1>");
}

#[test]
fn tpl_sees_values_and_its_own_defines() {
    assert_eq!(render(r#"{{ tpl "{{ .Values.name }}-{{ define \"q\" }}Q{{ end }}{{ include \"q\" . }}" . }}"#), "demo-Q");
}

#[test]
fn errors_say_where_like_go() {
    let err = render_with("\n  {{ .Values.missing.deeper }}", values()).unwrap_err();
    assert_eq!(err, "template: t:2:12: executing \"t\" at <.Values.missing.deeper>: nil pointer evaluating interface {}.deeper");
    let err = render_with("{{ fail \"stop here\" }}", values()).unwrap_err();
    assert_eq!(err, "template: t:1:3: executing \"t\" at <fail \"stop here\">: error calling fail: HELM_ERR_STARTstop hereHELM_ERR_END");
    let err = render_with("{{ trunc .Values.n \"abc\" }}", values()).unwrap_err();
    assert_eq!(err, "template: t:1:16: executing \"t\" at <.Values.n>: wrong type for value; expected int; got float64");
    let err = render_with("{{ required \"name is required\" .Values.nope }}", values()).unwrap_err();
    assert!(err.ends_with("error calling required: HELM_ERR_STARTname is requiredHELM_ERR_END"), "{err}");
}

#[test]
fn sprig_functions() {
    assert_eq!(render(r#"{{ "abc" | quote }} {{ quote .Values.nope }}| {{ squote "a" 1 }}"#), r#""abc" | 'a' '1'"#);
    assert_eq!(render(r#"{{ default "d" .Values.nope }} {{ default "d" .Values.name }} {{ .Values.off | default "x" }}"#), "d demo x");
    assert_eq!(render(r#"{{ list 1 "a" | toJson }} {{ dict "b" 1 "a" (list) | toJson }}"#), r#"[1,"a"] {"a":[],"b":1}"#);
    assert_eq!(render(r#"{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ keys $d | sortAlpha | join "," }}"#), "a,b");
    assert_eq!(
        render(r#"{{ add 1 2 | typeOf }} {{ len .Values.list | typeOf }} {{ .Values.n | typeOf }} {{ 2.5 | int }}"#),
        "int64 int float64 2"
    );
    assert_eq!(render(r#"{{ addf 0.1 0.2 }} {{ divf 1 3 }} {{ mulf 1.1 3 }}"#), "0.3 0.3333333333333333 3.3");
    assert_eq!(render(r#"{{ "hello world" | title }} {{ trunc 3 "abcdef" }} {{ "a-b-" | trimSuffix "-" }}"#), "Hello World abc a-b");
    assert_eq!(render(r#"{{ splitList "," "a,b" | typeOf }} {{ until 3 }} {{ "x" | sha256sum | trunc 8 }}"#), "[]string [0 1 2] 2d711642");
    assert_eq!(render(r#"{{ printf "%s-%d-%v-%05.1f" "a" 3 .Values.n 2.25 }}"#), "a-3-3-002.2");
}
