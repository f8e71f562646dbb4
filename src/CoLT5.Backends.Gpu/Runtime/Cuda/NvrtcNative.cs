// [LibraryImport] declarations of NVRTC, CUDA's run-time C++ compiler (libnvrtc.so.*, no binding package).
// Signatures and result codes checked against nvrtc.h of CUDA 12.6.3.
using System.Runtime.InteropServices;

namespace CoLT5.Backends.Gpu.Runtime.Cuda;

/// <summary>NVRTC: every call returns an nvrtcResult (0 = success); nvrtcProgram is an nint.</summary>
internal static unsafe partial class NvrtcNative
{
    static NvrtcNative() => CudaLibraries.EnsureResolver();

    private const string Lib = CudaLibraries.Nvrtc;

    // nvrtcResult values the runtime tests for.
    public const int NVRTC_SUCCESS = 0;
    public const int NVRTC_ERROR_OUT_OF_MEMORY = 1;
    public const int NVRTC_ERROR_INVALID_INPUT = 3;
    public const int NVRTC_ERROR_INVALID_PROGRAM = 4;
    public const int NVRTC_ERROR_INVALID_OPTION = 5;
    public const int NVRTC_ERROR_COMPILATION = 6;
    public const int NVRTC_ERROR_BUILTIN_OPERATION_FAILURE = 7;

    [LibraryImport(Lib)] public static partial byte* nvrtcGetErrorString(int result);
    [LibraryImport(Lib)] public static partial int nvrtcVersion(int* major, int* minor);

    /// <summary>Absent from old NVRTC builds; callers catch EntryPointNotFoundException.</summary>
    [LibraryImport(Lib)] public static partial int nvrtcGetNumSupportedArchs(int* count);

    /// <summary>The sm numbers NVRTC can target (50, 52, …, 90 for 12.6), ascending.</summary>
    [LibraryImport(Lib)] public static partial int nvrtcGetSupportedArchs(int* archs);

    [LibraryImport(Lib)]
    public static partial int nvrtcCreateProgram(nint* program, byte* source, byte* name, int headerCount,
        byte** headers, byte** includeNames);
    [LibraryImport(Lib)] public static partial int nvrtcDestroyProgram(nint* program);
    [LibraryImport(Lib)] public static partial int nvrtcCompileProgram(nint program, int optionCount, byte** options);
    [LibraryImport(Lib)] public static partial int nvrtcGetProgramLogSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial int nvrtcGetProgramLog(nint program, byte* log);
    [LibraryImport(Lib)] public static partial int nvrtcGetPTXSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial int nvrtcGetPTX(nint program, byte* ptx);
    [LibraryImport(Lib)] public static partial int nvrtcGetCUBINSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial int nvrtcGetCUBIN(nint program, byte* cubin);
}
