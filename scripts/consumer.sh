#!/usr/bin/env bash
# Consumer check: installs the reactor into the local Maven repository, then builds
# examples/consumer -- a separate project that depends on AgentFS by coordinates only
# (agentfs-bom import + agentfs-api + agentfs-fuse) -- and runs its Main twice: on the class
# path, and with the AgentFS jars on the module path. Each run prints one JSON line.
# Extra arguments go to every mvn call (e.g. -o, -Dmaven.repo.local=...).
set -euo pipefail
cd "$(dirname "$0")/.."

version() {  # the project's own <version> (the first one after its artifactId)
  sed -n "/<artifactId>$2<\/artifactId>/,/<version>/{s/.*<version>\(.*\)<\/version>.*/\1/p}" "$1" | head -1
}
v=$(version pom.xml agentfs-parent)
vb=$(version agentfs-bom/pom.xml agentfs-bom)
if [ "$v" != "$vb" ]; then
  echo "consumer: agentfs-bom version $vb differs from the parent's $v (it has no parent; bump both)" >&2
  exit 1
fi

mvn -B -ntp -q install -DskipTests "$@"

pom=examples/consumer/pom.xml
mvn -B -ntp -q -f "$pom" -Dagentfs.version="$v" package "$@"
cpfile=examples/consumer/target/runtime.classpath
mvn -B -ntp -q -f "$pom" -Dagentfs.version="$v" dependency:build-classpath \
  -Dmdep.includeScope=runtime -Dmdep.outputFile="$PWD/$cpfile" "$@"
deps=$(cat "$cpfile")
app=examples/consumer/target/classes

echo "consumer: class path" >&2
java -cp "$app:$deps" dev.agentfs.consumer.Main

# Module path: every jar is a module except jnr-fuse, which splits jnr-ffi's packages and so
# stays on the class path (agentfs-fuse is an automatic module; see its pom).
mp=$(tr ':' '\n' <<<"$deps" | grep -v '/jnr-fuse-' | paste -sd: -)
cp=$(tr ':' '\n' <<<"$deps" | grep '/jnr-fuse-' | paste -sd: -)
echo "consumer: module path" >&2
java --module-path "$mp" --add-modules ALL-MODULE-PATH -cp "$app:$cp" dev.agentfs.consumer.Main
