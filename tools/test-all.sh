#!/usr/bin/env bash
# `npm test`: every project's suite, with e2e started first.
# e2e is the long pole (~5-6 min of real-time scenarios, mostly waiting on them); `nx run-many` queues it after the
# projects it depends on, so it used to start ~3 min in and finish long after the rest (lane 1 of .ci/run: 647 s).
# Here the bundles are built once, then e2e runs from the start beside the other suites (one at a time, as the
# second of the two slots nx.json's "parallel": 2 would give), then infra alone (CDK synthesis and cfn-lint starve
# whatever runs beside them, e2e above all). Extra arguments go to every nx call (e.g. --skip-nx-cache).
set -uo pipefail
cd "$(dirname "$0")/.."
nx() { npx nx "$@" --output-style=static; }

nx run-many -t build "$@" || exit $?
nx run e2e:test --excludeTaskDependencies "$@" &
e2e=$!
nx run-many -t test --exclude e2e,infra --parallel=1 --excludeTaskDependencies "$@"
rest=$?
wait "$e2e"
e2e_status=$?
nx run infra:test --excludeTaskDependencies "$@"
infra=$?
echo "npm test: e2e exit $e2e_status, other suites exit $rest, infra exit $infra"
[ "$e2e_status" -eq 0 ] && [ "$rest" -eq 0 ] && [ "$infra" -eq 0 ]
