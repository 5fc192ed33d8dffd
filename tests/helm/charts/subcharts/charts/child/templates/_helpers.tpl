{{- define "child.name" -}}child-name-define{{- end -}}
