#!/usr/bin/env bash
# Runs the GPU verification kit (issue #27) from the repository root of a machine with CUDA and no .NET SDK:
#   tools/gpu/run.sh [DEVICE]          DEVICE: cuda (default) | ilgpu-cpu (the same steps here, small sizes)
# Each part has its own time limit, so a failure or a hang in one leaves the others' results. Writes into $OUT
# (default ./gpukit-out): devices.txt, tests-*.txt, train-*.csv, bench-gpu.json, torch.txt, summary.txt, summary.json.
# The device tool: run with carry [".gpukit"], e.g. `tools/gpu/run.sh cuda` with timeout_s 540.
set -uo pipefail
dev=${1:-cuda}
out=${OUT:-$PWD/gpukit-out}; mkdir -p "$out"
kit=$PWD/.gpukit
[ -d "$kit/app" ] || { tar -C "$kit" -xJf "$kit/kit.tar.xz" || { echo "no kit: run tools/gpu/build.sh first" >&2; exit 2; }; }
app=$kit/app
export TESTINGPLATFORM_TELEMETRY_OPTOUT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
small=0; [ "$dev" = ilgpu-cpu ] && small=1
declare -A status
part() {   # part NAME SECONDS COMMAND...: runs with a limit, its output in $out/NAME.txt, its exit status remembered
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" > "$out/$name.txt" 2>&1
  local rc=$?
  status[$name]="$rc $(( $(date +%s) - t0 ))s"
  echo "$name: exit $rc in $(( $(date +%s) - t0 ))s"
}

# 1. the devices, the op table against the CPU reference on the device, the circuit kernels against the CPU simulator
part devices 60 "$app/qgen-engine" devices
# (a fixture bound to a device that is not there skips itself; ilgpu-cpu's conformance suite runs in every `dotnet test`)
if [ $small = 1 ]; then filter="FullyQualifiedName~IlgpuSimulatorTests|FullyQualifiedName~IlgpuDeviceTests"; conf=600
else filter="FullyQualifiedName~CudaConformance|FullyQualifiedName~IlgpuSimulatorTests|FullyQualifiedName~IlgpuDeviceTests|FullyQualifiedName~IlgpuTrainingTests"; conf=240; fi
part tests $conf "$app/QGenEngine.KitTests" --filter "$filter"

# 2. one epoch on the same digits and seed on the device and on the CPU: the loss trajectories side by side
# (ilgpu-cpu compiles each kernel for the host on first use: minutes before its first step here)
n=4096; b=64; e=100; limit=180; [ $small = 1 ] && { n=16; b=8; e=8; limit=600; }
for d in "$dev" cpu; do
  rm -rf "$out/run-$d"
  part "train-$d" $limit "$app/qgen-engine" train vae --epochs 1 --limit $n --batch-size $b --seed 1 --fid-every 0 --eval-images $e --device "$d" --out "$out/run-$d"
  cp "$out/run-$d/steps.csv" "$out/train-$d.csv" 2>/dev/null
done

# 3. what it costs: train steps, SGEMM, circuits (with launches and host reads per step); PyTorch beside it where present
quick=""; [ $small = 1 ] && quick=--quick
part bench $([ $small = 1 ] && echo 600 || echo 240) "$app/QGenEngine.Bench" gpu --device "$dev" $quick --json "$out/bench-gpu.json"
if [ $small = 0 ] && python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  part torch 120 python3 bench/torch_vae_step.py --device cuda
fi

# 4. the summary: every part's status, the tests' counts, the loss trajectories' largest gap
{
  echo "GPU kit on $(hostname) $(date -u +%Y-%m-%dT%H:%MZ), device $dev"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  for k in "${!status[@]}"; do echo "part $k: exit ${status[$k]}"; done | sort
  grep -E "total:|failed:|succeeded:|skipped:" "$out/tests.txt" | tr -s ' ' | paste -sd' '
  grep -E "^  failed " "$out/tests.txt" | head -20
  if [ -f "$out/train-$dev.csv" ] && [ -f "$out/train-cpu.csv" ]; then
    # step by step, the steps both runs reached (an interrupted run has fewer; that is said, and fails the kit)
    awk -F, 'NR == FNR { if (FNR > 1) cpu[$1] = $3; next }
             FNR > 1 && ($1 in cpu) { d = $3 - cpu[$1]; if (d < 0) d = -d; a = cpu[$1] < 0 ? -cpu[$1] : cpu[$1]; r = d / a; if (r > m) m = r; s++ }
             END { printf "loss trajectories: %d steps compared, largest relative gap %.2e (tolerance 1e-2: other rounding, not other maths)\n", s, m
                   if (m > 1e-2) print "LOSS GAP OVER TOLERANCE"
                   if (s < length(cpu)) printf "INCOMPLETE: the device run reached %d of %d steps\n", s, length(cpu) }' "$out/train-cpu.csv" "$out/train-$dev.csv"
  fi
  [ -f "$out/bench-gpu.json" ] && echo "bench: $out/bench-gpu.json"
} > "$out/summary.txt"
cat "$out/summary.txt"
python3 - "$out" <<'PY' 2>/dev/null || true
import json, sys, os, re
out = sys.argv[1]
s = open(os.path.join(out, "summary.txt")).read()
j = {"summary": s.splitlines()}
b = os.path.join(out, "bench-gpu.json")
if os.path.exists(b): j["bench"] = json.load(open(b))
json.dump(j, open(os.path.join(out, "summary.json"), "w"), indent=1)
PY
grep -qE "LOSS GAP OVER TOLERANCE|INCOMPLETE" "$out/summary.txt" && exit 1
grep -qE "^part .*: exit [1-9]" "$out/summary.txt" && exit 1
grep -qE "failed: [1-9]" "$out/summary.txt" && exit 1
exit 0
