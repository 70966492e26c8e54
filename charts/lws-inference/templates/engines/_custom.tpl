{{/*
custom: the user's own leader and worker commands. The chart still provides the LWS wiring
($(LWS_LEADER_ADDRESS), $(LWS_GROUP_SIZE) and $(LWS_WORKER_INDEX) can be used in them), the
probes on the leader, resources, /dev/shm and the Services.
*/}}
{{- define "lws-inference.engine.custom.launch" -}}
{{- $custom := .root.Values.engine.custom -}}
{{- $spec := ternary $custom.leader $custom.worker (eq .role "leader") -}}
command:
{{- range $spec.command }}
- {{ include "lws-inference.scalar" . | quote }}
{{- end }}
args:
{{- range $spec.args }}
- {{ include "lws-inference.scalar" . | quote }}
{{- end }}
{{- end -}}
