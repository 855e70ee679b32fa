#!/usr/bin/env bash
# Runs every test of every module, mounts included. This is the README's test command and
# what CI runs. Under CI=true a FUSE test that would skip (no /dev/fuse) fails instead.
# Then: the consumer check (scripts/consumer.sh: install, build a project that depends on
# AgentFS by coordinates, run it on the class path and the module path), and the test suite
# again on the newest JDK on the machine (the core and stores whole, the mount suites in part). Extra arguments go to every mvn call.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

step() { echo "== test.sh: $* ($(date -u +%T))" >&2; }

step "test suite on $(java -version 2>&1 | head -1)"
mvn -B -ntp verify "$@"

step "consumer project"
bash scripts/consumer.sh "$@"

# Newest JDK: the libraries are compiled for 17 (release 17) and must also run on current JDKs.
jdk_new=${AGENTFS_NEW_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ -x "$jdk_new/bin/java" ]; then
  step "test suite on $("$jdk_new/bin/java" -version 2>&1 | head -1) ($jdk_new)"
  # Only the tests: the jars, javadoc and dependency analysis were checked on 17 above.
  # Two differential tests compare AgentFS with the JDK's own file system, whose behaviour
  # changed in JDK 25, so they are left out there (open issues, not AgentFS regressions):
  #  - ModelBasedTest: the host oracle now reports ENOENT instead of ENOTDIR for a path
  #    through a regular file (stat /file/x); AgentFS answers ENOTDIR like Linux.
  #  - NioScenarioTest: FileChannel.transferFrom at a position beyond the end now transfers
  #    (JDK 25) where the Java 17 spec says nothing is transferred, as AgentFS does.
  # The core and the stores run whole there; of the mount suites (and agentfs-junit, which
  # depends on agentfs-fuse) the transport's own, the tool suites and the extension: the
  # JVM-facing part, which keeps CI well under 30 minutes.
  JAVA_HOME="$jdk_new" mvn -B -ntp verify -pl agentfs-api,agentfs-hostfs -am \
    -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -Dmdep.analyze.skip=true \
    '-Dtest=!dev.agentfs.ModelBasedTest,!dev.agentfs.nio.NioScenarioTest' \
    -Dsurefire.failIfNoSpecifiedTests=false "$@"
  JAVA_HOME="$jdk_new" mvn -B -ntp verify -pl agentfs-fuse,agentfs-junit,examples -am \
    -Dmaven.javadoc.skip=true -Dmaven.source.skip=true -Dmdep.analyze.skip=true \
    '-Dtest=KernelMountTest,MountLifecycleTest,MountNioTest,MountToolsTest,MountErrnoTest,PassthroughTest,UringMountSuitesTest*,JnrMountTest,AgentFsExtensionTest,AgentFsTestExampleTest,MainTest,BenchCommandTest' \
    -Dsurefire.failIfNoSpecifiedTests=false "$@"
else
  step "SKIPPED: no newer JDK at $jdk_new (set AGENTFS_NEW_JDK to test on another)"
fi
step "done"
