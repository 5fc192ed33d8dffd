{{- define "defines.redefined" -}}from _other.tpl{{- end -}}
{{- define "defines.fromOther" -}}defined in _other.tpl, used elsewhere: {{ .Values.name }}{{- end -}}
