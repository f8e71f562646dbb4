#!/usr/bin/env bash
# Writes .hfcheck/ (git-ignored, carried to a machine with transformers) for perf/device/hf_compat.py: each
# ../shared/fixtures/hf-t5 model re-saved by `colt5 convert` as F32 in 60 KB shards and as one BF16 file, the
# fixtures' io.json, and a SentencePiece model in one folder so transformers' tokenizer loading is tried too.
# Then, there: python3 perf/device/hf_compat.py .hfcheck "$OUT".
set -euo pipefail
cd "$(dirname "$0")/../.."
fixtures=../shared/fixtures/hf-t5
dotnet build src/CoLT5.Cli -c Release -v quiet -nologo >/dev/null
cli="dotnet src/CoLT5.Cli/bin/Release/net10.0/colt5.dll"
rm -rf .hfcheck
mkdir -p .hfcheck/io
for model in t5-v1_1-gated-gelu t5-v1_0-relu-tied longt5-local longt5-tglobal; do
    cp "$fixtures/$model/io.json" ".hfcheck/io/$model.json"
    $cli convert --checkpoint "$fixtures/$model" --out ".hfcheck/$model-f32-sharded" --max-shard-size 60KB
    $cli convert --checkpoint "$fixtures/$model" --out ".hfcheck/$model-bf16" --store bf16
done
cp ../shared/fixtures/spm/bytefallback_unigram_600.model .hfcheck/t5-v1_1-gated-gelu-bf16/spiece.model
du -sh .hfcheck
