#!/usr/bin/env bash
# Runs the whole test suite N times and prints one line per failed test with how often it failed.
#
#   tools/flake-hunt.sh N [--busy] [-- extra nx args, e.g. -p extractor query]
#
# --busy keeps one core busy the whole time (a Node busy loop, killed on exit), as another process on a shared
# machine would. Every run skips the Nx cache, so the tests really run. Each run's JUnit files (vitest writes
# test-results/<project>/junit.xml, see vitest.shared.ts) are kept under tmp/flake-hunt/<stamp>/run-<i>/, with the
# run's log, elapsed seconds and load average. A run that fails without a failed test case (a build error, a crash)
# is listed by its Nx task instead.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: tools/flake-hunt.sh N [--busy] [-- nx args]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
runs=$1
shift
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || {
  echo "N must be a positive integer, got '$runs'" >&2
  usage
}
busy=false
nx_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --busy) busy=true ;;
    --)
      shift
      nx_args=("$@")
      break
      ;;
    *)
      echo "unknown argument '$1'" >&2
      usage
      ;;
  esac
  shift
done

export CI=true FORCE_COLOR=0 NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
suffix=
note=
if $busy; then
  suffix=-busy
  note=', one core busy'
fi
out="tmp/flake-hunt/$(date -u +%Y%m%dT%H%M%SZ)$suffix"
mkdir -p "$out"

busy_pid=
cleanup() {
  if [ -n "$busy_pid" ]; then kill "$busy_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM
if $busy; then
  node -e 'for (;;) {}' &
  busy_pid=$!
  echo "busy core: pid $busy_pid" >&2
fi

for i in $(seq 1 "$runs"); do
  dir="$out/run-$i"
  mkdir -p "$dir"
  rm -rf test-results
  start=$(date +%s)
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  status=0
  npx nx run-many -t test --skip-nx-cache --output-style=static ${nx_args[@]+"${nx_args[@]}"} >"$dir/log" 2>&1 || status=$?
  elapsed=$(($(date +%s) - start))
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  [ -d test-results ] && cp -r test-results "$dir/"
  # Nx names each failed task at the end of its summary: "nx run <project>:test" lines after "Failed tasks:".
  awk '/Failed tasks:/{f=1;next} f&&/^- [a-z0-9-]+:[a-z0-9-]+/{print $2}' "$dir/log" >"$dir/failed-tasks"
  echo "$status $elapsed $load_before | $load_after" >"$dir/summary"
  echo "run $i/$runs: exit $status in ${elapsed}s (load $load_before -> $load_after)$note" >&2
done

node --input-type=module - "$out" "$runs" <<'EOF'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [out, runs] = process.argv.slice(2);
const unescape = (s) =>
  s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const files = (dir) =>
  readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));

const failures = new Map(); // "project file > test" -> { count, first message }
const taskOnly = new Map(); // failed Nx task with no failed test case -> count
for (const run of readdirSync(out).filter((n) => n.startsWith('run-'))) {
  const dir = join(out, run);
  const failedProjects = new Set();
  if (existsSync(join(dir, 'test-results'))) {
    for (const file of files(join(dir, 'test-results')).filter((f) => f.endsWith('.xml'))) {
      const project = file.split('/').at(-2);
      const xml = readFileSync(file, 'utf8');
      for (const m of xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)) {
        const failure = /<(failure|error)\b([^>]*)>/.exec(m[3]);
        if (!failure) continue;
        const message = /message="([^"]*)"/.exec(failure[2])?.[1] ?? failure[1];
        failedProjects.add(project);
        const key = `${project} ${unescape(m[1])} > ${unescape(m[2])}`;
        const seen = failures.get(key) ?? { count: 0, message: unescape(message).split('\n')[0] };
        seen.count += 1;
        failures.set(key, seen);
      }
    }
  }
  const tasks = existsSync(join(dir, 'failed-tasks')) ? readFileSync(join(dir, 'failed-tasks'), 'utf8') : '';
  for (const task of tasks.split('\n').filter(Boolean)) {
    const project = task.replace(/:.*$/, '');
    if (!failedProjects.has(project)) taskOnly.set(task, (taskOnly.get(task) ?? 0) + 1);
  }
}
console.log(`flake hunt: ${runs} run(s), results in ${out}`);
if (failures.size === 0 && taskOnly.size === 0) console.log('no failures');
for (const [key, { count, message }] of [...failures].sort((a, b) => b[1].count - a[1].count))
  console.log(`${count}/${runs} ${key} -- ${message.slice(0, 160)}`);
for (const [task, count] of taskOnly) console.log(`${count}/${runs} ${task} failed without a failed test case (see run logs)`);
process.exitCode = failures.size + taskOnly.size > 0 ? 1 : 0;
EOF
