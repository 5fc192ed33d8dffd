{{/* Common helpers, in the conventional file. */}}
{{- define "defines.name" -}}
{{ .Chart.Name }}-{{ .Values.name }}
{{- end }}

{{- define "defines.fullname" -}}
{{ .Release.Name }}-{{ include "defines.name" . }}
{{- end -}}

{{ define "defines.labels" }}
app: {{ template "defines.name" . }}
chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- range $k, $v := .Values.labels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{ end }}

{{- define "defines.person" -}}
{{ .person.name }} is {{ .person.role }} in {{ .root.Release.Name }}
{{- end -}}

{{- define "defines.nested.outer" -}}
outer({{ template "defines.nested.inner" . }})
{{- end -}}
{{- define "defines.nested.inner" -}}
inner[{{ . }}]
{{- end -}}

{{- define "defines.redefined" -}}from _helpers.tpl{{- end -}}
{{- define "defines.redefined.deep" -}}from _helpers.tpl{{- end -}}

{{- define "defines.dotType" -}}{{ kindOf . }}:{{ . }}{{- end -}}
This text outside any define is never printed.
