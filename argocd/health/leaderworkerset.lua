-- Argo CD health check for LeaderWorkerSet (leaderworkerset.x-k8s.io/v1).
--
-- Install it under the argocd-cm key
-- resource.customizations.health.leaderworkerset.x-k8s.io_LeaderWorkerSet (see argocd/README.md).
-- It applies the same rule as generator/rollout.py, and tests/unit/test_argocd_health.py checks
-- that both return the same state and message for every fixture. Change both together.
--
-- Rule, in order:
--   1. No status, or status.observedGeneration differs from metadata.generation: Progressing.
--   2. Condition UpdateInProgress is True: Progressing (a rolling update is running).
--   3. status.replicas exceeds spec.replicas: Progressing (surge groups still exist).
--   4. Condition Available is False, status.replicas equals spec.replicas and
--      status.readyReplicas is below spec.replicas: Degraded. LWS only adds a condition as True
--      and later flips it to False, so this means all groups were ready once and some are not now.
--   5. status.replicas and status.readyReplicas equal spec.replicas and status.updatedReplicas
--      reaches spec.replicas minus rollingUpdateConfiguration.partition: Healthy.
--   6. Otherwise Progressing.
-- Missing status fields count as 0 and a missing spec.replicas is 1, the CRD default.
-- Written for Lua 5.1, the language level of the gopher-lua interpreter that Argo CD embeds.

local function integer(value, default)
  if type(value) ~= "number" then
    return default
  end
  if value >= 0 then
    return math.floor(value)
  end
  return math.ceil(value)
end

local function table_or_empty(value)
  if type(value) == "table" then
    return value
  end
  return {}
end

local function condition_status(status, condition_type)
  if type(status.conditions) ~= "table" then
    return nil
  end
  for _, condition in ipairs(status.conditions) do
    if type(condition) == "table" and condition.type == condition_type then
      return tostring(condition.status)
    end
  end
  return nil
end

local function evaluate(lws)
  local metadata = table_or_empty(lws.metadata)
  local spec = table_or_empty(lws.spec)
  local status = table_or_empty(lws.status)
  local rolling_update = table_or_empty(table_or_empty(spec.rolloutStrategy).rollingUpdateConfiguration)

  local generation = integer(metadata.generation, 0)
  local observed_generation = integer(status.observedGeneration, 0)
  local desired = integer(spec.replicas, 1)
  local partition = integer(rolling_update.partition, 0)
  local current = integer(status.replicas, 0)
  local ready = integer(status.readyReplicas, 0)
  local updated = integer(status.updatedReplicas, 0)
  local updated_target = math.max(desired - partition, 0)

  if next(status) == nil then
    return "Progressing", "waiting for the LeaderWorkerSet controller to write status"
  end
  if status.observedGeneration == nil then
    return "Progressing", "status.observedGeneration is missing; LWS v0.9.0 or later sets it"
  end
  if observed_generation ~= generation then
    return "Progressing", string.format(
      "status is for generation %d, spec is at generation %d", observed_generation, generation)
  end

  if condition_status(status, "UpdateInProgress") == "True" then
    return "Progressing", string.format(
      "rolling update in progress: %d groups updated (target %d), %d of %d ready",
      updated, updated_target, ready, desired)
  end
  if current > desired then
    return "Progressing", string.format(
      "%d surge groups still exist (%d groups for %d replicas)", current - desired, current, desired)
  end

  -- A scale-up after all groups were ready also matches until the new groups are ready,
  -- because the status fields do not tell a new group apart from one that failed.
  local lost_availability = condition_status(status, "Available") == "False"
  if lost_availability and current == desired and ready < desired then
    return "Degraded", string.format(
      "%d of %d groups not ready after all were ready, with no update in progress",
      desired - ready, desired)
  end

  if current == desired and ready == desired and updated >= updated_target then
    if desired == 0 then
      return "Healthy", "scaled to 0 groups"
    end
    return "Healthy", string.format("all %d groups ready and updated", desired)
  end

  return "Progressing", string.format(
    "%d of %d groups ready, %d updated (target %d), %d exist", ready, desired, updated, updated_target, current)
end

local health_status = {}
health_status.status, health_status.message = evaluate(obj)
return health_status
