{{- define "x.host" -}}
{{ required "host is required" .Values.host }}
{{- end -}}
