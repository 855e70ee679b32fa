#!/usr/bin/env bash
# Builds the CLI and runs the demo: the README's first command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mvn -q -B -ntp package -DskipTests
exec java -jar examples/target/agentfs.jar demo "$@"
