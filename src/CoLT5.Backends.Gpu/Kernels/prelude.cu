// CUDA prelude of the portable kernel dialect (compiled by NVRTC): the same names prelude.cl defines for OpenCL.
#define KERNEL extern "C" __global__
#define GLOBAL
#define LOCAL __shared__
#define LOCAL_PTR
#define DEVICE_FN static __device__ __forceinline__
#define BARRIER() __syncthreads()
#define GROUP_ID(d) ((i64)((d) == 0 ? blockIdx.x : (d) == 1 ? blockIdx.y : blockIdx.z))
#define NUM_GROUPS(d) ((i64)((d) == 0 ? gridDim.x : (d) == 1 ? gridDim.y : gridDim.z))
#define LOCAL_ID(d) ((int)((d) == 0 ? threadIdx.x : (d) == 1 ? threadIdx.y : threadIdx.z))
#define GROUP_SIZE(d) ((int)((d) == 0 ? blockDim.x : (d) == 1 ? blockDim.y : blockDim.z))
typedef long long i64;
typedef unsigned long long u64;
typedef unsigned int uint;
typedef unsigned char uchar;
typedef float4 f32x4;                   /* four floats, 16-byte aligned (.x .y .z .w) */
#define INFINITY __int_as_float(0x7f800000)
#define NAN __int_as_float(0x7fffffff)
#define FLT_MAX 3.402823466e+38f
#define EXPF(x) expf(x)
#define LOGF(x) logf(x)
#define SQRTF(x) sqrtf(x)
#define RSQRTF(x) rsqrtf(x)
#define TANHF(x) tanhf(x)
#define POWF(x, y) powf(x, y)
#define FABSF(x) fabsf(x)
#define FMAF(a, b, c) fmaf(a, b, c)
#define FMAXF(a, b) fmaxf(a, b)
#define EXPD(x) exp(x)
#define LOGD(x) log(x)
#define FMAXD(a, b) fmax(a, b)
#define FMIND(a, b) fmin(a, b)
#define FMINF(a, b) fminf(a, b)
#define ISNAN(x) ((x) != (x))
#define AS_FLOAT(u) __uint_as_float(u)
#define AS_UINT(f) __float_as_uint(f)
#define MULHI32(a, b) __umulhi((uint)(a), (uint)(b))
static __device__ __forceinline__ int f2i_sat(float x) { return __float2int_rz(x); }
static __device__ __forceinline__ int f2i_sat(double x) { return __double2int_rz(x); }
#define F2I_SAT(x) f2i_sat(x)
#define I2F(x) __int2float_rn(x)
#define ATOMIC_ADD_F32(p, v) atomicAdd(p, v)
#define ATOMIC_ADD_I32(p, v) atomicAdd(p, v)
#define ATOMIC_ADD_LOCAL_F32(p, v) atomicAdd(p, v)

// Products and sums that must round like the CPU's (no fused multiply-add), e.g. random numbers.
#define MUL_RN(a, b) __fmul_rn(a, b)
#define ADD_RN(a, b) __fadd_rn(a, b)
