#!/usr/bin/env bash
# Type-checks the CUDA variant of every portable kernel file (src/CoLT5.Backends.Gpu/Kernels/*.h) with Debian's
# clang-14 as CUDA device code, without a CUDA SDK or GPU: prelude.cu + the shared headers + the file, composed as
# KernelCache.Source composes them for NVRTC. Prints one line per file; exits non-zero if any file fails.
#
#   .ci/check-cuda-kernels.sh [kernels-dir]        (CLANG=clang-14 by default)
#
# Each file is checked under two define sets (float and int, so both sides of `#if IS_FLOAT` are seen) unless it
# names its own with lines of the form `// cuda-check-defines: T=float IS_FLOAT=1` (one set per line). Defines are
# written as #define lines, as CudaRuntime does (NVRTC's builtin header breaks under -DT=...). NVRTC acceptance
# itself still needs a GPU host; this catches undefined names, type errors and CUDA-only mistakes early.
set -uo pipefail
cd "$(dirname "$0")/.."

kernels=${1:-src/CoLT5.Backends.Gpu/Kernels}
clang=${CLANG:-clang-14}
prelude=$kernels/prelude.cu
shared=(layout.h errors.h)      # included before every kernel file, in this order (KernelCache.Source)
default_sets=(
    "T=float IS_FLOAT=1 S=float D=int CONVERT(v)=F2I_SAT(v)"
    "T=int IS_FLOAT=0 S=int D=float CONVERT(v)=I2F(v)"
)

if ! command -v "$clang" >/dev/null 2>&1; then
    echo "FAIL cuda-kernels: $clang not found (apt-get install clang-14)"
    exit 2
fi
if [ ! -f "$prelude" ]; then
    echo "FAIL cuda-kernels: $prelude not found"
    exit 2
fi
shopt -s nullglob
files=("$kernels"/*.h)
if [ ${#files[@]} -eq 0 ]; then
    echo "ok   cuda-kernels: no kernel files in $kernels"
    exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What the CUDA headers would supply, for clang with -nocudainc: the execution-space attributes, the built-in
# variables, and clang's own device function wrappers (expf, rsqrtf, __int_as_float, __umulhi, …) over libdevice
# declarations. Atomics come from the SDK's headers in real builds, so they are spelled out here. __shared__ carries
# `static` so a __shared__ (LOCAL) function parameter is an error, as NVRTC makes it, where clang alone accepts it;
# an `extern __shared__` (dynamic shared memory) declaration would need this changed.
cat >"$tmp/cuda_shim.h" <<'EOF'
#define CUDA_VERSION 12000
#define __host__ __attribute__((host))
#define __device__ __attribute__((device))
#define __global__ __attribute__((global))
#define __shared__ static __attribute__((shared))
#define __constant__ __attribute__((constant))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
#define __forceinline__ __inline__ __attribute__((always_inline))
typedef __SIZE_TYPE__ size_t;
#include <__clang_cuda_builtin_vars.h>
#include <__clang_cuda_libdevice_declares.h>
#include <__clang_cuda_device_functions.h>
#define INT_MAX __INT_MAX__
#define INT_MIN (-__INT_MAX__ - 1)
#define HUGE_VAL __builtin_huge_val()
#define HUGE_VALF __builtin_huge_valf()
#include <__clang_cuda_math.h>
#undef INT_MAX
#undef INT_MIN
#undef HUGE_VAL
#undef HUGE_VALF
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
#define SHIM_FN static __device__ __forceinline__
SHIM_FN float atomicAdd(float* p, float v) { return __fAtomicAdd(p, v); }
SHIM_FN double atomicAdd(double* p, double v) { return __dAtomicAdd(p, v); }
SHIM_FN int atomicAdd(int* p, int v) { return __iAtomicAdd(p, v); }
SHIM_FN unsigned int atomicAdd(unsigned int* p, unsigned int v) { return __uAtomicAdd(p, v); }
SHIM_FN unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return __ullAtomicAdd(p, v); }
SHIM_FN int atomicMax(int* p, int v) { return __iAtomicMax(p, v); }
SHIM_FN unsigned int atomicMax(unsigned int* p, unsigned int v) { return __uAtomicMax(p, v); }
SHIM_FN int atomicMin(int* p, int v) { return __iAtomicMin(p, v); }
SHIM_FN unsigned int atomicMin(unsigned int* p, unsigned int v) { return __uAtomicMin(p, v); }
SHIM_FN int atomicCAS(int* p, int c, int v) { return __iAtomicCAS(p, c, v); }
SHIM_FN unsigned int atomicCAS(unsigned int* p, unsigned int c, unsigned int v) { return __uAtomicCAS(p, c, v); }
SHIM_FN unsigned long long atomicCAS(unsigned long long* p, unsigned long long c, unsigned long long v)
{ return __ullAtomicCAS(p, c, v); }
SHIM_FN int atomicExch(int* p, int v) { return __iAtomicExch(p, v); }
SHIM_FN float atomicExch(float* p, float v) { return __fAtomicExch(p, v); }
SHIM_FN int atomicOr(int* p, int v) { return __iAtomicOr(p, v); }
SHIM_FN int atomicAnd(int* p, int v) { return __iAtomicAnd(p, v); }
EOF

# Writes one composed translation unit: the defines, then prelude, shared headers and the file behind #line markers.
compose() {
    local file=$1 set=$2 out=$3 name base
    base=$(basename "$file")
    {
        for define in $set; do
            name=${define%%=*}
            if [ "$name" = "$define" ]; then
                echo "#define $define 1"
            else
                echo "#define $name ${define#*=}"
            fi
        done
        echo "#line 1 \"prelude.cu\""
        cat "$prelude"
        echo
        for header in "${shared[@]}"; do
            [ "$header" = "$base" ] && break
            [ -f "$kernels/$header" ] || continue
            echo "#line 1 \"$header\""
            cat "$kernels/$header"
            echo
        done
        echo "#line 1 \"$base\""
        cat "$file"
        echo
    } >"$out"
}

failed=0
for file in "${files[@]}"; do
    base=$(basename "$file")
    sets=()
    while IFS= read -r line; do
        sets+=("$line")
    done < <(sed -nE 's#^[[:space:]]*//[[:space:]]*cuda-check-defines:[[:space:]]*(.*)$#\1#p' "$file")
    [ ${#sets[@]} -eq 0 ] && sets=("${default_sets[@]}")
    ok=1
    for i in "${!sets[@]}"; do
        unit="$tmp/${base%.h}.$i.cu"
        compose "$file" "${sets[$i]}" "$unit"
        if ! "$clang" -x cuda --cuda-device-only --cuda-gpu-arch=sm_80 -nocudainc -nocudalib -fsyntax-only \
            -ferror-limit=20 -include "$tmp/cuda_shim.h" "$unit" >"$tmp/log" 2>&1; then
            echo "FAIL $base [${sets[$i]}]"
            sed -e "s#$tmp/##g" -e 's/^/    /' "$tmp/log" | head -n 40
            ok=0
            break
        fi
    done
    if [ $ok -eq 1 ]; then
        echo "ok   $base (${#sets[@]} define set(s))"
    else
        failed=$((failed + 1))
    fi
done

echo "cuda-kernels: $((${#files[@]} - failed)) ok, $failed failed"
[ $failed -eq 0 ]
