#!/usr/bin/env python3
"""SGEMM kernel tuning on a lent CUDA GPU (development only; the library never runs this).

Composes each candidate exactly as KernelCache does (prelude.cu, layout.h, errors.h, the kernel file), compiles it
with NVRTC under the library's options, reports registers / spilled local bytes / shared bytes, checks the product
against torch's float64, and times it with CUDA events next to cuBLAS FP32 (torch.matmul, TF32 off) on the same
buffers. Usage: perf/device/gemm_tune.py [out.json] [candidate.h:entry[:NAME=VALUE,...] ...]
A candidate file holds kernels in the portable dialect with gemm.h's arguments and 128x128 tiles (gemm.h is
composed before it, so it may use its macros); each is also timed with __launch_bounds__(256, 2).
"""
import ctypes
import glob
import json
import os
import statistics
import sys

import torch

ROOT = os.path.dirname(os.path.abspath(__file__)) + "/../.."
KERNELS = ROOT + "/src/CoLT5.Backends.Gpu/Kernels"


def load(names):
    for name in names:
        for path in [name] + sorted(glob.glob(name), reverse=True):
            try:
                return ctypes.CDLL(path)
            except OSError:
                pass
    raise OSError(f"none of {names} loads")


cuda = load(["libcuda.so.1"])
nvrtc = load(["libnvrtc.so", "libnvrtc.so.13", "/usr/local/cuda*/lib64/libnvrtc.so*",
              "/opt/torch/.venv/lib/python3*/site-packages/nvidia/cu*/lib/libnvrtc.so*"])


def check(status, what):
    if status != 0:
        raise RuntimeError(f"{what} failed: {status}")


def source(kernel_file, extra=""):
    parts = [open(f"{KERNELS}/prelude.cu").read(), '#line 1 "layout.h"', open(f"{KERNELS}/layout.h").read(),
             '#line 1 "errors.h"', open(f"{KERNELS}/errors.h").read(), extra]
    for f in kernel_file:
        parts += [f'#line 1 "{os.path.basename(f)}"', open(f).read()]
    return "\n".join(parts) + "\n"


def compile_cubin(src, defines, name="tune.cu"):
    text = "".join(f"#define {k} {v}\n" for k, v in defines.items()) + src
    prog = ctypes.c_void_p()
    check(nvrtc.nvrtcCreateProgram(ctypes.byref(prog), text.encode(), name.encode(), 0, None, None), "create")
    opts = [b"--gpu-architecture=sm_90", b"--std=c++17"]
    arr = (ctypes.c_char_p * len(opts))(*opts)
    status = nvrtc.nvrtcCompileProgram(prog, len(opts), arr)
    size = ctypes.c_size_t()
    nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    nvrtc.nvrtcGetProgramLog(prog, log)
    if status != 0:
        raise RuntimeError("compile failed:\n" + log.value.decode(errors="replace")[-3000:])
    nvrtc.nvrtcGetCUBINSize(prog, ctypes.byref(size))
    cubin = ctypes.create_string_buffer(size.value)
    check(nvrtc.nvrtcGetCUBIN(prog, cubin), "getcubin")
    return cubin


class Layout(ctypes.Structure):
    _fields_ = [("dims", ctypes.c_int64 * 8), ("st", (ctypes.c_int64 * 8) * 4), ("n", ctypes.c_int64),
                ("rank", ctypes.c_int32), ("pad", ctypes.c_int32)]


def function(cubin, entry):
    module = ctypes.c_void_p()
    check(cuda.cuModuleLoadData(ctypes.byref(module), cubin), "cuModuleLoadData")
    fn = ctypes.c_void_p()
    check(cuda.cuModuleGetFunction(ctypes.byref(fn), module, entry.encode()), "cuModuleGetFunction " + entry)
    attrs = {}
    for key, code in (("regs", 4), ("local_bytes", 3), ("shared_bytes", 1)):
        v = ctypes.c_int()
        check(cuda.cuFuncGetAttribute(ctypes.byref(v), code, fn), "attr")
        attrs[key] = v.value
    return fn, attrs


def launcher(fn, tile, a, b, c, m, k, n):
    layout = Layout()
    layout.dims[0] = 1
    layout.n = 1
    layout.rank = 1
    values = [ctypes.c_void_p(a.data_ptr()), ctypes.c_int64(0), ctypes.c_int64(k), ctypes.c_int64(1),
              ctypes.c_void_p(b.data_ptr()), ctypes.c_int64(0), ctypes.c_int64(n), ctypes.c_int64(1),
              ctypes.c_void_p(c.data_ptr()), ctypes.c_int64(0), ctypes.c_int64(n), ctypes.c_int64(1),
              ctypes.c_int32(m), ctypes.c_int32(n), ctypes.c_int32(k), ctypes.c_float(1.0), ctypes.c_float(0.0),
              layout]
    params = (ctypes.c_void_p * len(values))(*[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in values])
    gx, gy = (n + tile - 1) // tile, (m + tile - 1) // tile

    def run():
        check(cuda.cuLaunchKernel(fn, gx, gy, 1, 16, 16, 1, 0, None, params, None), "launch")
    run.keep = (values, params)
    return run


def timed(run, reps=30):
    for _ in range(3):
        run()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        run()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    return statistics.median(times)


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.zeros(1, device="cuda")                      # creates the primary context torch and we share
    gemm_h = f"{KERNELS}/gemm.h"
    bounds = '#define KERNEL extern "C" __global__ __launch_bounds__(256, 2)\n'
    candidates = [("gemm (64x64)", [gemm_h], {}, "gemm", 64, ""), ("gemm_wide", [gemm_h], {}, "gemm_wide", 128, "")]
    for spec in sys.argv[2:]:
        path, entry, *rest = spec.split(":")
        defines = dict(d.split("=") for d in rest[0].split(",")) if rest else {}
        label = f"{entry} {' '.join(rest)}".strip()
        candidates += [(label, [gemm_h, path], defines, entry, 128, ""),
                       (label + " lb2", [gemm_h, path], defines, entry, 128, bounds)]
    shapes = [(4096, 4096, 4096), (16384, 512, 2048), (16384, 2048, 512), (8192, 512, 2048), (1000, 777, 1100)]
    results = []
    fns = []
    for label, files, defines, entry, tile, extra in candidates:
        src = source(files, "#undef KERNEL\n" + extra if extra else "")
        try:
            fn, attrs = function(compile_cubin(src, defines), entry)
        except RuntimeError as e:
            print(f"{label}: {e}")
            continue
        print(f"{label:18s} regs {attrs['regs']:3d}  spilled {attrs['local_bytes']:4d} B  shared {attrs['shared_bytes']} B")
        fns.append((label, fn, tile, attrs))
    g = torch.Generator(device="cuda").manual_seed(1)
    for m, k, n in shapes:
        a = torch.randn(m, k, device="cuda", generator=g)
        b = torch.randn(k, n, device="cuda", generator=g)
        c = torch.empty(m, n, device="cuda")
        want = (a.double() @ b.double())
        scale = want.abs().max().item()
        peer = timed(lambda: torch.matmul(a, b, out=c))
        flops = 2.0 * m * n * k
        print(f"\n{m}x{k}x{n}: cuBLAS FP32 {peer:.3f} ms {flops / peer / 1e9:.1f} TFLOP/s")
        for label, fn, tile, attrs in fns:
            run = launcher(fn, tile, a, b, c, m, k, n)
            c.fill_(float("nan"))
            run()
            torch.cuda.synchronize()
            err = ((c.double() - want).abs().max().item()) / scale
            ms = timed(run)
            ok = err < 1e-5
            print(f"  {label:18s} {ms:7.3f} ms {flops / ms / 1e9:6.1f} TFLOP/s  {peer / ms:5.2f}x cuBLAS  "
                  f"{'ok' if ok else 'WRONG'} rel={err:.1e}")
            results.append(dict(kernel=label, m=m, k=k, n=n, ms=ms, tflops=flops / ms / 1e9, cublas_ms=peer,
                                ratio=peer / ms, rel=err, **attrs))
    if len(sys.argv) > 1:
        json.dump(dict(device=torch.cuda.get_device_name(), results=results), open(sys.argv[1], "w"), indent=1)


if __name__ == "__main__":
    main()
