#!/usr/bin/env bash
# Builds the GPU verification kit (issue #27) into .gpukit/ (ignored): self-contained linux-x64 builds of the CLI, the
# benchmarks and the test suite as a program (tools/gpu/KitTests: NUnit's runner, no SDK needed), published into one
# folder that shares one .NET runtime, and packed as .gpukit/kit.tar.xz for the device tool (which carries 64 MiB).
#   tools/gpu/build.sh            then, on a CUDA machine in the repository root:  tools/gpu/run.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$repo/.gpukit
rm -rf "$out"; mkdir -p "$out/app"
for p in src/Cli/QGenEngine.Cli.csproj bench/QGenEngine.Bench.csproj tools/gpu/KitTests/QGenEngine.KitTests.csproj; do
  echo "publishing $p"
  dotnet publish "$repo/$p" -c Release -r linux-x64 --self-contained -p:UseAppHost=true -p:DebugType=none -o "$out/app" >/dev/null
done
# The runtime's debugger support is not needed to run (4 MiB); xz packs the rest to about two thirds of gzip's size,
# which matters: the kit travels with the working tree (about 20 MiB), 64 MiB in all.
rm -f "$out/app/createdump" "$out/app/libmscordaccore.so" "$out/app/libmscordbi.so"
tar -C "$out" -cJf "$out/kit.tar.xz" app
rm -rf "$out/app"
size=$(stat -c %s "$out/kit.tar.xz")
echo "built $out/kit.tar.xz ($((size / 1024 / 1024)) MiB; with the working tree the device tool carries 64 MiB in all)"
[ "$size" -lt $((40 * 1024 * 1024)) ] || { echo "the kit is over 40 MiB" >&2; exit 1; }
