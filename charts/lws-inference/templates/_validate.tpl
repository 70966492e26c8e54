{{/*
validateValues gathers every problem a schema cannot express and fails once, listing each
problem on its own line as `<value path>: <what is wrong> (<how to fix it>)`.
*/}}
{{- define "lws-inference.validateValues" -}}
{{- $problems := list -}}
{{- $values := .Values -}}
{{- $size := int $values.group.size -}}
{{- $perPod := int $values.accelerator.countPerPod -}}
{{- $engineName := $values.engine.name -}}

{{- if not $values.model.id -}}
{{- $problems = append $problems "model.id: is required (set the Hugging Face id or local path of the model, e.g. meta-llama/Llama-3.1-8B-Instruct)" -}}
{{- end -}}

{{- $problems = concat $problems (fromYamlArray (include "lws-inference.validateParallelism" .)) -}}
{{- $problems = concat $problems (fromYamlArray (include "lws-inference.validateGroup" .)) -}}
{{- $problems = concat $problems (fromYamlArray (include "lws-inference.validateRollout" .)) -}}
{{- $problems = concat $problems (fromYamlArray (include "lws-inference.validateEnv" .)) -}}
{{- $problems = concat $problems (fromYamlArray (include "lws-inference.validateAutoscaling" .)) -}}
{{- $problems = concat $problems (fromYamlArray (include "lws-inference.validateMonitoring" .)) -}}
{{- $problems = concat $problems (fromYamlArray (include "lws-inference.validateFabric" .)) -}}
{{- $problems = concat $problems (fromYamlArray (include "lws-inference.validateStorage" .)) -}}
{{- $problems = concat $problems (fromYamlArray (include "lws-inference.validatePlacement" .)) -}}

{{- if eq $engineName "custom" -}}
{{- if not $values.engine.custom.leader.command -}}
{{- $problems = append $problems "engine.custom.leader.command: is required when engine.name is custom (give the leader's command as a list)" -}}
{{- end -}}
{{- if and (gt $size 1) (not $values.engine.custom.worker.command) -}}
{{- $problems = append $problems (printf "engine.custom.worker.command: is required when engine.name is custom and group.size (%d) is above 1 (give the workers' command as a list)" $size) -}}
{{- end -}}
{{- if not $values.engine.image.repository -}}
{{- $problems = append $problems "engine.image.repository: is required when engine.name is custom (set the image that runs your commands)" -}}
{{- end -}}
{{- end -}}

{{- range $key := keys ($values.commonLabels | default dict) | sortAlpha -}}
{{- if or (hasPrefix "app.kubernetes.io/" $key) (hasPrefix "helm.sh/" $key) (hasPrefix "leaderworkerset.sigs.k8s.io/" $key) -}}
{{- $problems = append $problems (printf "commonLabels.%s: is set by the chart or by LWS (remove it from commonLabels)" $key) -}}
{{- end -}}
{{- end -}}

{{- if $problems -}}
{{- fail (printf "\n%s" (join "\n" $problems)) -}}
{{- end -}}
{{- end -}}

{{- define "lws-inference.validateParallelism" -}}
{{- $values := .Values -}}
{{- $size := int $values.group.size -}}
{{- $perPod := int $values.accelerator.countPerPod -}}
{{- $p := fromYaml (include "lws-inference.parallelism" .) -}}
{{- $tensor := int $p.tensor -}}
{{- $pipeline := int $p.pipeline -}}
{{- $total := int $p.total -}}
{{- $problems := list -}}
{{- $checked := or (ne $values.engine.name "custom") (gt (int $values.parallelism.tensor) 0) (gt (int $values.parallelism.pipeline) 0) -}}
{{- if and $checked (gt $size 0) -}}
{{- if lt $perPod 1 -}}
{{- $problems = append $problems (printf "accelerator.countPerPod: is %d but every pod of a %s group is a rank and needs at least one accelerator (set it to the GPUs per node)" $perPod $values.engine.name) -}}
{{- else if or (eq $tensor 0) (eq $pipeline 0) -}}
{{- $given := ternary "parallelism.tensor" "parallelism.pipeline" (gt (int $values.parallelism.tensor) 0) -}}
{{- $problems = append $problems (printf "%s: %d does not divide the group's %d accelerators, group.size %d x accelerator.countPerPod %d (choose a divisor of %d)" $given (int (get $values.parallelism (trimPrefix "parallelism." $given))) $total $size $perPod $total) -}}
{{- else if ne (mul $tensor $pipeline) $total -}}
{{- $product := mul $tensor $pipeline -}}
{{- $fix := printf "%d is not a multiple of accelerator.countPerPod (%d), so no group size fits: make the product a multiple of %d, e.g. %d" $product $perPod $perPod $total -}}
{{- if eq (mod $product $perPod) 0 -}}
{{- $fix = printf "set group.size to %d" (div $product $perPod) -}}
{{- end -}}
{{- $problems = append $problems (printf "parallelism.tensor: parallelism.tensor (%d) x parallelism.pipeline (%d) must equal group.size (%d) x accelerator.countPerPod (%d): %s" $tensor $pipeline $size $perPod $fix) -}}
{{- end -}}
{{- end -}}
{{- if eq $values.engine.name "lmdeploy" -}}
{{- $powerOfTwo := has $tensor (list 1 2 4 8 16 32 64 128 256 512 1024) -}}
{{- if and (gt $tensor 0) (not $powerOfTwo) -}}
{{- $problems = append $problems (printf "parallelism.tensor: LMDeploy needs a power of two, got %d (use a group.size and accelerator.countPerPod whose product is 1, 2, 4, 8, 16 or 32)" $tensor) -}}
{{- end -}}
{{- if gt $pipeline 1 -}}
{{- $problems = append $problems (printf "parallelism.pipeline: LMDeploy runs one tensor-parallel group over the whole group, got pipeline %d (set parallelism.pipeline to 1 or leave it 0)" $pipeline) -}}
{{- end -}}
{{- end -}}
{{- toYaml $problems -}}
{{- end -}}

{{- define "lws-inference.validateGroup" -}}
{{- $values := .Values -}}
{{- $group := $values.group -}}
{{- $size := int $group.size -}}
{{- $subSize := int $group.subGroup.size -}}
{{- $problems := list -}}
{{- if gt $subSize 0 -}}
{{- if gt $subSize $size -}}
{{- $problems = append $problems (printf "group.subGroup.size: %d is larger than group.size (%d) (use a divisor of %d or of %d)" $subSize $size $size (sub $size 1)) -}}
{{- else if eq $group.subGroup.type "LeaderExcluded" -}}
{{- if ne (mod (sub $size 1) $subSize) 0 -}}
{{- $problems = append $problems (printf "group.subGroup.size: %d must divide group.size - 1 (%d) when group.subGroup.type is LeaderExcluded (use a divisor of %d)" $subSize (sub $size 1) (sub $size 1)) -}}
{{- end -}}
{{- else if and (ne (mod $size $subSize) 0) (ne (mod (sub $size 1) $subSize) 0) -}}
{{- $problems = append $problems (printf "group.subGroup.size: %d must divide group.size (%d) or group.size - 1 (%d) (LWS rejects it otherwise)" $subSize $size (sub $size 1)) -}}
{{- end -}}
{{- end -}}
{{- if and $group.subGroupExclusiveTopology (eq $subSize 0) -}}
{{- $problems = append $problems "group.subGroupExclusiveTopology: needs group.subGroup.size (set a subgroup size, or remove the topology key)" -}}
{{- end -}}
{{- if and (gt $size 1) (eq $group.restartPolicy "None") -}}
{{- $problems = append $problems (printf "group.restartPolicy: None keeps a %d-pod group running after one rank fails, and the engine cannot heal a missing rank (use RecreateGroupOnPodRestart, RecreateGroupAfterStart, or leave it empty)" $size) -}}
{{- end -}}
{{- if and (gt $size 1) (eq $group.startupPolicy "LeaderReady") (ne $values.engine.name "custom") -}}
{{- $problems = append $problems (printf "group.startupPolicy: LeaderReady deadlocks a %s group: the leader becomes ready only after the workers join, and LWS creates the workers only after the leader is ready (use LeaderCreated)" $values.engine.name) -}}
{{- end -}}
{{- toYaml $problems -}}
{{- end -}}

{{- define "lws-inference.validateRollout" -}}
{{- $values := .Values -}}
{{- $rollout := fromYaml (include "lws-inference.rollout" .) -}}
{{- $problems := list -}}
{{- if and (gt (int $values.replicas) 0) (eq (int $rollout.resolvedMaxUnavailable) 0) (eq (int $rollout.resolvedMaxSurge) 0) -}}
{{- $problems = append $problems (printf "rollout.maxUnavailable: maxUnavailable (%v) and maxSurge (%v) both resolve to 0 with %d replicas, so a rolling update can never start (set rollout.maxUnavailable to 1, or rollout.maxSurge to 1 if spare GPUs for a whole group exist)" $rollout.maxUnavailable $rollout.maxSurge (int $values.replicas)) -}}
{{- end -}}
{{- toYaml $problems -}}
{{- end -}}

{{/*
Names in env that the chart or LWS sets. The fabric and storage names are refused whether or
not the current values render them, so that switching fabric.type or storage.type never makes
a user's value silently win over or lose to the chart's.
*/}}
{{- define "lws-inference.managedEnv" -}}
launch: [LWS_LEADER_ADDRESS, LWS_GROUP_SIZE, LWS_WORKER_INDEX, VLLM_HOST_IP, POD_IP, LMDEPLOY_EXECUTOR_BACKEND]
fabric: [NCCL_SOCKET_IFNAME, GLOO_SOCKET_IFNAME, NCCL_IB_DISABLE, NCCL_IB_HCA, NCCL_IB_GID_INDEX, NVSHMEM_IB_GID_INDEX, NCCL_DEBUG]
storage: [HF_HOME, HF_HUB_OFFLINE, MODELSCOPE_CACHE, SGLANG_USE_MODELSCOPE, VLLM_USE_MODELSCOPE, LMDEPLOY_USE_MODELSCOPE]
{{- end -}}

{{- define "lws-inference.validateEnv" -}}
{{- $values := .Values -}}
{{- $problems := list -}}
{{- $managed := fromYaml (include "lws-inference.managedEnv" .) -}}
{{- $fixes := dict "launch" "remove it from env" "fabric" "remove it from env and use the fabric values (fabric.socketIfname, fabric.ncclDebug, fabric.rdma.hca, fabric.roce.gidIndex), or fabric.type custom with fabric.custom.env" "storage" "remove it from env and use the storage.* values" -}}
{{- $secrets := list "HF_TOKEN" "HUGGING_FACE_HUB_TOKEN" "HUGGINGFACE_HUB_TOKEN" "MODELSCOPE_API_TOKEN" -}}
{{- range $name := keys ($values.env | default dict) | sortAlpha -}}
{{- if has $name $secrets -}}
{{- $problems = append $problems (printf "env.%s: a token must not be written into values (store it in a Secret and set huggingface.tokenSecret.name)" $name) -}}
{{- else -}}
{{- range $area := list "launch" "fabric" "storage" -}}
{{- if has $name (get $managed $area) -}}
{{- $problems = append $problems (printf "env.%s: is set by the chart or by LWS (%s)" $name (get $fixes $area)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $problems -}}
{{- end -}}

{{- define "lws-inference.validateFabric" -}}
{{- $values := .Values -}}
{{- $fabric := $values.fabric -}}
{{- $problems := list -}}
{{- $managed := fromYaml (include "lws-inference.managedEnv" .) -}}
{{- $custom := $fabric.custom -}}
{{- if ne $fabric.type "custom" -}}
{{- range $key := list "env" "resources" "annotations" -}}
{{- if get $custom $key -}}
{{- $problems = append $problems (printf "fabric.custom.%s: is used only with fabric.type custom, but fabric.type is %s (set fabric.type to custom, or remove it)" $key $fabric.type) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $chartNames := concat $managed.launch $managed.storage (list "NCCL_SOCKET_IFNAME" "GLOO_SOCKET_IFNAME" "NCCL_DEBUG" "HF_TOKEN") -}}
{{- range $name := keys ($custom.env | default dict) | sortAlpha -}}
{{- if has $name $chartNames -}}
{{- $problems = append $problems (printf "fabric.custom.env.%s: is set by the chart (remove it; use fabric.socketIfname, fabric.ncclDebug or the storage values)" $name) -}}
{{- else if hasKey ($values.env | default dict) $name -}}
{{- $problems = append $problems (printf "fabric.custom.env.%s: is also set in env (keep one of them)" $name) -}}
{{- end -}}
{{- end -}}
{{- range $name := keys ($custom.resources | default dict) | sortAlpha -}}
{{- if or (eq $name $values.accelerator.resourceName) (hasKey ($values.resources.requests | default dict) $name) (hasKey ($values.resources.limits | default dict) $name) -}}
{{- $problems = append $problems (printf "fabric.custom.resources.%s: is also requested by accelerator.resourceName or resources (keep one of them)" $name) -}}
{{- end -}}
{{- end -}}
{{- if include "lws-inference.rdmaEnabled" . -}}
{{- $name := $fabric.rdma.resourceName -}}
{{- if or (eq $name $values.accelerator.resourceName) (hasKey ($values.resources.requests | default dict) $name) (hasKey ($values.resources.limits | default dict) $name) -}}
{{- $problems = append $problems (printf "fabric.rdma.resourceName: %s is also requested by accelerator.resourceName or resources (remove it from resources; fabric.rdma.count sets the count)" $name) -}}
{{- end -}}
{{- end -}}
{{- $fabricAnnotations := fromYaml (include "lws-inference.fabricAnnotations" .) -}}
{{- range $key := keys $fabricAnnotations | sortAlpha -}}
{{- if hasKey ($values.podAnnotations | default dict) $key -}}
{{- $problems = append $problems (printf "podAnnotations.%s: is also set by fabric.networks or fabric.custom.annotations (keep one of them)" $key) -}}
{{- end -}}
{{- end -}}
{{- toYaml $problems -}}
{{- end -}}

{{- define "lws-inference.validateStorage" -}}
{{- $values := .Values -}}
{{- $storage := $values.storage -}}
{{- $problems := list -}}
{{- if and (include "lws-inference.storageDownloads" .) (hasPrefix "/" $values.model.id) -}}
{{- $problems = append $problems (printf "model.id: %s is a path, but storage.type %s downloads a hub id (give the hub id, e.g. org/model, or use storage.type pvc for weights already on a volume)" $values.model.id $storage.type) -}}
{{- end -}}
{{- if and (eq $storage.type "pvc") (not $storage.pvc.claimName) -}}
{{- $problems = append $problems "storage.pvc.claimName: is required when storage.type is pvc (name the existing PVC that holds the weights)" -}}
{{- end -}}
{{- if and (eq $storage.type "image") (not $storage.image.reference) -}}
{{- $problems = append $problems "storage.image.reference: is required when storage.type is image (give the OCI image that holds the weights)" -}}
{{- end -}}
{{- if eq $storage.source "modelscope" -}}
{{- if ne $storage.type "hub" -}}
{{- $problems = append $problems (printf "storage.source: modelscope works only with storage.type hub, but it is %s; the %s download uses huggingface_hub (use storage.type hub, or source huggingface)" $storage.type $storage.type) -}}
{{- else if eq $values.engine.name "custom" -}}
{{- $problems = append $problems "storage.source: modelscope needs a built-in engine's ModelScope switch, and engine.name is custom (set your image's switch in env and use source huggingface)" -}}
{{- end -}}
{{- end -}}
{{- range $volume := $values.volumes | default list -}}
{{- if has $volume.name (list "dshm" "model-cache" "models") -}}
{{- $problems = append $problems (printf "volumes: the name %s is used by the chart (rename the volume)" $volume.name) -}}
{{- end -}}
{{- end -}}
{{- toYaml $problems -}}
{{- end -}}

{{- define "lws-inference.validatePlacement" -}}
{{- $values := .Values -}}
{{- $scheduling := $values.scheduling -}}
{{- $problems := list -}}
{{- if and $scheduling.volcano.enabled $values.schedulerName (ne $values.schedulerName "volcano") -}}
{{- $problems = append $problems (printf "schedulerName: %s conflicts with scheduling.volcano.enabled, which schedules with volcano (leave schedulerName empty)" $values.schedulerName) -}}
{{- end -}}
{{- if and $scheduling.volcano.queue (not $scheduling.volcano.enabled) -}}
{{- $problems = append $problems "scheduling.volcano.queue: has no effect without scheduling.volcano.enabled (set it to true, or remove the queue)" -}}
{{- end -}}
{{- if and $scheduling.volcano.queue (hasKey ($values.lwsAnnotations | default dict) "scheduling.volcano.sh/queue-name") -}}
{{- $problems = append $problems "lwsAnnotations.scheduling.volcano.sh/queue-name: is also set by scheduling.volcano.queue (keep only scheduling.volcano.queue)" -}}
{{- end -}}
{{- if and $scheduling.kueue.queueName (hasKey ($values.lwsLabels | default dict) "kueue.x-k8s.io/queue-name") -}}
{{- $problems = append $problems "lwsLabels.kueue.x-k8s.io/queue-name: is also set by scheduling.kueue.queueName (keep only scheduling.kueue.queueName)" -}}
{{- end -}}
{{- toYaml $problems -}}
{{- end -}}

{{- define "lws-inference.validateAutoscaling" -}}
{{- $autoscaling := .Values.autoscaling -}}
{{- $problems := list -}}
{{- if $autoscaling.enabled -}}
{{- $min := int $autoscaling.minReplicas -}}
{{- $max := int $autoscaling.maxReplicas -}}
{{- if gt $min $max -}}
{{- $problems = append $problems (printf "autoscaling.minReplicas: %d is above autoscaling.maxReplicas (%d) (lower minReplicas or raise maxReplicas)" $min $max) -}}
{{- end -}}
{{- if eq $autoscaling.kind "hpa" -}}
{{- if lt $min 1 -}}
{{- $problems = append $problems "autoscaling.minReplicas: a HorizontalPodAutoscaler needs at least 1 (use 1, or autoscaling.kind keda to scale to zero)" -}}
{{- end -}}
{{- $cpu := int $autoscaling.targetCPUUtilizationPercentage -}}
{{- if and (eq $cpu 0) (not $autoscaling.podsMetric.name) -}}
{{- $problems = append $problems "autoscaling.targetCPUUtilizationPercentage: the HorizontalPodAutoscaler has no metric (set it, or autoscaling.podsMetric.name and averageValue)" -}}
{{- end -}}
{{- if and (gt $cpu 0) (not (hasKey (.Values.resources.requests | default dict) "cpu")) -}}
{{- $problems = append $problems "autoscaling.targetCPUUtilizationPercentage: CPU utilization is measured against resources.requests.cpu, which is not set (set resources.requests.cpu)" -}}
{{- end -}}
{{- if and $autoscaling.podsMetric.name (not (toString $autoscaling.podsMetric.averageValue)) -}}
{{- $problems = append $problems "autoscaling.podsMetric.averageValue: is required with autoscaling.podsMetric.name (set the target value per leader pod, e.g. \"5\")" -}}
{{- end -}}
{{- else -}}
{{- $prometheus := $autoscaling.keda.prometheus -}}
{{- range $key := list "serverAddress" "query" "threshold" -}}
{{- if not (toString (get $prometheus $key)) -}}
{{- $problems = append $problems (printf "autoscaling.keda.prometheus.%s: is required when autoscaling.kind is keda" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml $problems -}}
{{- end -}}

{{- define "lws-inference.validateMonitoring" -}}
{{- $problems := list -}}
{{- if and .Values.monitoring.serviceMonitor.enabled (not .Values.leadersService.enabled) -}}
{{- $problems = append $problems "monitoring.serviceMonitor.enabled: the ServiceMonitor scrapes through the leaders Service (set leadersService.enabled to true, or use monitoring.podMonitor)" -}}
{{- end -}}
{{- if and .Values.monitoring.serviceMonitor.enabled .Values.monitoring.podMonitor.enabled -}}
{{- $problems = append $problems "monitoring.podMonitor.enabled: with monitoring.serviceMonitor.enabled every leader would be scraped twice (enable one of them)" -}}
{{- end -}}
{{- toYaml $problems -}}
{{- end -}}
