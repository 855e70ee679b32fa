#!/usr/bin/env bash
# Installs what building and testing AgentFS needs on a fresh Debian machine: a JDK 17,
# Maven, and the tools the mount tests drive (git, python3, attr and acl tools, fuse3 utilities).
# Idempotent: installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail

need=()
command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
command -v git >/dev/null || need+=(git)
command -v python3 >/dev/null || need+=(python3)
command -v setfattr >/dev/null || need+=(attr)
command -v setfacl >/dev/null || need+=(acl)
command -v fusermount3 >/dev/null || need+=(fuse3)
command -v mkfs.xfs >/dev/null || need+=(xfsprogs)   # reflink tests on an XFS loop image
[ -e /usr/lib/x86_64-linux-gnu/libfuse.so.2 ] || [ -e /lib/x86_64-linux-gnu/libfuse.so.2 ] \
  || [ -e /usr/lib/aarch64-linux-gnu/libfuse.so.2 ] || need+=(libfuse2)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >&2
fi
