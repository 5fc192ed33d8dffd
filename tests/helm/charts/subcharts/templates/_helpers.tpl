{{- define "subcharts.shared" -}}parent's shared define{{- end -}}
