{{/*
Names. Every object name is derived from one base name so the LeaderWorkerSet and the
Services stay recognisable as one release.

The LeaderWorkerSet name has the tightest limit. LWS names the worker StatefulSet of group
<g> `<lws>-<g>`, and the StatefulSet controller labels each worker pod with
`controller-revision-hash: <lws>-<g>-<hash of up to 10 characters>`, a label value limited to
63 characters. So the name may use 63 - 12 - digits(highest group index) characters. The
highest group index counts surge groups, which LWS adds above spec.replicas during a rolling
update, and autoscaling.maxReplicas when an autoscaler owns replicas. At least two digits are
reserved, so scaling between 1 and 100 groups never renames the object.
*/}}

{{/* Chart name and version for the helm.sh/chart label. */}}
{{- define "lws-inference.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "lws-inference.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Highest group index LWS may create, surge groups included. */}}
{{- define "lws-inference.maxGroupIndex" -}}
{{- $replicas := int (include "lws-inference.replicasUpperBound" .) -}}
{{- $surge := int (include "lws-inference.maxSurgeGroups" .) -}}
{{- max (sub (add $replicas $surge) 1) 99 -}}
{{- end -}}

{{- define "lws-inference.replicasUpperBound" -}}
{{- $replicas := int .Values.replicas -}}
{{- $autoscaling := .Values.autoscaling | default dict -}}
{{- if $autoscaling.enabled -}}
{{- $replicas = max $replicas (int $autoscaling.maxReplicas) -}}
{{- end -}}
{{- $replicas -}}
{{- end -}}

{{/* Maximum character count of the LeaderWorkerSet name. */}}
{{- define "lws-inference.nameLimit" -}}
{{- $digits := len (toString (include "lws-inference.maxGroupIndex" .)) -}}
{{- sub 51 $digits -}}
{{- end -}}

{{/*
Base name: fullnameOverride, or the release name. It is lower-cased, characters outside
[a-z0-9-] become "-", a name that does not start with a letter gets the prefix "lws-" (DNS-1035),
and a name over the limit is cut and given a stable 6-character hash of the full name.
*/}}
{{- define "lws-inference.fullname" -}}
{{- $raw := default .Release.Name .Values.fullnameOverride | lower -}}
{{- $name := regexReplaceAll "[^a-z0-9-]+" $raw "-" | trimAll "-" -}}
{{- if not (regexMatch "^[a-z]" $name) -}}
{{- $name = printf "lws-%s" $name -}}
{{- end -}}
{{- $limit := int (include "lws-inference.nameLimit" .) -}}
{{- if gt (len $name) $limit -}}
{{- $cut := regexReplaceAll "-+$" (trunc (int (sub $limit 7)) $name) "" -}}
{{- $name = printf "%s-%s" $cut (sha256sum $raw | trunc 6) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{- define "lws-inference.apiServiceName" -}}
{{- printf "%s-api" (include "lws-inference.fullname" .) -}}
{{- end -}}

{{- define "lws-inference.leadersServiceName" -}}
{{- printf "%s-leaders" (include "lws-inference.fullname" .) -}}
{{- end -}}

{{/*
A label value made from a free-form string such as a model id: characters outside
[A-Za-z0-9_.-] become "_", and values over 63 characters are cut and given a hash suffix.
Label values must start and end with an alphanumeric character.
*/}}
{{- define "lws-inference.labelValue" -}}
{{- $value := regexReplaceAll "[^A-Za-z0-9_.-]" . "_" -}}
{{- if gt (len $value) 63 -}}
{{- $value = printf "%s-%s" (trunc 56 $value) (sha256sum . | trunc 6) -}}
{{- end -}}
{{- regexReplaceAll "^[^A-Za-z0-9]+|[^A-Za-z0-9]+$" $value "" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "lws-inference.labels" -}}
helm.sh/chart: {{ include "lws-inference.chart" . }}
{{ include "lws-inference.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels that identify the release. Never user labels, never the model id. */}}
{{- define "lws-inference.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lws-inference.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
Selector for leader pods. LWS sets both labels on every pod of the set; worker-index 0 is the
leader of each group.
*/}}
{{- define "lws-inference.leaderSelector" -}}
leaderworkerset.sigs.k8s.io/name: {{ include "lws-inference.fullname" . }}
leaderworkerset.sigs.k8s.io/worker-index: "0"
{{- end -}}
