{{- define "inc.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "inc.selector" -}}
{{ include "inc.labels" . }}
tier: {{ include "inc.tier" . }}
{{- end -}}

{{- define "inc.tier" -}}web{{- end -}}

{{- define "inc.container" -}}
name: {{ .Values.name }}
image: {{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
ports:
  - containerPort: {{ .Values.templated.port }}
{{- end -}}

{{- define "inc.tplInside" -}}
{{ tpl .Values.greeting . }} / {{ tpl "{{ .Values.name | upper }}" . }}
{{- end -}}

{{- define "inc.defineInTpl" -}}from helpers{{- end -}}
