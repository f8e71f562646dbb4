// [LibraryImport] declarations of the OpenCL 1.2/2.0 entry points we use, from the ICD loader libOpenCL.so.1
// (no binding package), with the constants and status names they need.
using System.Runtime.InteropServices;

namespace CoLT5.Backends.Gpu.Runtime.OpenCl;

/// <summary>The OpenCL C API, as thin as it comes: status codes in, handles as nint.</summary>
internal static unsafe partial class OpenClNative
{
    /// <summary>The ICD loader's soname (the unversioned .so only exists with the -dev package).</summary>
    public const string Library = "libOpenCL.so.1";

    public const ulong DeviceTypeAll = 0xFFFFFFFF;
    public const ulong MemReadWrite = 1;
    public const uint True = 1;

    public const uint PlatformName = 0x0902;
    public const uint PlatformVersion = 0x0901;
    public const uint DeviceName = 0x102B;
    public const uint DeviceVersion = 0x102F;
    public const uint DriverVersion = 0x102D;
    public const uint DeviceGlobalMemSize = 0x101F;
    public const uint DeviceMaxComputeUnits = 0x1002;
    public const uint DeviceMaxWorkGroupSize = 0x1004;
    public const uint DeviceOpenClCVersion = 0x103D;
    public const uint ProgramBinarySizes = 0x1165;
    public const uint ProgramBinaries = 0x1166;
    public const uint ProgramBuildLog = 0x1183;

    [LibraryImport(Library)] public static partial int clGetPlatformIDs(uint count, nint* platforms, uint* found);
    [LibraryImport(Library)] public static partial int clGetPlatformInfo(nint platform, uint name, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial int clGetDeviceIDs(nint platform, ulong type, uint count, nint* devices, uint* found);
    [LibraryImport(Library)] public static partial int clGetDeviceInfo(nint device, uint name, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial nint clCreateContext(nint* properties, uint count, nint* devices, nint notify, nint user, int* status);
    [LibraryImport(Library)] public static partial nint clCreateCommandQueue(nint context, nint device, ulong properties, int* status);
    [LibraryImport(Library)] public static partial nint clCreateBuffer(nint context, ulong flags, nuint size, void* host, int* status);
    [LibraryImport(Library)] public static partial int clReleaseMemObject(nint memory);
    [LibraryImport(Library)] public static partial int clEnqueueWriteBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* source, uint waitCount, nint* waits, nint* evt);
    [LibraryImport(Library)] public static partial int clEnqueueReadBuffer(nint queue, nint buffer, uint blocking, nuint offset, nuint size, void* destination, uint waitCount, nint* waits, nint* evt);
    [LibraryImport(Library)] public static partial int clEnqueueCopyBuffer(nint queue, nint source, nint destination, nuint sourceOffset, nuint destinationOffset, nuint size, uint waitCount, nint* waits, nint* evt);
    [LibraryImport(Library)] public static partial nint clCreateProgramWithSource(nint context, uint count, byte** strings, nuint* lengths, int* status);
    [LibraryImport(Library)] public static partial nint clCreateProgramWithBinary(nint context, uint count, nint* devices, nuint* lengths, byte** binaries, int* binaryStatus, int* status);
    [LibraryImport(Library)] public static partial int clBuildProgram(nint program, uint count, nint* devices, byte* options, nint notify, nint user);
    [LibraryImport(Library)] public static partial int clGetProgramInfo(nint program, uint name, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial int clGetProgramBuildInfo(nint program, nint device, uint name, nuint size, void* value, nuint* sizeRet);
    [LibraryImport(Library)] public static partial int clReleaseProgram(nint program);
    [LibraryImport(Library)] public static partial nint clCreateKernel(nint program, byte* name, int* status);
    [LibraryImport(Library)] public static partial int clReleaseKernel(nint kernel);
    [LibraryImport(Library)] public static partial int clSetKernelArg(nint kernel, uint index, nuint size, void* value);
    [LibraryImport(Library)] public static partial int clEnqueueNDRangeKernel(nint queue, nint kernel, uint dims, nuint* offset, nuint* global, nuint* local, uint waitCount, nint* waits, nint* evt);
    [LibraryImport(Library)] public static partial int clFinish(nint queue);
    [LibraryImport(Library)] public static partial int clFlush(nint queue);
    [LibraryImport(Library)] public static partial int clReleaseCommandQueue(nint queue);
    [LibraryImport(Library)] public static partial int clReleaseContext(nint context);

    /// <summary>The symbolic name of an OpenCL status code.</summary>
    public static string StatusName(int code) => code switch
    {
        0 => "CL_SUCCESS",
        -1 => "CL_DEVICE_NOT_FOUND",
        -2 => "CL_DEVICE_NOT_AVAILABLE",
        -3 => "CL_COMPILER_NOT_AVAILABLE",
        -4 => "CL_MEM_OBJECT_ALLOCATION_FAILURE",
        -5 => "CL_OUT_OF_RESOURCES",
        -6 => "CL_OUT_OF_HOST_MEMORY",
        -11 => "CL_BUILD_PROGRAM_FAILURE",
        -30 => "CL_INVALID_VALUE",
        -32 => "CL_INVALID_PLATFORM",
        -33 => "CL_INVALID_DEVICE",
        -34 => "CL_INVALID_CONTEXT",
        -36 => "CL_INVALID_COMMAND_QUEUE",
        -38 => "CL_INVALID_MEM_OBJECT",
        -42 => "CL_INVALID_BINARY",
        -43 => "CL_INVALID_BUILD_OPTIONS",
        -44 => "CL_INVALID_PROGRAM",
        -45 => "CL_INVALID_PROGRAM_EXECUTABLE",
        -46 => "CL_INVALID_KERNEL_NAME",
        -48 => "CL_INVALID_KERNEL",
        -49 => "CL_INVALID_ARG_INDEX",
        -50 => "CL_INVALID_ARG_VALUE",
        -51 => "CL_INVALID_ARG_SIZE",
        -52 => "CL_INVALID_KERNEL_ARGS",
        -53 => "CL_INVALID_WORK_DIMENSION",
        -54 => "CL_INVALID_WORK_GROUP_SIZE",
        -55 => "CL_INVALID_WORK_ITEM_SIZE",
        -61 => "CL_INVALID_BUFFER_SIZE",
        -63 => "CL_INVALID_GLOBAL_WORK_SIZE",
        -1001 => "CL_PLATFORM_NOT_FOUND_KHR",
        _ => "CL_UNKNOWN_STATUS",
    };
}
