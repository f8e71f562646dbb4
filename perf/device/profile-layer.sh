#!/usr/bin/env bash
# On a lent GPU machine (after perf/device/prepare.sh here): where one encoder layer's GPU time goes. Runs the perf
# runner's layer child under Nsight Compute (one metric, gpu__time_duration) and sums the kernel time per kernel
# name; the 512-token check and the first (compiling) call are in the profile too but are small next to the timed
# calls at the sizes this is meant for. Writes $OUT/profile-<layer>-<n>-<mode>.csv and prints the table.
#   perf/device/profile-layer.sh colt5 16384 fwdbwd [launches]
set -uo pipefail
layer=$1 n=$2 mode=$3 count=${4:-1500}
out=${OUT:-/tmp/out}
mkdir -p "$out" /tmp/kc
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 COLT5_KERNEL_CACHE=/tmp/kc
[ -d /tmp/devbin ] || tar xJf .device/bin.txz -C /tmp
ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | tail -1)
csv="$out/profile-$layer-$n-$mode.csv"
(cd /tmp/devbin && "$ncu" --metrics gpu__time_duration.sum --csv --print-units base --launch-count "$count" \
    ./CoLT5.Perf layers --_case "$layer:$n:$mode" --device cuda) > "$csv.raw" 2>"$out/ncu.err"
grep '^"' "$csv.raw" > "$csv"
rm -f "$csv.raw"
python3 - "$csv" <<'EOF'
import csv, collections, sys
rows = list(csv.DictReader(open(sys.argv[1])))
total = collections.Counter()
count = collections.Counter()
for r in rows:
    if r.get("Metric Name") != "gpu__time_duration.sum":
        continue
    name = r["Kernel Name"].split("(")[0]
    total[name] += float(r["Metric Value"].replace(",", ""))
    count[name] += 1
grand = sum(total.values())
print(f"{len(rows)} launches, {grand / 1e6:.1f} ms of kernel time")
for name, ns in total.most_common(25):
    print(f"{name:40s} {count[name]:6d} launches {ns / 1e6:9.2f} ms {100 * ns / grand:5.1f}%")
EOF
