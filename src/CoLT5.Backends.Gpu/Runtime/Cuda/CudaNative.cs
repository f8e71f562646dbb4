// [LibraryImport] declarations of the CUDA driver API entry points we use (libcuda.so.1, no binding package),
// with the constants they need. Signatures and values checked against cuda.h of CUDA 12.6.3.
using System.Runtime.InteropServices;

namespace CoLT5.Backends.Gpu.Runtime.Cuda;

/// <summary>
/// The CUDA driver API, as thin as it comes: every call returns a CUresult (0 = success), handles are nint,
/// CUdeviceptr is ulong, size_t is nuint. Exported symbol names are the versioned ones cuda.h's macros map to
/// (cuMemAlloc → cuMemAlloc_v2, …); the _ptsz/_ptds variants are never used.
/// </summary>
internal static unsafe partial class CudaNative
{
    static CudaNative() => CudaLibraries.EnsureResolver();

    private const string Lib = CudaLibraries.Driver;

    // CUresult values (enum cudaError_enum) the runtime tests for or names without the driver.
    public const int CUDA_SUCCESS = 0;
    public const int CUDA_ERROR_INVALID_VALUE = 1;
    public const int CUDA_ERROR_OUT_OF_MEMORY = 2;
    public const int CUDA_ERROR_NOT_INITIALIZED = 3;
    public const int CUDA_ERROR_DEINITIALIZED = 4;
    public const int CUDA_ERROR_STUB_LIBRARY = 34;
    public const int CUDA_ERROR_DEVICE_UNAVAILABLE = 46;
    public const int CUDA_ERROR_NO_DEVICE = 100;
    public const int CUDA_ERROR_INVALID_DEVICE = 101;
    public const int CUDA_ERROR_INVALID_IMAGE = 200;
    public const int CUDA_ERROR_INVALID_CONTEXT = 201;
    public const int CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
    public const int CUDA_ERROR_INVALID_PTX = 218;
    public const int CUDA_ERROR_JIT_COMPILER_NOT_FOUND = 221;
    public const int CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;
    public const int CUDA_ERROR_INVALID_HANDLE = 400;
    public const int CUDA_ERROR_NOT_FOUND = 500;
    public const int CUDA_ERROR_ILLEGAL_ADDRESS = 700;
    public const int CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701;
    public const int CUDA_ERROR_LAUNCH_TIMEOUT = 702;
    public const int CUDA_ERROR_CONTEXT_IS_DESTROYED = 709;
    public const int CUDA_ERROR_ASSERT = 710;
    public const int CUDA_ERROR_HARDWARE_STACK_ERROR = 714;
    public const int CUDA_ERROR_ILLEGAL_INSTRUCTION = 715;
    public const int CUDA_ERROR_MISALIGNED_ADDRESS = 716;
    public const int CUDA_ERROR_INVALID_ADDRESS_SPACE = 717;
    public const int CUDA_ERROR_INVALID_PC = 718;
    public const int CUDA_ERROR_LAUNCH_FAILED = 719;
    public const int CUDA_ERROR_EXTERNAL_DEVICE = 911;
    public const int CUDA_ERROR_UNKNOWN = 999;

    // CUdevice_attribute
    public const int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    public const int CU_DEVICE_ATTRIBUTE_WARP_SIZE = 10;
    public const int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;

    // CUstream_flags
    public const uint CU_STREAM_DEFAULT = 0x0;
    public const uint CU_STREAM_NON_BLOCKING = 0x1;

    // CUjit_option
    public const int CU_JIT_INFO_LOG_BUFFER = 3;
    public const int CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
    public const int CU_JIT_ERROR_LOG_BUFFER = 5;
    public const int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

    /// <summary>True for the errors cuda.h documents as leaving the context unusable ("any further CUDA work will
    /// return the same error", or for 710 "the context cannot be used anymore").</summary>
    public static bool IsSticky(int status) => status is CUDA_ERROR_ILLEGAL_ADDRESS or CUDA_ERROR_LAUNCH_TIMEOUT
        or CUDA_ERROR_ASSERT or CUDA_ERROR_HARDWARE_STACK_ERROR or CUDA_ERROR_ILLEGAL_INSTRUCTION
        or CUDA_ERROR_MISALIGNED_ADDRESS or CUDA_ERROR_INVALID_ADDRESS_SPACE or CUDA_ERROR_INVALID_PC
        or CUDA_ERROR_LAUNCH_FAILED or CUDA_ERROR_EXTERNAL_DEVICE;

    /// <summary>Names for the codes above, used only when cuGetErrorName itself fails.</summary>
    public static string FallbackName(int status) => status switch
    {
        CUDA_SUCCESS => "CUDA_SUCCESS",
        CUDA_ERROR_INVALID_VALUE => "CUDA_ERROR_INVALID_VALUE",
        CUDA_ERROR_OUT_OF_MEMORY => "CUDA_ERROR_OUT_OF_MEMORY",
        CUDA_ERROR_NOT_INITIALIZED => "CUDA_ERROR_NOT_INITIALIZED",
        CUDA_ERROR_DEINITIALIZED => "CUDA_ERROR_DEINITIALIZED",
        CUDA_ERROR_STUB_LIBRARY => "CUDA_ERROR_STUB_LIBRARY",
        CUDA_ERROR_DEVICE_UNAVAILABLE => "CUDA_ERROR_DEVICE_UNAVAILABLE",
        CUDA_ERROR_NO_DEVICE => "CUDA_ERROR_NO_DEVICE",
        CUDA_ERROR_INVALID_DEVICE => "CUDA_ERROR_INVALID_DEVICE",
        CUDA_ERROR_INVALID_IMAGE => "CUDA_ERROR_INVALID_IMAGE",
        CUDA_ERROR_INVALID_CONTEXT => "CUDA_ERROR_INVALID_CONTEXT",
        CUDA_ERROR_NO_BINARY_FOR_GPU => "CUDA_ERROR_NO_BINARY_FOR_GPU",
        CUDA_ERROR_INVALID_PTX => "CUDA_ERROR_INVALID_PTX",
        CUDA_ERROR_JIT_COMPILER_NOT_FOUND => "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
        CUDA_ERROR_UNSUPPORTED_PTX_VERSION => "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
        CUDA_ERROR_INVALID_HANDLE => "CUDA_ERROR_INVALID_HANDLE",
        CUDA_ERROR_NOT_FOUND => "CUDA_ERROR_NOT_FOUND",
        CUDA_ERROR_ILLEGAL_ADDRESS => "CUDA_ERROR_ILLEGAL_ADDRESS",
        CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES => "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
        CUDA_ERROR_LAUNCH_TIMEOUT => "CUDA_ERROR_LAUNCH_TIMEOUT",
        CUDA_ERROR_CONTEXT_IS_DESTROYED => "CUDA_ERROR_CONTEXT_IS_DESTROYED",
        CUDA_ERROR_ASSERT => "CUDA_ERROR_ASSERT",
        CUDA_ERROR_HARDWARE_STACK_ERROR => "CUDA_ERROR_HARDWARE_STACK_ERROR",
        CUDA_ERROR_ILLEGAL_INSTRUCTION => "CUDA_ERROR_ILLEGAL_INSTRUCTION",
        CUDA_ERROR_MISALIGNED_ADDRESS => "CUDA_ERROR_MISALIGNED_ADDRESS",
        CUDA_ERROR_INVALID_ADDRESS_SPACE => "CUDA_ERROR_INVALID_ADDRESS_SPACE",
        CUDA_ERROR_INVALID_PC => "CUDA_ERROR_INVALID_PC",
        CUDA_ERROR_LAUNCH_FAILED => "CUDA_ERROR_LAUNCH_FAILED",
        CUDA_ERROR_EXTERNAL_DEVICE => "CUDA_ERROR_EXTERNAL_DEVICE",
        CUDA_ERROR_UNKNOWN => "CUDA_ERROR_UNKNOWN",
        _ => $"CUresult {status}",
    };

    // Initialization, version, errors
    [LibraryImport(Lib)] public static partial int cuInit(uint flags);
    [LibraryImport(Lib)] public static partial int cuDriverGetVersion(int* driverVersion);
    [LibraryImport(Lib)] public static partial int cuGetErrorName(int error, byte** str);
    [LibraryImport(Lib)] public static partial int cuGetErrorString(int error, byte** str);

    // Devices
    [LibraryImport(Lib)] public static partial int cuDeviceGetCount(int* count);
    [LibraryImport(Lib)] public static partial int cuDeviceGet(int* device, int ordinal);
    [LibraryImport(Lib)] public static partial int cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Lib)] public static partial int cuDeviceGetAttribute(int* value, int attribute, int device);
    [LibraryImport(Lib)] public static partial int cuDeviceTotalMem_v2(nuint* bytes, int device);

    // Contexts (the device's primary context, made current per calling thread)
    [LibraryImport(Lib)] public static partial int cuDevicePrimaryCtxRetain(nint* context, int device);
    [LibraryImport(Lib)] public static partial int cuDevicePrimaryCtxRelease_v2(int device);
    [LibraryImport(Lib)] public static partial int cuCtxSetCurrent(nint context);
    [LibraryImport(Lib)] public static partial int cuCtxSynchronize();

    // Memory
    [LibraryImport(Lib)] public static partial int cuMemAlloc_v2(ulong* dptr, nuint bytes);
    [LibraryImport(Lib)] public static partial int cuMemFree_v2(ulong dptr);
    [LibraryImport(Lib)] public static partial int cuMemcpyHtoDAsync_v2(ulong dst, void* src, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial int cuMemcpyDtoHAsync_v2(void* dst, ulong src, nuint bytes, nint stream);
    [LibraryImport(Lib)] public static partial int cuMemcpyDtoDAsync_v2(ulong dst, ulong src, nuint bytes, nint stream);

    // Streams
    [LibraryImport(Lib)] public static partial int cuStreamCreate(nint* stream, uint flags);
    [LibraryImport(Lib)] public static partial int cuStreamSynchronize(nint stream);
    [LibraryImport(Lib)] public static partial int cuStreamDestroy_v2(nint stream);

    // Modules and launches
    [LibraryImport(Lib)]
    public static partial int cuModuleLoadDataEx(nint* module, void* image, uint optionCount, int* options,
        void** optionValues);
    [LibraryImport(Lib)] public static partial int cuModuleGetFunction(nint* function, nint module, byte* name);
    [LibraryImport(Lib)] public static partial int cuModuleUnload(nint module);

    [LibraryImport(Lib)]
    public static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ,
        uint blockX, uint blockY, uint blockZ, uint sharedMemBytes, nint stream, void** kernelParams, void** extra);
}
