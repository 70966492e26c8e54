{{/*
Values the templates derive from the user's values: engine defaults, ports, parallelism,
restart policy and rollout settings. Each helper returns a scalar, or YAML read back with
fromYaml.
*/}}

{{/*
Built-in defaults per engine. The image tags are the images published for the engine releases
whose CLI flags generator/catalogs/flags/ lists (SGLang 0.5.9, vLLM 0.18.1, LMDeploy 0.16.0 in
its CUDA 12.8 build). The generator's catalogs/engines.yaml holds the same values and a test
keeps the two equal.
*/}}
{{- define "lws-inference.engineDefaults" -}}
sglang:
  repository: lmsysorg/sglang
  tag: v0.5.9
  port: 30000
  healthPath: /health
  metricsPath: /metrics
vllm:
  repository: vllm/vllm-openai
  tag: v0.18.1
  port: 8000
  healthPath: /health
  metricsPath: /metrics
lmdeploy:
  repository: openmmlab/lmdeploy
  tag: v0.16.0-cu12.8
  port: 23333
  healthPath: /health
  metricsPath: /metrics
custom:
  repository: ""
  tag: ""
  port: 8000
  healthPath: /health
  metricsPath: /metrics
{{- end -}}

{{- define "lws-inference.engine" -}}
{{- $all := fromYaml (include "lws-inference.engineDefaults" .) -}}
{{- $defaults := get $all .Values.engine.name | default dict -}}
{{- $port := int .Values.engine.port -}}
{{- if eq $port 0 -}}
{{- $port = int $defaults.port -}}
{{- end -}}
repository: {{ .Values.engine.image.repository | default $defaults.repository | quote }}
tag: {{ .Values.engine.image.tag | default $defaults.tag | quote }}
port: {{ int $port }}
healthPath: {{ .Values.engine.healthPath | default $defaults.healthPath | quote }}
metricsPath: {{ .Values.engine.metricsPath | default $defaults.metricsPath | quote }}
{{- end -}}

{{/*
Tensor and pipeline sizes. Unset sizes (0) are filled from the group: SGLang and LMDeploy run one
tensor-parallel group over every GPU of the group; vLLM runs tensor parallel inside a pod and
pipeline parallel across pods. With one size given, the other is total GPUs divided by it.
*/}}
{{- define "lws-inference.parallelism" -}}
{{- $total := mul (int .Values.group.size) (int .Values.accelerator.countPerPod) -}}
{{- $tensor := int .Values.parallelism.tensor -}}
{{- $pipeline := int .Values.parallelism.pipeline -}}
{{- if and (eq $tensor 0) (eq $pipeline 0) -}}
{{- if eq .Values.engine.name "vllm" -}}
{{- $tensor = int .Values.accelerator.countPerPod -}}
{{- $pipeline = int .Values.group.size -}}
{{- else -}}
{{- $tensor = $total -}}
{{- $pipeline = 1 -}}
{{- end -}}
{{- else if eq $pipeline 0 -}}
{{- $pipeline = ternary (div $total $tensor) 0 (and (gt $tensor 0) (eq (mod $total $tensor) 0)) -}}
{{- else if eq $tensor 0 -}}
{{- $tensor = ternary (div $total $pipeline) 0 (and (gt $pipeline 0) (eq (mod $total $pipeline) 0)) -}}
{{- end -}}
tensor: {{ $tensor }}
pipeline: {{ $pipeline }}
total: {{ $total }}
{{- end -}}

{{/* RecreateGroupOnPodRestart for multi-pod groups, None for a single pod. */}}
{{- define "lws-inference.restartPolicy" -}}
{{- if .Values.group.restartPolicy -}}
{{- .Values.group.restartPolicy -}}
{{- else if gt (int .Values.group.size) 1 -}}
RecreateGroupOnPodRestart
{{- else -}}
None
{{- end -}}
{{- end -}}

{{/*
Effective rollout integers, resolved the way the LWS webhook does: a percentage of replicas,
rounded down for maxUnavailable and up for maxSurge. Unset values default to maxUnavailable 1
and maxSurge 0, except that a maxUnavailable that resolves to 0 alone gets maxSurge 1 so the
update can progress, and a maxSurge above 0 alone gets maxUnavailable 0.
*/}}
{{- define "lws-inference.rollout" -}}
{{- $replicas := int .Values.replicas -}}
{{- $unavailable := .Values.rollout.maxUnavailable -}}
{{- $surge := .Values.rollout.maxSurge -}}
{{- if and (kindIs "invalid" $unavailable) (kindIs "invalid" $surge) -}}
{{- $unavailable = 1 -}}
{{- $surge = 0 -}}
{{- else if kindIs "invalid" $surge -}}
{{- $surge = ternary 1 0 (eq (include "lws-inference.resolvePercent" (list $unavailable $replicas false)) "0") -}}
{{- else if kindIs "invalid" $unavailable -}}
{{- $unavailable = ternary 1 0 (eq (include "lws-inference.resolvePercent" (list $surge $replicas true)) "0") -}}
{{- end -}}
maxUnavailable: {{ include "lws-inference.intOrString" $unavailable }}
maxSurge: {{ include "lws-inference.intOrString" $surge }}
resolvedMaxUnavailable: {{ include "lws-inference.resolvePercent" (list $unavailable $replicas false) }}
resolvedMaxSurge: {{ include "lws-inference.resolvePercent" (list $surge $replicas true) }}
partition: {{ int .Values.rollout.partition }}
{{- end -}}

{{- define "lws-inference.maxSurgeGroups" -}}
{{- $rollout := fromYaml (include "lws-inference.rollout" .) -}}
{{- min (int $rollout.resolvedMaxSurge) (int (include "lws-inference.replicasUpperBound" .)) -}}
{{- end -}}

{{/*
An int-or-percent value as YAML: percentages quoted, anything else as an integer. Helm 3 may
hand numbers from values files over as strings, so the test is the % suffix, not the type.
*/}}
{{- define "lws-inference.intOrString" -}}
{{- if hasSuffix "%" (toString .) -}}
{{- quote . -}}
{{- else -}}
{{- int64 . -}}
{{- end -}}
{{- end -}}

{{/* (list value replicas roundUp): a percentage resolved against replicas. */}}
{{- define "lws-inference.resolvePercent" -}}
{{- $value := index . 0 -}}
{{- $replicas := int (index . 1) -}}
{{- $roundUp := index . 2 -}}
{{- if hasSuffix "%" (toString $value) -}}
{{- $percent := int (trimSuffix "%" (toString $value)) -}}
{{- $scaled := mul $percent $replicas -}}
{{- if $roundUp -}}
{{- div (add $scaled 99) 100 -}}
{{- else -}}
{{- div $scaled 100 -}}
{{- end -}}
{{- else -}}
{{- int64 $value -}}
{{- end -}}
{{- end -}}

{{/*
A scalar as a string without exponent notation. Helm reads YAML numbers as float64 and would
print 1048576 as 1.048576e+06; whole numbers are printed as integers instead.
*/}}
{{- define "lws-inference.scalar" -}}
{{- if kindIs "float64" . -}}
{{- if eq (float64 (int64 .)) . -}}
{{- int64 . -}}
{{- else -}}
{{- . -}}
{{- end -}}
{{- else -}}
{{- toString . -}}
{{- end -}}
{{- end -}}

{{/*
Startup probe budget in seconds: a fixed base plus the checkpoint read at the configured
bandwidth, and never less than the floor. With storage.type hub the engine downloads the
checkpoint after it starts, so the download at storage.downloadMiBPerSecond is added; the other
types download in init containers or not at all, and the probe only starts with the engine
container. A 756 GiB checkpoint at 400 MiB/s with a 300 s base gives 2236 s, plus 3871 s of
download at 200 MiB/s with hub.
*/}}
{{- define "lws-inference.startupBudgetSeconds" -}}
{{- $startup := .Values.probes.startup -}}
{{- $gib := int .Values.model.checkpointGiB -}}
{{- $rate := int $startup.loadMiBPerSecond -}}
{{- $load := div (add (mul $gib 1024) (sub $rate 1)) $rate -}}
{{- if eq .Values.storage.type "hub" -}}
{{- $downloadRate := int .Values.storage.downloadMiBPerSecond -}}
{{- $load = add $load (div (add (mul $gib 1024) (sub $downloadRate 1)) $downloadRate) -}}
{{- end -}}
{{- max (int $startup.minSeconds) (add (int $startup.baseSeconds) $load) -}}
{{- end -}}

{{/*
Size of the memory-backed /dev/shm: the value when set, otherwise a rule per GPU of the pod
(SGLang 4Gi per GPU, other engines 2Gi per GPU, at least 2Gi). NCCL and the engines' worker
processes exchange tensors through it; the container default of 64Mi makes NCCL fail.
*/}}
{{- define "lws-inference.shmSize" -}}
{{- if .Values.shm.sizeLimit -}}
{{- .Values.shm.sizeLimit -}}
{{- else -}}
{{- $perGpu := ternary 4 2 (eq .Values.engine.name "sglang") -}}
{{- printf "%dGi" (max 2 (mul $perGpu (int .Values.accelerator.countPerPod))) -}}
{{- end -}}
{{- end -}}

{{/* Port of the API Service: service.port, or the engine's port when 0. */}}
{{- define "lws-inference.servicePort" -}}
{{- $port := int .Values.service.port -}}
{{- if eq $port 0 -}}
{{- $port = int (fromYaml (include "lws-inference.engine" .)).port -}}
{{- end -}}
{{- $port -}}
{{- end -}}
