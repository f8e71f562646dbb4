// The backend conformance suite on every GPU device: OpenCL (PoCL in CI) and CUDA (the GPU host), float32.
using CoLT5.Tensors;
using CoLT5.Tests.Backends;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Gpu;

[Trait("Category", "Gpu")]
[Collection(GpuCollection.Name)]
public sealed class OpenClConformanceTests : BackendConformance
{
    protected override Device Under => GpuDevices.Require(DeviceKind.OpenCl);

    protected override DType[] FloatTypes => [DType.Float32];

    protected override double ToleranceScale => 4;

    protected override DType[] CopyTypes => [DType.Float32, DType.Int32, DType.Bool];
}

[Trait("Category", "Gpu")]
[Trait("Category", "Cuda")]
[Collection(GpuCollection.Name)]
public sealed class CudaConformanceTests : BackendConformance
{
    protected override Device Under => GpuDevices.Require(DeviceKind.Cuda);

    protected override DType[] FloatTypes => [DType.Float32];

    protected override double ToleranceScale => 4;

    protected override DType[] CopyTypes => [DType.Float32, DType.Int32, DType.Bool];
}
