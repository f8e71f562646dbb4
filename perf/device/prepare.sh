#!/usr/bin/env bash
# Builds what a lent GPU machine needs (it has no dotnet) into .device/ (git-ignored, carried by the device tool):
# the test suite and the perf runner published self-contained for linux-x64 into one folder (they share the runtime,
# which keeps the archive under the tool's 64 MiB), and a copy of the PyTorch layer peer.
# Then run perf/device/run-cuda.sh there (the device tool's `run` with carry [".device"]).
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .device /tmp/devbin
mkdir -p .device
dotnet publish tests/CoLT5.Tests -c Release -r linux-x64 --self-contained -o /tmp/devbin -v quiet
dotnet publish perf/CoLT5.Perf -c Release -r linux-x64 --self-contained -o /tmp/devbin -v quiet
tar cJf .device/bin.txz -C /tmp devbin
cp -r ../shared/peers/torch-layers .device/peer
du -sh .device/* | sed 's/^/  /'
echo "carried total: $(du -sm .device | cut -f1) MiB (the device tool carries at most 64)"
