{{- define "x.name" -}}
{{ .Values.name }
{{- end -}}
