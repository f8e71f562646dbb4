#!/usr/bin/env python3
"""Do folders written by `colt5 convert` load in Hugging Face transformers, and do folders transformers writes load
in ours? (Development check, run where transformers is installed, e.g. a lent GPU machine; the library never runs
this.)

Input (perf/device/hf-compat-prepare.sh makes it): DIR/<model>-f32-sharded and DIR/<model>-bf16 written by our
exporter from ../shared/fixtures/hf-t5/<model>, and DIR/io/<model>.json (the fixture's inputs and float64 logits).
For each folder: from_pretrained with loading info (no missing, unexpected or mismatched keys allowed), then the
logits on the fixture's inputs, against the fixture's float64 logits (F32 folders) or against transformers' own
logits with every weight rounded to bfloat16 by torch (BF16 folders). Then the other direction: transformers saves
each model sharded (max_shard_size 60KB) and as bfloat16 into OUT/hf-saved.tar.gz for our loader to read back.
Usage: perf/device/hf_compat.py DIR OUT
"""
import json
import os
import sys
import tarfile

import torch
import transformers
from transformers import AutoModelForSeq2SeqLM


def tensor(e, dtype):
    return torch.tensor(e["data"], dtype=dtype).reshape(e["shape"])


def load(path):
    try:
        return AutoModelForSeq2SeqLM.from_pretrained(path, output_loading_info=True, dtype=torch.float32)
    except TypeError:
        return AutoModelForSeq2SeqLM.from_pretrained(path, output_loading_info=True, torch_dtype=torch.float32)


def logits(model, io):
    i = io["inputs"]
    with torch.no_grad():
        out = model(input_ids=tensor(i["input_ids"], torch.long), attention_mask=tensor(i["attention_mask"], torch.long),
                    decoder_input_ids=tensor(i["decoder_input_ids"], torch.long))
    return out.logits.double()


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def main():
    root, out = sys.argv[1], sys.argv[2]
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    saved = "/tmp/hf-saved"
    failures = 0
    for name in sorted(f[:-5] for f in os.listdir(os.path.join(root, "io"))):
        io = json.load(open(os.path.join(root, "io", name + ".json")))
        want = tensor(io["outputs"]["logits"], torch.float64)
        f32, info = load(os.path.join(root, name + "-f32-sharded"))
        f32.eval()
        problems = {k: v for k, v in info.items() if v}
        got = logits(f32, io)
        r32 = rel(got, want)
        ok32 = not problems and r32 < 1e-5
        print(f"{name}-f32-sharded: {type(f32).__name__}, loading info {problems or 'clean'}, "
              f"logits vs fixture float64 rel {r32:.2e} {'ok' if ok32 else 'FAIL'}")
        bf16, info16 = load(os.path.join(root, name + "-bf16"))
        bf16.eval()
        problems16 = {k: v for k, v in info16.items() if v}
        rounded, _ = load(os.path.join(root, name + "-f32-sharded"))     # a second copy, rounded by torch
        with torch.no_grad():
            for p in rounded.parameters():
                p.copy_(p.to(torch.bfloat16).to(torch.float32))
        rounded.eval()
        reference = rounded.state_dict()
        same = all(torch.equal(v, reference[k]) for k, v in bf16.state_dict().items())
        r16 = rel(logits(bf16, io), logits(rounded, io))
        ok16 = not problems16 and same and r16 == 0
        print(f"{name}-bf16: loading info {problems16 or 'clean'}, weights equal torch's bfloat16 rounding: "
              f"{same}, logits vs torch-rounded model rel {r16:.2e} {'ok' if ok16 else 'FAIL'}")
        failures += (not ok32) + (not ok16)
        f32.save_pretrained(os.path.join(saved, name + "-hf-sharded"), max_shard_size="60KB")
        bf16.to(torch.bfloat16).save_pretrained(os.path.join(saved, name + "-hf-bf16"))
    tok_dir = os.path.join(root, "t5-v1_1-gated-gelu-bf16")
    if os.path.exists(os.path.join(tok_dir, "spiece.model")):
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(tok_dir)
        ids = tok("Hello world, <extra_id_0> end.").input_ids
        print(f"tokenizer from our folder: {type(tok).__name__}, {len(tok)} ids, 'Hello world, <extra_id_0> end.' "
              f"→ {ids}")
    with tarfile.open(os.path.join(out, "hf-saved.tar.gz"), "w:gz") as tar:
        tar.add(saved, arcname="hf-saved")
    print(f"{failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
