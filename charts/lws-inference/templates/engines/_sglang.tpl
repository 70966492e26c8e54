{{/*
SGLang: every rank runs `sglang.launch_server` with the same arguments. --dist-init-addr
points all ranks at the leader for the torch distributed rendezvous, --nnodes and --node-rank
come from LWS, and only rank 0 (the leader) serves HTTP, on 0.0.0.0.
*/}}
{{- define "lws-inference.engine.sglang.launch" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $engine := fromYaml (include "lws-inference.engine" $root) -}}
{{- $parallelism := fromYaml (include "lws-inference.parallelism" $root) -}}
{{- $multiPod := gt (int $values.group.size) 1 -}}
{{- $distPort := int $values.engine.sglang.distInitPort -}}
{{- if $multiPod }}
command:
{{ include "lws-inference.wrapperCommand" (dict "root" $root "script" (printf "lws-inference.script.%s" .role) "port" $distPort) }}
args:
- python3
- -m
- sglang.launch_server
{{- else }}
command:
- python3
- -m
- sglang.launch_server
args:
{{- end }}
- --model-path
- {{ include "lws-inference.modelPath" $root | quote }}
- --served-model-name
- {{ include "lws-inference.servedName" $root | quote }}
- --tp-size
- {{ $parallelism.tensor | quote }}
{{- if gt (int $parallelism.pipeline) 1 }}
- --pp-size
- {{ $parallelism.pipeline | quote }}
{{- end }}
{{- if $multiPod }}
- --dist-init-addr
- "$(LWS_LEADER_ADDRESS):{{ $distPort }}"
- --nnodes
- "$(LWS_GROUP_SIZE)"
- --node-rank
- "$(LWS_WORKER_INDEX)"
{{- end }}
{{- if eq .role "leader" }}
- --host
- "0.0.0.0"
- --port
- {{ $engine.port | quote }}
{{- end }}
{{- if gt (int $values.model.maxModelLen) 0 }}
- --context-length
- {{ include "lws-inference.scalar" $values.model.maxModelLen | quote }}
{{- end }}
{{- if $values.model.trustRemoteCode }}
- --trust-remote-code
{{- end }}
{{- if $values.metrics.enabled }}
- --enable-metrics
{{- end }}
{{- include "lws-inference.engineArgs" $root }}
{{- end -}}
