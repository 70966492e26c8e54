{{/*
Network fabric of a group. Every helper here takes the root context and renders the same
result for the leader and the workers: NCCL runs one communicator over all ranks, and a rank
with another transport or interface than the rest hangs the whole group or falls back to TCP.
*/}}

{{/* "true" when the fabric uses RDMA (infiniband or roce), else empty. */}}
{{- define "lws-inference.rdmaEnabled" -}}
{{- if has .Values.fabric.type (list "infiniband" "roce") -}}
true
{{- end -}}
{{- end -}}

{{/*
Interface of NCCL's and Gloo's socket traffic: fabric.socketIfname, else eth0 (the pod network's
interface) unless the pod uses the host network, whose interface names the chart cannot know.
*/}}
{{- define "lws-inference.socketIfname" -}}
{{- if .Values.fabric.socketIfname -}}
{{- .Values.fabric.socketIfname -}}
{{- else if not .Values.fabric.hostNetwork -}}
eth0
{{- end -}}
{{- end -}}

{{/*
Environment of the fabric as a YAML list of name/value pairs. tcp sets NCCL_IB_DISABLE=1 so
that NCCL never tries an RDMA adapter it can see but cannot use (for example with hostNetwork,
where the pod sees the node's adapters but has no RDMA device or locked-memory allowance).
infiniband and roce set NCCL_IB_DISABLE=0 so that an image default cannot turn RDMA off
without notice. custom sets only the user's variables.
*/}}
{{- define "lws-inference.fabricEnv" -}}
{{- $fabric := .Values.fabric -}}
{{- $env := list -}}
{{- with include "lws-inference.socketIfname" . -}}
{{- $env = append $env (dict "name" "NCCL_SOCKET_IFNAME" "value" .) -}}
{{- $env = append $env (dict "name" "GLOO_SOCKET_IFNAME" "value" .) -}}
{{- end -}}
{{- if eq $fabric.type "tcp" -}}
{{- $env = append $env (dict "name" "NCCL_IB_DISABLE" "value" "1") -}}
{{- else if include "lws-inference.rdmaEnabled" . -}}
{{- $env = append $env (dict "name" "NCCL_IB_DISABLE" "value" "0") -}}
{{- with $fabric.rdma.hca -}}
{{- $env = append $env (dict "name" "NCCL_IB_HCA" "value" .) -}}
{{- end -}}
{{- if eq $fabric.type "roce" -}}
{{- $gid := toString (int $fabric.roce.gidIndex) -}}
{{- $env = append $env (dict "name" "NCCL_IB_GID_INDEX" "value" $gid) -}}
{{- $env = append $env (dict "name" "NVSHMEM_IB_GID_INDEX" "value" $gid) -}}
{{- end -}}
{{- else -}}
{{- range $name, $value := $fabric.custom.env -}}
{{- $env = append $env (dict "name" $name "value" (include "lws-inference.scalar" $value)) -}}
{{- end -}}
{{- end -}}
{{- with $fabric.ncclDebug -}}
{{- $env = append $env (dict "name" "NCCL_DEBUG" "value" .) -}}
{{- end -}}
{{- if $env -}}
{{- toYaml $env -}}
{{- end -}}
{{- end -}}

{{/* Extended resources of the fabric per pod, as a YAML map of name to count. */}}
{{- define "lws-inference.fabricResources" -}}
{{- $fabric := .Values.fabric -}}
{{- $resources := dict -}}
{{- if include "lws-inference.rdmaEnabled" . -}}
{{- $_ := set $resources $fabric.rdma.resourceName (int $fabric.rdma.count) -}}
{{- else if eq $fabric.type "custom" -}}
{{- $resources = deepCopy ($fabric.custom.resources | default dict) -}}
{{- end -}}
{{- toYaml $resources -}}
{{- end -}}

{{/* Pod annotations of the fabric: the Multus networks and the custom fabric's annotations. */}}
{{- define "lws-inference.fabricAnnotations" -}}
{{- $fabric := .Values.fabric -}}
{{- $annotations := dict -}}
{{- if eq $fabric.type "custom" -}}
{{- $annotations = deepCopy ($fabric.custom.annotations | default dict) -}}
{{- end -}}
{{- with $fabric.networks -}}
{{- $_ := set $annotations "k8s.v1.cni.cncf.io/networks" . -}}
{{- end -}}
{{- toYaml $annotations -}}
{{- end -}}

{{/*
Container securityContext: the user's, with IPC_LOCK added to capabilities.add when RDMA is on.
RDMA registers (pins) memory with the adapter, which needs the capability to lock memory.
*/}}
{{- define "lws-inference.securityContext" -}}
{{- $context := deepCopy (.Values.securityContext | default dict) -}}
{{- if include "lws-inference.rdmaEnabled" . -}}
{{- $capabilities := get $context "capabilities" | default dict -}}
{{- $add := get $capabilities "add" | default list -}}
{{- if not (has "IPC_LOCK" $add) -}}
{{- $add = append $add "IPC_LOCK" -}}
{{- end -}}
{{- $_ := set $capabilities "add" $add -}}
{{- $_ := set $context "capabilities" $capabilities -}}
{{- end -}}
{{- if $context -}}
{{- toYaml $context -}}
{{- end -}}
{{- end -}}
