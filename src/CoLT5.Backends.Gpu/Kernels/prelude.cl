// OpenCL C prelude of the portable kernel dialect: the same names prelude.cu defines for CUDA.
#define KERNEL __kernel
#define GLOBAL __global
#define LOCAL __local
#define LOCAL_PTR __local
#define DEVICE_FN static inline
#define BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#define GROUP_ID(d) ((i64)get_group_id(d))
#define NUM_GROUPS(d) ((i64)get_num_groups(d))
#define LOCAL_ID(d) ((int)get_local_id(d))
#define GROUP_SIZE(d) ((int)get_local_size(d))
typedef long i64;
typedef ulong u64;
typedef float4 f32x4;                   /* four floats, 16-byte aligned (.x .y .z .w) */
#define EXPF(x) exp(x)
#define LOGF(x) log(x)
#define SQRTF(x) sqrt(x)
#define RSQRTF(x) rsqrt(x)
#define TANHF(x) tanh(x)
#define POWF(x, y) pow(x, y)
#define FABSF(x) fabs(x)
#define FMAF(a, b, c) fma(a, b, c)
#define FMAXF(a, b) fmax(a, b)
#define EXPD(x) exp(x)
#define LOGD(x) log(x)
#define FMAXD(a, b) fmax(a, b)
#define FMIND(a, b) fmin(a, b)
#define FMINF(a, b) fmin(a, b)
#define ISNAN(x) ((x) != (x))
#define AS_FLOAT(u) as_float(u)
#define AS_UINT(f) as_uint(f)
#define MULHI32(a, b) mul_hi((uint)(a), (uint)(b))
#define F2I_SAT(x) convert_int_sat_rtz(x)
#define I2F(x) convert_float_rte(x)
#define ATOMIC_ADD_F32(p, v) atomic_add_f32(p, v)
#define ATOMIC_ADD_I32(p, v) atomic_add(p, v)
#define ATOMIC_ADD_LOCAL_F32(p, v) atomic_add_local_f32(p, v)

// Float atomic add by compare-and-swap (OpenCL 1.2 has integer atomics only).
static inline void atomic_add_f32(volatile __global float* p, float v)
{
    uint expected = as_uint(*p);
    while (1)
    {
        uint seen = atomic_cmpxchg((volatile __global uint*)p, expected, as_uint(as_float(expected) + v));
        if (seen == expected)
            break;
        expected = seen;
    }
}

// The same in local memory (the attention backward's per-bucket histogram).
static inline void atomic_add_local_f32(volatile __local float* p, float v)
{
    uint expected = as_uint(*p);
    while (1)
    {
        uint seen = atomic_cmpxchg((volatile __local uint*)p, expected, as_uint(as_float(expected) + v));
        if (seen == expected)
            break;
        expected = seen;
    }
}

// Products and sums that must round like the CPU's (no fused multiply-add), e.g. random numbers.
#pragma OPENCL FP_CONTRACT OFF
#define MUL_RN(a, b) ((a) * (b))
#define ADD_RN(a, b) ((a) + (b))

// float64 only where a program asks for it (copies that narrow host-made float64 tables).
#if NEEDS_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
