{{/*
Pod template for one role of the group, called with (dict "root" $ "role" "leader"|"worker").
Leader and worker share everything except the launch command, the container port and the
probes: only the leader serves HTTP.
*/}}
{{- define "lws-inference.podTemplate" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $role := .role -}}
{{- $engine := fromYaml (include "lws-inference.engine" $root) -}}
{{- $launch := fromYaml (include (printf "lws-inference.engine.%s.launch" $values.engine.name) .) -}}
metadata:
  labels:
    {{- include "lws-inference.selectorLabels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ $role }}
    lws-inference/engine: {{ $values.engine.name }}
    lws-inference/model: {{ include "lws-inference.labelValue" $values.model.id | quote }}
    {{- with $values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    lws-inference/model-id: {{ $values.model.id | quote }}
    {{- with fromYaml (include "lws-inference.fabricAnnotations" $root) }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with $values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- with $values.serviceAccountName }}
  serviceAccountName: {{ . }}
  {{- end }}
  {{- with $values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with include "lws-inference.schedulerName" $root }}
  schedulerName: {{ . }}
  {{- end }}
  {{- if $values.fabric.hostNetwork }}
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  {{- end }}
  {{- with $values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  terminationGracePeriodSeconds: {{ int $values.terminationGracePeriodSeconds }}
  {{- $nodeSelector := deepCopy ($values.nodeSelector | default dict) }}
  {{- with $values.accelerator.product }}
  {{- $_ := set $nodeSelector "nvidia.com/gpu.product" . }}
  {{- end }}
  {{- with $nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with include "lws-inference.affinity" . }}
  affinity:
    {{- . | nindent 4 }}
  {{- end }}
  {{- if include "lws-inference.storageDownloads" $root }}
  initContainers:
    {{- include "lws-inference.storageInitContainer" . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ $values.engine.name }}
      image: {{ printf "%s:%s" $engine.repository $engine.tag | quote }}
      imagePullPolicy: {{ $values.engine.image.pullPolicy }}
      {{- with $launch.command }}
      command:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $launch.args }}
      args:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with include "lws-inference.env" . | trim }}
      env:
        {{- . | nindent 8 }}
      {{- end }}
      {{- if eq $role "leader" }}
      ports:
        - name: http
          containerPort: {{ $engine.port }}
          protocol: TCP
      {{- include "lws-inference.leaderProbes" $root | trim | nindent 6 }}
      {{- end }}
      resources:
        {{- include "lws-inference.resources" $root | nindent 8 }}
      {{- with include "lws-inference.securityContext" $root }}
      securityContext:
        {{- . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: dshm
          mountPath: /dev/shm
        {{- include "lws-inference.storageMount" $root | trim | nindent 8 }}
        {{- with $values.volumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: dshm
      emptyDir:
        medium: Memory
        sizeLimit: {{ include "lws-inference.shmSize" $root }}
    {{- include "lws-inference.storageVolumes" $root | trim | nindent 4 }}
    {{- with $values.volumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/*
Container env: the variables the launch needs, the fabric's and the storage's variables (the
same on every rank), the Hugging Face token from an existing Secret, then env in sorted order.
Every value is a string, so YAML booleans and numbers in values (true, 8000) render as "true"
and "8000".
*/}}
{{- define "lws-inference.env" -}}
{{- $values := .root.Values -}}
{{- $multiPod := gt (int $values.group.size) 1 -}}
{{- if eq $values.engine.name "vllm" }}
- name: VLLM_HOST_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- end }}
{{- if and $multiPod (eq $values.engine.name "lmdeploy") }}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: LMDEPLOY_EXECUTOR_BACKEND
  value: "ray"
{{- end }}
{{- with include "lws-inference.fabricEnv" .root }}
{{ . }}
{{- end }}
{{- with include "lws-inference.storageEnv" .root }}
{{ . }}
{{- end }}
{{- with $values.huggingface.tokenSecret.name }}
- name: HF_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $values.huggingface.tokenSecret.key }}
{{- end }}
{{- range $name, $value := $values.env }}
- name: {{ $name }}
  value: {{ include "lws-inference.scalar" $value | quote }}
{{- end }}
{{- end -}}

{{/*
Resources: the accelerator count and the fabric's devices in both requests and limits
(extended resources cannot be overcommitted), plus resources.requests and resources.limits.
*/}}
{{- define "lws-inference.resources" -}}
{{- $values := .Values -}}
{{- $requests := deepCopy ($values.resources.requests | default dict) -}}
{{- $limits := deepCopy ($values.resources.limits | default dict) -}}
{{- range $name, $count := fromYaml (include "lws-inference.fabricResources" .) -}}
{{- $_ := set $requests $name $count -}}
{{- $_ := set $limits $name $count -}}
{{- end -}}
{{- if gt (int $values.accelerator.countPerPod) 0 -}}
{{- $_ := set $requests $values.accelerator.resourceName (int $values.accelerator.countPerPod) -}}
{{- $_ := set $limits $values.accelerator.resourceName (int $values.accelerator.countPerPod) -}}
{{- end -}}
requests:
  {{- range $name, $quantity := $requests }}
  {{ $name }}: {{ include "lws-inference.quantity" $quantity }}
  {{- end }}
limits:
  {{- range $name, $quantity := $limits }}
  {{ $name }}: {{ include "lws-inference.quantity" $quantity }}
  {{- end }}
{{- end -}}

{{/* A resource quantity: integers unquoted, strings such as 16Gi quoted. */}}
{{- define "lws-inference.quantity" -}}
{{- if kindIs "string" . -}}
{{- quote . -}}
{{- else -}}
{{- include "lws-inference.scalar" . -}}
{{- end -}}
{{- end -}}

{{/*
Leader probes. The startup probe gives the model time to download and load (its budget grows
with model.checkpointGiB). Readiness checks the engine's health endpoint. Liveness is a TCP
check on the HTTP port: it only fails when the server process stops answering at all, so a
long request or a slow health check under load never restarts the group.
*/}}
{{- define "lws-inference.leaderProbes" -}}
{{- $probes := .Values.probes -}}
{{- $engine := fromYaml (include "lws-inference.engine" .) -}}
{{- if $probes.startup.enabled }}
{{- $period := int $probes.startup.periodSeconds }}
{{- $budget := int (include "lws-inference.startupBudgetSeconds" .) }}
startupProbe:
  httpGet:
    path: {{ $engine.healthPath }}
    port: http
  periodSeconds: {{ $period }}
  timeoutSeconds: {{ int $probes.startup.timeoutSeconds }}
  failureThreshold: {{ div (add $budget (sub $period 1)) $period }}
{{- end }}
{{- if $probes.readiness.enabled }}
readinessProbe:
  httpGet:
    path: {{ $engine.healthPath }}
    port: http
  periodSeconds: {{ int $probes.readiness.periodSeconds }}
  timeoutSeconds: {{ int $probes.readiness.timeoutSeconds }}
  failureThreshold: {{ int $probes.readiness.failureThreshold }}
{{- end }}
{{- if $probes.liveness.enabled }}
livenessProbe:
  tcpSocket:
    port: http
  periodSeconds: {{ int $probes.liveness.periodSeconds }}
  timeoutSeconds: {{ int $probes.liveness.timeoutSeconds }}
  failureThreshold: {{ int $probes.liveness.failureThreshold }}
{{- end }}
{{- end -}}
