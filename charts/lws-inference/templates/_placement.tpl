{{/*
Scheduling and placement of the pods. Kueue and Volcano read their queue from the
LeaderWorkerSet's own metadata (see leaderworkerset.yaml); the pod side is here.
*/}}

{{/* Scheduler of the pods: volcano with scheduling.volcano.enabled, else schedulerName. */}}
{{- define "lws-inference.schedulerName" -}}
{{- if .Values.scheduling.volcano.enabled -}}
volcano
{{- else -}}
{{- .Values.schedulerName -}}
{{- end -}}
{{- end -}}

{{/*
Affinity of one role, called with (dict "root" $ "role" ...): the user's affinity, plus on
leader pods with placement.spreadGroups a pod anti-affinity term against the other leaders of
this LeaderWorkerSet on kubernetes.io/hostname. LWS labels every leader with
leaderworkerset.sigs.k8s.io/worker-index "0" and the LWS name.
*/}}
{{- define "lws-inference.affinity" -}}
{{- $root := .root -}}
{{- $affinity := deepCopy ($root.Values.affinity | default dict) -}}
{{- $spread := $root.Values.placement.spreadGroups -}}
{{- if and $spread (eq .role "leader") -}}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (dict "leaderworkerset.sigs.k8s.io/name" (include "lws-inference.fullname" $root) "leaderworkerset.sigs.k8s.io/worker-index" "0")) -}}
{{- $anti := get $affinity "podAntiAffinity" | default dict -}}
{{- if eq $spread "required" -}}
{{- $terms := get $anti "requiredDuringSchedulingIgnoredDuringExecution" | default list -}}
{{- $_ := set $anti "requiredDuringSchedulingIgnoredDuringExecution" (append $terms $term) -}}
{{- else -}}
{{- $terms := get $anti "preferredDuringSchedulingIgnoredDuringExecution" | default list -}}
{{- $_ := set $anti "preferredDuringSchedulingIgnoredDuringExecution" (append $terms (dict "weight" 100 "podAffinityTerm" $term)) -}}
{{- end -}}
{{- $_ := set $affinity "podAntiAffinity" $anti -}}
{{- end -}}
{{- if $affinity -}}
{{- toYaml $affinity -}}
{{- end -}}
{{- end -}}
