#!/usr/bin/env bash
# Runs every test of every module, mounts included. This is the README's test command and
# what CI runs. Under CI=true a FUSE test that would skip (no /dev/fuse) fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec mvn -B -ntp verify "$@"
