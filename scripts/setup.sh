#!/usr/bin/env bash
# Set up a development environment: a virtualenv in .venv with the generator and its test
# dependencies, and helm 3 and helm 4 in .tools/ (see install-helm.sh).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

bash scripts/install-helm.sh
