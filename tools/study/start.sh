#!/usr/bin/env bash
# Runs (or resumes) a study in the background from a build of its own, so that rebuilding the work tree never swaps
# the binary under a running study:
#   tools/study/start.sh studies/compare.yaml --profile full --jobs 2
# - the CLI of HEAD is published once to $QGEN_HOME/bin/<commit>/ (QGEN_HOME defaults to ~/qgen);
# - study directories go to $QGEN_HOME/studies/ (QGEN_STUDIES), outside the work tree, so a fresh checkout keeps them;
# - the study's output goes to $QGEN_HOME/logs/<study>[-<profile>].log, its pid to the same name with .pid.
# - runs summarised in docs/studies/<study>[-<profile>]/ count as finished; each run that finishes is summarised there.
# Run it again after a stop (or in a later session): finished runs are skipped, interrupted ones resumed; each run's
# metrics record the commit of the binary that trained each epoch. Stop it with: kill -TERM $(cat <pid file>).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 SPEC.yaml [study run options...]" >&2; exit 2; }
spec=$1; shift
home=${QGEN_HOME:-$HOME/qgen}
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "$0: the work tree has uncommitted changes; a study runs from a committed build (commit or stash first)" >&2; exit 2
fi
commit=$(git -C "$repo" rev-parse --short=12 HEAD)
bin=$home/bin/$commit
if [ ! -x "$bin/qgen-engine" ]; then
  echo "publishing $commit to $bin"
  dotnet publish "$repo/src/Cli" -c Release -o "$bin.tmp" -p:UseAppHost=true >/dev/null
  mv "$bin.tmp" "$bin"
fi
profile=""
for ((i = 1; i <= $#; i++)); do [ "${!i}" = --profile ] && { j=$((i + 1)); profile="-${!j}"; }; done
name=$(sed -n 's/^name: *//p' "$spec" | head -1)$profile
mkdir -p "$home/logs" "$home/studies"
pidfile=$home/logs/$name.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "$name: already running (pid $(cat "$pidfile")); its log: $home/logs/$name.log" >&2; exit 1
fi
# The committed record of this study (docs/studies/<study>[-<profile>]/runs/): runs summarised there are not trained
# again on a new machine, and every run finished from now on is evaluated and summarised there as it lands (commit it).
summaries=$repo/docs/studies/$name
cd "$repo"   # the bundled MNIST and the metric classifiers are found from the clone
QGEN_STUDIES=$home/studies nohup "$bin/qgen-engine" study run "$spec" --summaries "$summaries" "$@" >> "$home/logs/$name.log" 2>&1 < /dev/null &
echo $! > "$pidfile"
echo "$name: started (pid $!, binary $commit); log $home/logs/$name.log; runs in $home/studies/$name"
