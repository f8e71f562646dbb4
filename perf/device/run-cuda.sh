#!/usr/bin/env bash
# On a lent GPU machine (from the repository root, with .device/ from perf/device/prepare.sh): the CUDA test suite,
# the SGEMM runner against cuBLAS, and the layer sweep against PyTorch eager on the same GPU. Logs and JSON go to
# $OUT (the device tool brings them back).
#   perf/device/run-cuda.sh [tests|gemm|layers|all] [layer list] [n list]
set -uo pipefail
what=${1:-all}
layers=${2:-colt5,local,tglobal,t5}
ns=${3:-8192,16384}
out=${OUT:-/tmp/out}
root=$PWD
mkdir -p "$out" /tmp/kc
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 COLT5_KERNEL_CACHE=/tmp/kc
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv > "$out/gpu.txt" 2>&1
[ -d /tmp/devbin ] || tar xJf .device/bin.txz -C /tmp
if [ "$what" = tests ] || [ "$what" = all ]; then
    (cd /tmp/devbin && COLT5_REQUIRE_CUDA=1 ./CoLT5.Tests -trait Category=Cuda) > "$out/cuda-tests.log" 2>&1
    tail -5 "$out/cuda-tests.log"
fi
if [ "$what" = gemm ] || [ "$what" = all ]; then
    (cd /tmp/devbin && ./CoLT5.Perf gpu --device cuda --json "$out/gpu-gemm.json") > "$out/gpu-gemm.log" 2>&1
    tail -12 "$out/gpu-gemm.log"
fi
if [ "$what" = layers ] || [ "$what" = all ]; then
    python=$(command -v python3)
    (cd /tmp/devbin && COLT5_TORCH_LAYERS="$root/.device/peer" COLT5_TORCH_PYTHON="$python" \
        ./CoLT5.Perf layers --device cuda --layer "$layers" --n "$ns" --mode both --vs-torch --max-gib 60 \
        --json "$out/gpu-layers.json") > "$out/gpu-layers.log" 2>&1
    tail -12 "$out/gpu-layers.log"
fi
