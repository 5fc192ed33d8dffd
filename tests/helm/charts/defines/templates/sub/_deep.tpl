{{- define "defines.redefined.deep" -}}from sub/_deep.tpl{{- end -}}
{{- define "defines.deepOnly" -}}only in sub/_deep.tpl{{- end -}}
