#!/usr/bin/env bash
# Runs (or resumes) a study in the background from a snapshot of its own, so that neither rebuilding nor editing the
# work tree (its binary, its spec, the data) changes anything under a running study:
#   tools/study/start.sh studies/compare.yaml --profile full --jobs 2
# - HEAD is exported once to $QGEN_HOME/src/<commit>/ (QGEN_HOME defaults to ~/qgen; git archive: the spec, the bundled
#   MNIST, the metric classifiers) and its CLI published to $QGEN_HOME/bin/<commit>/; the study runs from the export
#   (its child processes read the spec again: a spec edited in the work tree once broke a running study);
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
src=$home/src/$commit
bin=$home/bin/$commit
if [ ! -d "$src" ]; then
  echo "exporting $commit to $src"
  rm -rf "$src.tmp" && mkdir -p "$src.tmp"
  git -C "$repo" archive HEAD | tar -x -C "$src.tmp"
  mv "$src.tmp" "$src"
fi
if [ ! -x "$bin/qgen-engine" ]; then
  echo "publishing $commit to $bin"
  # the export has no .git to ask for its commit: name it
  dotnet publish "$src/src/Cli" -c Release -o "$bin.tmp" -p:UseAppHost=true -p:QGenBuildCommit="$commit" >/dev/null
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
spec=$(realpath --relative-to="$repo" "$spec")
cd "$src"   # the export's spec, bundled MNIST and metric classifiers
QGEN_STUDIES=$home/studies nohup "$bin/qgen-engine" study run "$src/$spec" --summaries "$summaries" "$@" >> "$home/logs/$name.log" 2>&1 < /dev/null &
echo $! > "$pidfile"
echo "$name: started (pid $!, commit $commit: $src, $bin); log $home/logs/$name.log; runs in $home/studies/$name"
