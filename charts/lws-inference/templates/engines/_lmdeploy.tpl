{{/*
LMDeploy with the PyTorch engine. A multi-pod group forms one Ray cluster: the leader starts
the Ray head, waits for every pod to join, then runs `lmdeploy serve api_server`; workers only
join Ray. LMDEPLOY_EXECUTOR_BACKEND=ray (set in the pod env) makes the engine use that cluster.
LMDeploy requires the tensor-parallel size to be a power of two.
*/}}
{{- define "lws-inference.engine.lmdeploy.launch" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $engine := fromYaml (include "lws-inference.engine" $root) -}}
{{- $parallelism := fromYaml (include "lws-inference.parallelism" $root) -}}
{{- $multiPod := gt (int $values.group.size) 1 -}}
{{- if and $multiPod (eq .role "worker") }}
command:
{{ include "lws-inference.wrapperCommand" (dict "root" $root "script" "lws-inference.script.rayWorker" "port" $values.engine.ray.port) }}
args:
- ray
- start
- "--address=$(LWS_LEADER_ADDRESS):{{ int $values.engine.ray.port }}"
- "--node-ip-address=$(POD_IP)"
- --block
{{- else }}
{{- if $multiPod }}
command:
{{ include "lws-inference.wrapperCommand" (dict "root" $root "script" "lws-inference.script.rayLeader" "port" $values.engine.ray.port "ipVar" "POD_IP") }}
args:
- lmdeploy
{{- else }}
command:
- lmdeploy
args:
{{- end }}
- serve
- api_server
- {{ include "lws-inference.modelPath" $root | quote }}
- --backend
- pytorch
- --tp
- {{ $parallelism.tensor | quote }}
- --server-name
- "0.0.0.0"
- --server-port
- {{ $engine.port | quote }}
- --model-name
- {{ include "lws-inference.servedName" $root | quote }}
{{- if gt (int $values.model.maxModelLen) 0 }}
- --session-len
- {{ include "lws-inference.scalar" $values.model.maxModelLen | quote }}
{{- end }}
{{- include "lws-inference.engineArgs" $root }}
{{- end }}
{{- end -}}
