#!/usr/bin/env bash
# H2 in process on Rewind, end to end: an H2 database whose file lives on a production volume
# set, an application inserting orders, a consistent bookmark through the H2 adapter, a
# DROP TABLE by mistake, the last write before it, and a coordinated restore (stop, restore,
# start, validate) done in the same process; then the bookmark restored the same way.
# The program is examples/src/main/java/dev/rewind/examples/h2/H2Story.java.
#
#   examples/h2/run.sh [DIR]           # keeps its data dir in DIR, or in a new /tmp/rewind-h2-story-XXXX
#
# Needs a JDK 17 or newer only (no root, no packages); the first run builds Rewind through the Maven wrapper.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ ! -f "$repo/cli/target/rewind.jar" ] || [ ! -d "$repo/examples/target/classes/dev/rewind/examples/h2" ] \
   || [ -n "$(find "$repo" -path "$repo/*/src/main/*" -newer "$repo/cli/target/rewind.jar" -print -quit 2>/dev/null)" ]; then
  echo "building Rewind and the examples ..." >&2
  (cd "$repo" && ./mvnw -q -B -Dmaven.test.skip=true -pl examples -am package) >&2
fi
exec java -cp "$repo/cli/target/rewind.jar:$repo/examples/target/classes" dev.rewind.examples.h2.H2Story "$@"
