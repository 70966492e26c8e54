"""Check the rendered command lines: variable references, the rendezvous address, engine flags.

The chart runs multi-pod engines as `/bin/sh -c <script> lws-inference <engine argv...>`, so the
engine's own argv is the container's args, and the script (command[2]) contains the leader's
`ray start --head --port=N` and the workers' wait for the leader's port.
"""
from __future__ import annotations

import re
from typing import Any

from generator.engine_flags import find_unknown_flags, flag_list_version
from generator.errors import Problem

LWS_VARIABLES = frozenset({"LWS_LEADER_ADDRESS", "LWS_GROUP_SIZE", "LWS_WORKER_INDEX"})
ENGINE_LABEL = "lws-inference/engine"
LEADER_ADDRESS = "$(LWS_LEADER_ADDRESS)"
_RAY_HEAD_PORT = re.compile(r"ray start --head --port=(\d+)")
_WAITED_PORT = re.compile(r'"\$leader_ip" (\d+)')
_WRAPPER = ["/bin/sh", "-c"]


def variable_references(text: str) -> list[str]:
    """Return the names in `$(NAME)` references that Kubernetes would expand in `text`.

    `$$` is Kubernetes' escape for a literal `$`, so `$$(NAME)` is not a reference.
    """
    names = []
    index = 0
    while index < len(text):
        if text.startswith("$$", index):
            index += 2
            continue
        if text.startswith("$(", index):
            end = text.find(")", index + 2)
            if end == -1:
                break
            names.append(text[index + 2 : end])
            index = end + 1
            continue
        index += 1
    return names


def _option(argv: list[str], flag: str) -> str | None:
    for index, token in enumerate(argv):
        if token == flag and index + 1 < len(argv):
            return argv[index + 1]
        if token.startswith(flag + "="):
            return token.split("=", 1)[1]
    return None


def _script(container: dict[str, Any]) -> str:
    command = container.get("command") or []
    return command[2] if command[:2] == _WRAPPER and len(command) > 2 else ""


def engine_argv(container: dict[str, Any]) -> list[str]:
    """Return the engine's argv: the args behind the shell wrapper, else command + args."""
    command = [str(token) for token in container.get("command") or []]
    args = [str(token) for token in container.get("args") or []]
    if command[:2] == _WRAPPER:
        return args
    return command + args


def check_references(path: str, container: dict[str, Any], file: str) -> list[Problem]:
    """Report each `$(NAME)` in command and args that names neither an LWS variable nor an env var of the container."""
    defined = LWS_VARIABLES | {entry.get("name") for entry in container.get("env") or []}
    problems = []
    for field in ("command", "args"):
        for index, token in enumerate(container.get(field) or []):
            for name in variable_references(str(token)):
                if name not in defined:
                    problems.append(
                        Problem(
                            f"{path}.{field}[{index}]",
                            f"$({name}) names no env var of the container, so Kubernetes leaves it unexpanded",
                            "use $(LWS_LEADER_ADDRESS), $(LWS_GROUP_SIZE), $(LWS_WORKER_INDEX) or define the variable in env",
                            file,
                        )
                    )
    return problems


def _rendezvous(engine: str, container: dict[str, Any]) -> dict[str, str]:
    """Return the rendezvous settings one container uses, keyed by what they are."""
    argv = engine_argv(container)
    script = _script(container)
    found: dict[str, str] = {}
    if argv[:2] == ["ray", "start"]:
        address = _option(argv, "--address")
        if address is not None:
            found["ray address"] = address
    head = _RAY_HEAD_PORT.search(script)
    if head:
        found["ray address"] = f"{LEADER_ADDRESS}:{head.group(1)}"
    if engine == "sglang":
        address = _option(argv, "--dist-init-addr")
        if address is not None:
            found["--dist-init-addr"] = address
    if engine == "vllm" and _option(argv, "--master-port") is not None:
        found["--master-addr"] = _option(argv, "--master-addr") or ""
        found["--master-port"] = _option(argv, "--master-port") or ""
    waited = _WAITED_PORT.search(script)
    if waited:
        found["waited port"] = waited.group(1)
    return found


def check_rendezvous(document: dict[str, Any], file: str) -> list[Problem]:
    """Leader and workers of a multi-pod group name the same leader address and port."""
    template = (document.get("spec") or {}).get("leaderWorkerTemplate") or {}
    if int(template.get("size", 1) or 1) < 2:
        return []
    roles = {}
    for role in ("leaderTemplate", "workerTemplate"):
        pod = template.get(role) or {}
        containers = (pod.get("spec") or {}).get("containers") or []
        if not containers:
            return []
        engine = ((pod.get("metadata") or {}).get("labels") or {}).get(ENGINE_LABEL, "")
        roles[role] = (engine, _rendezvous(engine, containers[0]))

    engine, leader = roles["leaderTemplate"]
    _, worker = roles["workerTemplate"]
    if engine not in ("sglang", "vllm", "lmdeploy"):
        return []

    problems: list[Problem] = []
    base = "$.LeaderWorkerSet.spec.leaderWorkerTemplate"

    def report(role: str, message: str) -> None:
        problems.append(Problem(f"{base}.{role}.spec.containers[0]", message, "", file))

    for key in sorted((set(leader) | set(worker)) - {"waited port"}):
        if leader.get(key) != worker.get(key):
            report("workerTemplate", f"{key} is {worker.get(key)!r} on the workers but {leader.get(key)!r} on the leader")
    for role, settings in (("leaderTemplate", leader), ("workerTemplate", worker)):
        for key in ("--dist-init-addr", "ray address"):
            if key in settings and not settings[key].startswith(f"{LEADER_ADDRESS}:"):
                report(role, f"{key} {settings[key]!r} does not point at {LEADER_ADDRESS}:<port>")
        if "--master-addr" in settings and settings["--master-addr"] != LEADER_ADDRESS:
            report(role, f"--master-addr {settings['--master-addr']!r} is not {LEADER_ADDRESS}")

    expected_port = _port_of(worker)
    if "waited port" in worker and expected_port and worker["waited port"] != expected_port:
        report("workerTemplate", f"the worker waits for port {worker['waited port']} but the rendezvous port is {expected_port}")
    if not any(key in leader for key in ("--dist-init-addr", "ray address", "--master-port")):
        report("leaderTemplate", f"a {engine} group of more than one pod has no rendezvous setting")
    return problems


def _port_of(settings: dict[str, str]) -> str:
    for key in ("--dist-init-addr", "ray address"):
        if key in settings:
            return settings[key].rsplit(":", 1)[-1]
    return settings.get("--master-port", "")


def check_engine_flags(path: str, engine: str, container: dict[str, Any], values: dict[str, Any], file: str) -> list[Problem]:
    """Report engine flags that the pinned release of the engine does not define."""
    argv = engine_argv(container)
    if argv[:2] == ["ray", "start"]:
        return []
    problems = []
    engine_values = values.get("engine") or {}
    arg_keys = {_kebab(str(key)): str(key) for key in (engine_values.get("args") or {})}
    extra = [str(token) for token in engine_values.get("extraArgs") or []]
    for flag in find_unknown_flags(engine, argv):
        bare = flag.removeprefix("--")
        if bare in arg_keys:
            where = f"engine.args.{arg_keys[bare]}"
        elif any(token.split("=", 1)[0] == flag for token in extra):
            where = "engine.extraArgs"
        else:
            where = f"{path}.args"
        problems.append(Problem(where, f"{flag} is not a flag of {engine} {flag_list_version(engine)}, the release of the chart's default image", "check the spelling; for another release see docs/engine-flags.md", file))
    return problems


def _kebab(key: str) -> str:
    key = key.removeprefix("--")
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", key).lower()
