{{- define "x.fail" -}}
{{ fail "failing inside a define" }}
{{- end -}}
