{{/*
vLLM. The default backend `mp` is vLLM's native multi-node mode: every pod runs `vllm serve`
with --nnodes/--node-rank/--master-addr, and workers add --headless so only the leader serves
HTTP. The `ray` backend starts a Ray cluster per group (head on the leader, workers join) and
runs `vllm serve --distributed-executor-backend ray` on the leader only. Ray nodes register with
the pod IP in VLLM_HOST_IP, the address vLLM places its first bundle on.
*/}}
{{- define "lws-inference.engine.vllm.launch" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $multiPod := gt (int $values.group.size) 1 -}}
{{- $ray := and $multiPod (eq $values.engine.vllm.backend "ray") -}}
{{- if and $ray (eq .role "worker") }}
command:
{{ include "lws-inference.wrapperCommand" (dict "root" $root "script" "lws-inference.script.rayWorker" "port" $values.engine.ray.port) }}
args:
- ray
- start
- "--address=$(LWS_LEADER_ADDRESS):{{ int $values.engine.ray.port }}"
- "--node-ip-address=$(VLLM_HOST_IP)"
- --block
{{- else }}
{{- if $ray }}
command:
{{ include "lws-inference.wrapperCommand" (dict "root" $root "script" "lws-inference.script.rayLeader" "port" $values.engine.ray.port "ipVar" "VLLM_HOST_IP") }}
args:
- vllm
- serve
{{- else if $multiPod }}
command:
{{ include "lws-inference.wrapperCommand" (dict "root" $root "script" (printf "lws-inference.script.%s" .role) "port" $values.engine.vllm.masterPort) }}
args:
- vllm
- serve
{{- else }}
command:
- vllm
- serve
args:
{{- end }}
{{- include "lws-inference.engine.vllm.serveArgs" . }}
{{- end }}
{{- end -}}

{{- define "lws-inference.engine.vllm.serveArgs" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $engine := fromYaml (include "lws-inference.engine" $root) -}}
{{- $parallelism := fromYaml (include "lws-inference.parallelism" $root) -}}
{{- $multiPod := gt (int $values.group.size) 1 }}
- {{ include "lws-inference.modelPath" $root | quote }}
- --served-model-name
- {{ include "lws-inference.servedName" $root | quote }}
- --tensor-parallel-size
- {{ $parallelism.tensor | quote }}
- --pipeline-parallel-size
- {{ $parallelism.pipeline | quote }}
{{- if and $multiPod (eq $values.engine.vllm.backend "ray") }}
- --distributed-executor-backend
- ray
{{- else if $multiPod }}
- --distributed-executor-backend
- mp
- --nnodes
- "$(LWS_GROUP_SIZE)"
- --node-rank
- "$(LWS_WORKER_INDEX)"
- --master-addr
- "$(LWS_LEADER_ADDRESS)"
- --master-port
- {{ $values.engine.vllm.masterPort | int | quote }}
{{- if eq .role "worker" }}
- --headless
{{- end }}
{{- end }}
{{- if eq .role "leader" }}
- --host
- "0.0.0.0"
- --port
- {{ $engine.port | quote }}
{{- end }}
{{- if gt (int $values.model.maxModelLen) 0 }}
- --max-model-len
- {{ include "lws-inference.scalar" $values.model.maxModelLen | quote }}
{{- end }}
{{- if $values.model.trustRemoteCode }}
- --trust-remote-code
{{- end }}
{{- include "lws-inference.engineArgs" $root }}
{{- end -}}
