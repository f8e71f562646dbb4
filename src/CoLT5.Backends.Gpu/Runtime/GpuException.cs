// Typed failures of the GPU runtimes: the API, the call, the native status code and its symbolic name, and for
// compilations the compiler's whole log.
using System;

namespace CoLT5.Backends.Gpu.Runtime;

/// <summary>A GPU API call failed.</summary>
public class GpuException : Exception
{
    /// <summary>Creates the exception for a failed native call.</summary>
    public GpuException(string api, string call, long code, string codeName, string? detail = null)
        : base($"{api} {call} failed: {codeName} ({code}){(detail is null ? "" : ": " + detail)}")
    {
        Api = api;
        Call = call;
        Code = code;
        CodeName = codeName;
    }

    /// <summary>"OpenCL" or "CUDA" / "NVRTC".</summary>
    public string Api { get; }

    /// <summary>The native function that failed.</summary>
    public string Call { get; }

    /// <summary>The native status code.</summary>
    public long Code { get; }

    /// <summary>The status code's symbolic name ("CL_OUT_OF_RESOURCES", "CUDA_ERROR_ILLEGAL_ADDRESS").</summary>
    public string CodeName { get; }
}

/// <summary>The device has no room for an allocation.</summary>
public sealed class GpuOutOfMemoryException(string api, string call, long code, string codeName, long bytes)
    : GpuException(api, call, code, codeName, $"could not allocate {bytes} bytes")
{
    /// <summary>The size that was asked for.</summary>
    public long Bytes { get; } = bytes;
}

/// <summary>A kernel program did not compile; <see cref="Log"/> holds the compiler's messages with
/// file:line positions of the kernel source.</summary>
public sealed class GpuCompileException(string api, string call, long code, string codeName, string program,
    string log) : GpuException(api, call, code, codeName, $"{program} did not compile:\n{log}")
{
    /// <summary>The kernel file and options.</summary>
    public string Program { get; } = program;

    /// <summary>The compiler log.</summary>
    public string Log { get; } = log;
}
