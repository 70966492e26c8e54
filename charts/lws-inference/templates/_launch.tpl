{{/*
Shell wrappers around the engine commands of multi-pod groups. Each wrapper runs as
`/bin/sh -c <script> lws-inference <engine argv...>` and ends with `exec "$@"`, so the engine
command stays in the container's args in exec form, where Kubernetes expands $(LWS_*).

The scripts avoid the `$(...)` form of command substitution (they use backquotes), because
Kubernetes would read `$(NAME)` in command and args as a variable reference.
*/}}

{{/*
Resolve the leader's DNS name, retrying until the deadline. LWS starts leader and workers
together (startupPolicy LeaderCreated), and the name only resolves once the leader pod has an
IP, so a worker that starts first must wait. The address from the lookup that succeeded is kept;
an empty address always ends the container with an error and never reaches the engine.
Argument: the wait in seconds.
*/}}
{{- define "lws-inference.script.resolveLeader" -}}
set -u
wait_seconds={{ int . }}
started=`date +%s`
if [ -z "${LWS_LEADER_ADDRESS:-}" ]; then
  echo "lws-inference: LWS_LEADER_ADDRESS is empty; is the LeaderWorkerSet controller's pod webhook running?" >&2
  exit 1
fi
resolve() {
  if command -v getent >/dev/null 2>&1; then
    getent hosts "$1" | awk 'NR == 1 { print $1 }'
  else
    python3 -c 'import socket, sys; print(socket.gethostbyname(sys.argv[1]))' "$1" 2>/dev/null
  fi
}
elapsed() {
  expr "`date +%s`" - "$started"
}
leader_ip=""
while [ -z "$leader_ip" ]; do
  leader_ip=`resolve "$LWS_LEADER_ADDRESS"`
  if [ -n "$leader_ip" ]; then
    break
  fi
  if [ "`elapsed`" -ge "$wait_seconds" ]; then
    echo "lws-inference: leader address $LWS_LEADER_ADDRESS did not resolve within $wait_seconds s; exiting so that LWS recreates the group" >&2
    exit 1
  fi
  sleep 2
done
echo "lws-inference: leader address $LWS_LEADER_ADDRESS resolved to $leader_ip" >&2
{{- end -}}

{{/*
Wait until the leader accepts TCP connections on the rendezvous port. Needs $leader_ip,
$wait_seconds and elapsed() from resolveLeader. Argument: the port.
*/}}
{{- define "lws-inference.script.waitForLeaderPort" -}}
until python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 3).close()' "$leader_ip" {{ int . }} 2>/dev/null; do
  if [ "`elapsed`" -ge "$wait_seconds" ]; then
    echo "lws-inference: leader $LWS_LEADER_ADDRESS ($leader_ip) did not open port {{ int . }} within $wait_seconds s; exiting so that LWS recreates the group" >&2
    exit 1
  fi
  sleep 2
done
echo "lws-inference: leader port {{ int . }} is open" >&2
{{- end -}}

{{/* Leader of an SGLang or native vLLM group: its own name must resolve before rank 0 binds. */}}
{{- define "lws-inference.script.leader" -}}
{{ include "lws-inference.script.resolveLeader" .wait }}
exec "$@"
{{- end -}}

{{/* Worker of an SGLang or native vLLM group: leader name, then the rendezvous port. */}}
{{- define "lws-inference.script.worker" -}}
{{ include "lws-inference.script.resolveLeader" .wait }}
{{ include "lws-inference.script.waitForLeaderPort" .port }}
exec "$@"
{{- end -}}

{{/*
Leader of a Ray group: start the Ray head on the pod IP, wait until every pod of the group has
joined (LWS_GROUP_SIZE Ray nodes alive), then start the server. Arguments: wait, port (Ray
port), ipVar (name of the env var holding the pod IP).
*/}}
{{- define "lws-inference.script.rayLeader" -}}
{{ include "lws-inference.script.resolveLeader" .wait }}
ray start --head --port={{ int .port }} --node-ip-address="${{ .ipVar }}" || exit 1
while :; do
  alive=`python3 -c 'import ray; ray.init(address="auto", logging_level="ERROR"); print(sum(1 for node in ray.nodes() if node["Alive"]))' 2>/dev/null | tail -n 1`
  if [ "${alive:-0}" -ge "$LWS_GROUP_SIZE" ] 2>/dev/null; then
    break
  fi
  if [ "`elapsed`" -ge "$wait_seconds" ]; then
    echo "lws-inference: ${alive:-0} of $LWS_GROUP_SIZE Ray nodes joined within $wait_seconds s; exiting so that LWS recreates the group" >&2
    exit 1
  fi
  sleep 5
done
echo "lws-inference: all $LWS_GROUP_SIZE Ray nodes joined" >&2
exec "$@"
{{- end -}}

{{/*
Worker of a Ray group: wait for the leader's Ray port, then join and block. When the Ray worker
stops, the container exits and LWS recreates the group.
*/}}
{{- define "lws-inference.script.rayWorker" -}}
{{ include "lws-inference.script.resolveLeader" .wait }}
{{ include "lws-inference.script.waitForLeaderPort" .port }}
exec "$@"
{{- end -}}

{{/*
command for a container: the wrapper when the group has more than one pod.
Arguments: root, script (template name), port, ipVar.
*/}}
{{- define "lws-inference.wrapperCommand" -}}
{{- $context := dict "wait" .root.Values.group.leaderWaitSeconds "port" .port "ipVar" (.ipVar | default "") -}}
- /bin/sh
- -c
- {{ include .script $context | toYaml | indent 2 | trim }}
- lws-inference
{{- end -}}
