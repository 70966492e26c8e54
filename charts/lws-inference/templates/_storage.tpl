{{/*
Model storage: where the engine reads the weights, the volume behind it, and the init
container that downloads them for sharedPVC and hostPath. Every helper takes the root context.
*/}}

{{/* Revision that sharedPVC and hostPath download: storage.revision, or main. */}}
{{- define "lws-inference.storageRevision" -}}
{{- .Values.storage.revision | default "main" -}}
{{- end -}}

{{/*
Name of the completion marker and lock of one model id and revision, with every / replaced by
--, e.g. deepseek-ai--DeepSeek-V3@main. A change of either downloads into a new directory.
*/}}
{{- define "lws-inference.storageKey" -}}
{{- printf "%s@%s" (.Values.model.id | replace "/" "--") (include "lws-inference.storageRevision" . | replace "/" "--") -}}
{{- end -}}

{{/* "true" when an init container downloads the weights (sharedPVC and hostPath), else empty. */}}
{{- define "lws-inference.storageDownloads" -}}
{{- if has .Values.storage.type (list "sharedPVC" "hostPath") -}}
true
{{- end -}}
{{- end -}}

{{/*
Model argument of the engine: the hub id for hub; the downloaded directory for sharedPVC and
hostPath; for pvc and image, storage.modelPath, else model.id when it is an absolute path, else
storage.mountPath/model.id.
*/}}
{{- define "lws-inference.modelPath" -}}
{{- $storage := .Values.storage -}}
{{- $mount := trimSuffix "/" $storage.mountPath -}}
{{- if eq $storage.type "hub" -}}
{{- .Values.model.id -}}
{{- else if include "lws-inference.storageDownloads" . -}}
{{- printf "%s/%s/%s" $mount .Values.model.id (include "lws-inference.storageRevision" . | replace "/" "--") -}}
{{- else if $storage.modelPath -}}
{{- $storage.modelPath -}}
{{- else if hasPrefix "/" .Values.model.id -}}
{{- .Values.model.id -}}
{{- else -}}
{{- printf "%s/%s" $mount .Values.model.id -}}
{{- end -}}
{{- end -}}

{{/* Claim of the shared PVC: storage.sharedPVC.claimName, else <fullname>-models. */}}
{{- define "lws-inference.sharedClaimName" -}}
{{- .Values.storage.sharedPVC.claimName | default (printf "%s-models" (include "lws-inference.fullname" .)) -}}
{{- end -}}

{{/*
Storage environment of the engine container as a YAML list. hub points HF_HOME (and
MODELSCOPE_CACHE) into the cache volume and sets the engine's ModelScope switch for source
modelscope. Every other type reads local files, so HF_HUB_OFFLINE=1 keeps the engine from
contacting the hub at all.
*/}}
{{- define "lws-inference.storageEnv" -}}
{{- $storage := .Values.storage -}}
{{- $env := list -}}
{{- if eq $storage.type "hub" -}}
{{- $cache := trimSuffix "/" $storage.hub.cachePath -}}
{{- $env = append $env (dict "name" "HF_HOME" "value" (printf "%s/huggingface" $cache)) -}}
{{- if eq $storage.source "modelscope" -}}
{{- $switches := dict "sglang" "SGLANG_USE_MODELSCOPE" "vllm" "VLLM_USE_MODELSCOPE" "lmdeploy" "LMDEPLOY_USE_MODELSCOPE" -}}
{{- with get $switches .Values.engine.name -}}
{{- $env = append $env (dict "name" . "value" "true") -}}
{{- end -}}
{{- $env = append $env (dict "name" "MODELSCOPE_CACHE" "value" (printf "%s/modelscope" $cache)) -}}
{{- end -}}
{{- else -}}
{{- $env = append $env (dict "name" "HF_HUB_OFFLINE" "value" "1") -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}

{{/* The model volume of the pod, as a one-item YAML list. */}}
{{- define "lws-inference.storageVolumes" -}}
{{- $storage := .Values.storage -}}
{{- if eq $storage.type "hub" }}
- name: model-cache
  emptyDir:
    {{- with $storage.hub.sizeLimit }}
    sizeLimit: {{ include "lws-inference.quantity" . }}
    {{- else }} {}
    {{- end }}
{{- else if eq $storage.type "sharedPVC" }}
- name: models
  persistentVolumeClaim:
    claimName: {{ include "lws-inference.sharedClaimName" . }}
{{- else if eq $storage.type "hostPath" }}
- name: models
  hostPath:
    path: {{ $storage.hostPath.path | quote }}
    type: DirectoryOrCreate
{{- else if eq $storage.type "pvc" }}
- name: models
  persistentVolumeClaim:
    claimName: {{ $storage.pvc.claimName }}
    readOnly: true
{{- else if eq $storage.type "image" }}
- name: models
  image:
    reference: {{ $storage.image.reference | quote }}
    pullPolicy: {{ $storage.image.pullPolicy }}
{{- end }}
{{- end -}}

{{/* The model volume mount of the engine container; read-only unless the engine downloads. */}}
{{- define "lws-inference.storageMount" -}}
{{- if eq .Values.storage.type "hub" }}
- name: model-cache
  mountPath: {{ .Values.storage.hub.cachePath | quote }}
{{- else }}
- name: models
  mountPath: {{ .Values.storage.mountPath | quote }}
  readOnly: true
{{- end }}
{{- end -}}

{{/*
Init container that puts the weights on the model volume, called with (dict "root" $ "role" ...).
With sharedPVC the leader downloads and the workers wait for the leader's completion marker;
with hostPath every pod downloads into its node's directory unless the marker is there. It runs
the engine image, which has python3 and huggingface_hub, so no other image is pulled.
*/}}
{{- define "lws-inference.storageInitContainer" -}}
{{- $root := .root -}}
{{- $values := $root.Values -}}
{{- $storage := $values.storage -}}
{{- $engine := fromYaml (include "lws-inference.engine" $root) -}}
{{- $mount := trimSuffix "/" $storage.mountPath -}}
{{- $key := include "lws-inference.storageKey" $root -}}
{{- $mode := ternary "wait" "download" (and (eq $storage.type "sharedPVC") (eq .role "worker")) -}}
- name: {{ ternary "model-wait" "model-download" (eq $mode "wait") }}
  image: {{ printf "%s:%s" $engine.repository $engine.tag | quote }}
  imagePullPolicy: {{ $values.engine.image.pullPolicy }}
  command:
    - /bin/sh
    - -c
    - {{ include "lws-inference.script.modelDownload" $root | toYaml | indent 6 | trim }}
    - lws-inference
  args:
    - {{ $mode | quote }}
    - {{ $values.model.id | quote }}
    - {{ include "lws-inference.storageRevision" $root | quote }}
    - {{ include "lws-inference.modelPath" $root | quote }}
    - {{ printf "%s/.lws-inference/%s.complete" $mount $key | quote }}
    - {{ printf "%s/.lws-inference/%s.lock" $mount $key | quote }}
  {{- if and (eq $mode "download") $values.huggingface.tokenSecret.name }}
  env:
    - name: HF_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ $values.huggingface.tokenSecret.name }}
          key: {{ $values.huggingface.tokenSecret.key }}
  {{- end }}
  volumeMounts:
    - name: models
      mountPath: {{ $storage.mountPath | quote }}
{{- end -}}

{{/*
Download script, run as `/bin/sh -c <script> lws-inference MODE MODEL_ID REVISION MODEL_DIR
MARKER LOCK`. MODE wait polls for MARKER and never downloads. MODE download takes LOCK, calls
huggingface_hub.snapshot_download into MODEL_DIR and then writes MARKER.

The lock is a directory made with mkdir, which is atomic on local disks and on NFS, unlike
flock, which depends on the image shipping util-linux and on the file system's lock support.
The holder touches the directory every heartbeat; a lock whose heartbeat is older than
storage.lockStaleSeconds belongs to a pod that died, and the next pod moves it aside and takes
over. Like the launch wrappers, the script uses backquotes, never the $(...) form.
NOTE: two pods that find the same stale lock at once can both take it over, and then both
download into the same directory; snapshot_download writes each file atomically, so the result
is still complete.
*/}}
{{- define "lws-inference.script.modelDownload" -}}
{{- $stale := int .Values.storage.lockStaleSeconds -}}
set -u
mode=$1
model_id=$2
revision=$3
model_dir=$4
marker=$5
lock=$6
stale_seconds={{ $stale }}
heartbeat_seconds={{ max 1 (div $stale 5) }}
log() {
  echo "lws-inference: $*" >&2
}
if [ -f "$marker" ]; then
  log "$model_id@$revision is already complete in $model_dir"
  exit 0
fi
if [ "$mode" = wait ]; then
  log "waiting for the leader to download $model_id@$revision (marker $marker)"
  waited=0
  until [ -f "$marker" ]; do
    sleep 5
    waited=`expr "$waited" + 5`
    if [ "`expr "$waited" % 300`" -eq 0 ]; then
      log "still waiting for $marker after $waited s"
    fi
  done
  log "$model_id@$revision is complete in $model_dir"
  exit 0
fi
mkdir -p "$model_dir" "`dirname "$lock"`" || exit 1
age_seconds() {
  python3 -c 'import os, sys, time; print(int(time.time() - os.path.getmtime(sys.argv[1])))' "$1" 2>/dev/null || echo 0
}
until mkdir "$lock" 2>/dev/null; do
  if [ -f "$marker" ]; then
    log "$model_id@$revision was completed by another pod"
    exit 0
  fi
  age=`age_seconds "$lock"`
  if [ "$age" -ge "$stale_seconds" ]; then
    log "lock $lock has had no heartbeat for $age s; taking it over"
    mv "$lock" "$lock.stale.$$" 2>/dev/null && rm -rf "$lock.stale.$$"
    continue
  fi
  sleep 5
done
(
  while :; do
    touch "$lock"
    sleep "$heartbeat_seconds"
  done
) </dev/null >/dev/null 2>&1 &
heartbeat=$!
release() {
  kill "$heartbeat" 2>/dev/null
  rm -rf "$lock"
}
trap release EXIT
trap 'exit 1' INT TERM
if [ -f "$marker" ]; then
  log "$model_id@$revision was completed by another pod"
  exit 0
fi
log "downloading $model_id@$revision into $model_dir"
python3 -c 'import sys
from huggingface_hub import snapshot_download
snapshot_download(repo_id=sys.argv[1], revision=sys.argv[2], local_dir=sys.argv[3])' "$model_id" "$revision" "$model_dir" || {
  log "download of $model_id@$revision failed"
  exit 1
}
echo "$model_id@$revision" > "$marker.tmp" && mv "$marker.tmp" "$marker" || exit 1
log "downloaded $model_id@$revision into $model_dir"
{{- end -}}
