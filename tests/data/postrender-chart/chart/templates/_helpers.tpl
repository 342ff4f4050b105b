{{/*
The ConfigMaps natscc compiled into files/manifests.yaml, as a list of {name, data} (JSON).
*/}}
{{- define "postrender-chart.compiled" -}}
{{- $text := .Files.Get "files/manifests.yaml" -}}
{{- if not $text -}}
{{- fail "files/manifests.yaml is missing: write natscc's manifests.yaml (natscc compile -f good.yaml) there first" -}}
{{- end -}}
{{- $maps := list -}}
{{- range regexSplit "(?m)^---[ \t]*$" $text -1 -}}
{{- $doc := fromYaml . -}}
{{- if and $doc (eq (toString $doc.kind) "ConfigMap") -}}
{{- $maps = append $maps (dict "name" $doc.metadata.name "data" $doc.data) -}}
{{- end -}}
{{- end -}}
{{- toJson $maps -}}
{{- end -}}

{{/*
One ConfigMap data entry: a literal block for a text of lines, else a quoted string.
*/}}
{{- define "postrender-chart.entry" -}}
{{- $key := index . 0 -}}
{{- $value := index . 1 -}}
{{- if and (contains "\n" $value) (hasSuffix "\n" $value) (not (hasPrefix " " $value)) }}
  {{ $key }}: |
{{ trimSuffix "\n" $value | indent 4 }}
{{- else }}
  {{ $key }}: {{ quote $value }}
{{- end -}}
{{- end -}}

{{- define "postrender-chart.labels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: nats-event-bus
{{- end -}}
