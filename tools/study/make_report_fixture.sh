#!/usr/bin/env bash
# Remakes tests/fixtures/study-report/report: trains the tiny study's runs into a temporary folder, reports them (which
# writes each run's summary), then removes the runs, so the fixture holds summaries only. The report's spec path and
# study directory are written as {SPEC} and {DIR}, which the test fills in.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
fx=$repo/tests/fixtures/study-report
tmp=$(mktemp -d)
cp "$fx/tiny.yaml" "$tmp/tiny.yaml"
q() { dotnet "$repo/src/Cli/bin/Release/net10.0/qgen-engine.dll" "$@"; }
q study run "$tmp/tiny.yaml" --dir "$tmp/runs" --jobs 1 >/dev/null
q study report "$tmp/tiny.yaml" --dir "$tmp/runs" --out "$tmp/report" --n 300
rm -rf "$fx/report"
cp -r "$tmp/report" "$fx/report"
sed -i "s#$tmp/tiny.yaml#{SPEC}#g; s#$tmp/runs#{DIR}#g" "$fx/report/REPORT.md" "$fx/report/results.csv"
find "$fx/report/runs" -name config.json -exec sed -i "s#$tmp/runs#{DIR}#g" {} +
rm -f "$fx/report/"*.png   # pictures are remade by every report; the test checks that they are
rm -rf "$tmp"
echo "remade $fx/report"
