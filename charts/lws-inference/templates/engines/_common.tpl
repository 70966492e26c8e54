{{/*
Pieces shared by the engine launch helpers. Each engine has one helper,
`lws-inference.engine.<name>.launch`, called with (dict "root" $ "role" "leader"|"worker") and
returning YAML with `command` and `args` lists.
*/}}

{{/*
engine.args as command-line tokens. Keys are flag names in camelCase or kebab-case
(maxModelLen and max-model-len both give --max-model-len). true gives the bare flag,
false and null leave the flag out, a list gives the flag followed by each item, and a map
gives the flag followed by its JSON. Keys render in sorted order.
*/}}
{{- define "lws-inference.engineArgs" -}}
{{- range $key, $value := .Values.engine.args }}
{{- $flag := printf "--%s" (trimPrefix "--" $key | kebabcase) }}
{{- if kindIs "bool" $value }}
{{- if $value }}
- {{ $flag | quote }}
{{- end }}
{{- else if kindIs "invalid" $value }}
{{- else if kindIs "slice" $value }}
- {{ $flag | quote }}
{{- range $value }}
- {{ include "lws-inference.scalar" . | quote }}
{{- end }}
{{- else if kindIs "map" $value }}
- {{ $flag | quote }}
- {{ toJson $value | quote }}
{{- else }}
- {{ $flag | quote }}
- {{ include "lws-inference.scalar" $value | quote }}
{{- end }}
{{- end }}
{{- range .Values.engine.extraArgs }}
- {{ include "lws-inference.scalar" . | quote }}
{{- end }}
{{- end -}}

{{/* Name the API serves the model under: model.servedName, else the model id. */}}
{{- define "lws-inference.servedName" -}}
{{- .Values.model.servedName | default .Values.model.id -}}
{{- end -}}
