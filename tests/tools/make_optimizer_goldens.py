#!/usr/bin/env python3
"""Golden trajectories of torch.optim.AdamW and torch.nn.utils.clip_grad_norm_ for the optimizer tests.

Float64 throughout. Each AdamW case lists the initial parameters, the gradient fed at every step (null where a
parameter gets no gradient that step), the learning rate of every step, the parameters after every step and the
final optimizer state. The C# tests replay the gradients and compare; PyTorch is needed only to regenerate.

Usage (Debian's python3-torch): /usr/bin/python3 tests/tools/make_optimizer_goldens.py \
    > tests/CoLT5.Tests/Optim/golden/adamw_torch.json
"""
import json
import sys

import torch

SHAPES = [("a", (3,)), ("b", (4, 5)), ("c", (2, 3, 4))]


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def adamw_case(name, seed, steps, lrs, betas, eps, weight_decay, amsgrad, missing=()):
    """missing: (step, parameter index) pairs whose gradient is None at that step."""
    g = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=g, dtype=torch.float64).requires_grad_(True) for _, s in SHAPES]
    init = [flat(p) for p in params]
    opt = torch.optim.AdamW(params, lr=lrs[0], betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                            foreach=False)
    grads, trajectory = [], []
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lrs[step]
        row = []
        for i, p in enumerate(params):
            if (step, i) in missing:
                p.grad = None
                row.append(None)
                continue
            # Gradients of mixed magnitudes, so that eps and the bias corrections both matter.
            scale = 10.0 ** (i - 1)
            grad = torch.randn(p.shape, generator=g, dtype=torch.float64) * scale
            p.grad = grad.clone()
            row.append(flat(grad))
        grads.append(row)
        opt.step()
        trajectory.append([flat(p) for p in params])
    state = {}
    for (pname, _), p in zip(SHAPES, params):
        s = opt.state[p]
        state[pname] = {"step": float(s["step"]), "exp_avg": flat(s["exp_avg"]), "exp_avg_sq": flat(s["exp_avg_sq"])}
        if amsgrad:
            state[pname]["max_exp_avg_sq"] = flat(s["max_exp_avg_sq"])
    return {
        "name": name,
        "betas": list(betas),
        "eps": eps,
        "weight_decay": weight_decay,
        "amsgrad": amsgrad,
        "lr": lrs,
        "params": [{"name": n, "shape": list(s), "init": v} for (n, s), v in zip(SHAPES, init)],
        "grads": grads,
        "trajectory": trajectory,
        "final_state": state,
    }


def clip_case(name, seed, max_norm, scale):
    g = torch.Generator().manual_seed(seed)
    params = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for _, s in SHAPES]
    grads = []
    for p in params:
        p.grad = torch.randn(p.shape, generator=g, dtype=torch.float64) * scale
        grads.append(flat(p.grad))
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return {"name": name, "max_norm": max_norm, "grads": grads, "total_norm": float(total),
            "clipped": [flat(p.grad) for p in params]}


def main():
    steps = 5
    cases = [
        adamw_case("defaults", 1, steps, [1e-3] * steps, (0.9, 0.999), 1e-8, 1e-2, False),
        adamw_case("scheduled_lr_strong_decay", 2, steps, [0.1, 0.05, 0.02, 0.01, 0.005], (0.8, 0.99), 1e-6, 0.1,
                   False),
        adamw_case("amsgrad_missing_grads", 3, steps, [0.01] * steps, (0.9, 0.999), 1e-8, 0.0, True,
                   missing={(1, 0), (2, 2), (3, 0)}),
    ]
    clips = [clip_case("clipped", 4, 1.0, 1.0), clip_case("below_max", 5, 100.0, 0.1)]
    out = {
        "generator": "tests/tools/make_optimizer_goldens.py",
        "torch_version": torch.__version__,
        "shapes": [list(s) for _, s in SHAPES],
        "adamw": cases,
        "clip_grad_norm": clips,
    }
    sys.stdout.write(dumps(out) + "\n")


def dumps(value, indent=0):
    """JSON with objects and nested lists indented, and lists of numbers on one line (exact float repr)."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + dumps(v, indent + 2) for v in value) + "\n" + pad + "]"
    return json.dumps(value)


if __name__ == "__main__":
    main()
