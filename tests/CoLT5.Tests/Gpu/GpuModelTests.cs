// End to end on a GPU: the micro CoLT5 (and the baselines) built from the same seed on the CPU and on a GPU device
// give the same loss, logits and gradients, one AdamW step moves the parameters alike, and greedy generation
// produces the same ids.
using System;
using System.Linq;
using CoLT5.Backends.Gpu;
using CoLT5.Model;
using CoLT5.Model.Generation;
using CoLT5.Nn.Functional;
using CoLT5.Nn.Optim;
using CoLT5.Tensors;
using CoLT5.Tensors.Backends;
using CoLT5.Tensors.Memory;
using CoLT5.Tests.Model;
using CoLT5.Tests.Testing;
using Xunit;

namespace CoLT5.Tests.Gpu;

public abstract class GpuModelTests
{
    protected abstract Device Under { get; }

    [Theory]
    [InlineData("colt5")]
    [InlineData("t5")]
    [InlineData("longt5-local")]
    [InlineData("longt5-tglobal")]
    [InlineData("fnet")]
    [InlineData("sparse-mixer")]
    public void TrainStepMatchesTheCpu(string encoder)
    {
        var device = Under;
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro(encoder);
        using var cpu = Seq2SeqModel.Create(config, seed: 3, DType.Float32, Device.Cpu);
        using var gpu = Seq2SeqModel.Create(config, seed: 3, DType.Float32, device);
        var (ids, mask) = ModelTestKit.Inputs(2, 19, config.VocabSize, 7, padLastRow: 5);
        var (dec, labels) = ModelTestKit.Targets(2, 6, config.VocabSize, 8, [6, 3]);

        var before = Step(cpu, ids, mask, dec, labels);
        var after = Step(gpu, ids.To(device), mask, dec.To(device), labels.To(device));
        Closeness.Assert($"{encoder} logits", after.Logits, before.Logits, 1e-4, 1e-5);
        Closeness.Assert($"{encoder} loss", [after.Loss], [before.Loss], 1e-5);
        foreach (var (name, p) in cpu.Parameters.Parameters)
        {
            var other = gpu.Parameters.Parameters.First(q => q.Name == name).Tensor;
            Assert.Equal(device, other.Device);
            // one AdamW step of lr 1e-2 from the same start: parameters agree to rounding of the gradients
            Closeness.Assert($"{encoder} {name} after a step", other.ToDoubleArray(), p.ToDoubleArray(), 1e-4, 1e-5);
        }
        var backend = (GpuBackend)BackendRegistry.Get(device);
        Assert.True(backend.LiveBytes > 0);
    }

    private static (double[] Logits, double Loss) Step(Seq2SeqModel model, Tensor ids, bool[] mask, Tensor dec, Tensor labels)
    {
        using var optimizer = new AdamW(model.Parameters.Parameters, learningRate: 1e-2);
        using var output = model.Forward(ids, mask, dec, labels);
        output.Loss!.Backward();
        optimizer.Step();
        return (output.Logits.ToDoubleArray(), output.Loss.Item());
    }

    [Fact]
    public void GreedyGenerationMatchesTheCpu()
    {
        var device = Under;
        using var scope = DisposeScope.Enter();
        var config = ModelTestKit.Micro("colt5");
        using var cpu = Seq2SeqModel.Create(config, seed: 5, DType.Float32, Device.Cpu);
        using var gpu = Seq2SeqModel.Create(config, seed: 5, DType.Float32, device);
        var (ids, mask) = ModelTestKit.Inputs(2, 23, config.VocabSize, 9, padLastRow: 4);
        var options = new GenerationOptions { MaxNewTokens = 12 };
        var want = SequenceGenerator.Generate(cpu, ids, mask, options, TestContext.Current.CancellationToken);
        var got = SequenceGenerator.Generate(gpu, ids.To(device), mask, options, TestContext.Current.CancellationToken);
        Assert.Equal(want.Sequences, got.Sequences);
    }

    // Inference (encoder, greedy decoding) and a training step (forward, backward) return every device block.
    [Theory]
    [InlineData("colt5")]
    [InlineData("t5")]
    [InlineData("longt5-tglobal")]
    [InlineData("fnet")]
    [InlineData("sparse-mixer")]
    public void DeviceMemoryReturnsToThePoolWhenTensorsAreDisposed(string encoder)
    {
        var device = Under;
        var backend = (GpuBackend)BackendRegistry.Get(device);
        GC.Collect();                                          // earlier tests' unreachable buffers are counted now
        GC.WaitForPendingFinalizers();
        FourierMix.ReleaseCachedMatrices();                    // and so are fnet's cached DFT matrices
        var live = backend.LiveBuffers;
        using (var scope = DisposeScope.Enter())
        {
            using var model = Seq2SeqModel.Create(ModelTestKit.Micro(encoder), seed: 3, DType.Float32, device);
            var (ids, mask) = ModelTestKit.Inputs(2, 17, 40, 7);
            var (dec, labels) = ModelTestKit.Targets(2, 5, 40, 8);
            using (Tensor.NoGrad())
                model.Encode(ids.To(device), mask);
            SequenceGenerator.Generate(model, ids.To(device), mask, new GenerationOptions { MaxNewTokens = 4 },
                TestContext.Current.CancellationToken);
            using var output = model.Forward(ids.To(device), mask, dec.To(device), labels.To(device));
            output.Loss!.Backward();
            Assert.True(backend.LiveBuffers > live);
        }
        FourierMix.ReleaseCachedMatrices();        // fnet's DFT matrices are cached between calls on purpose
        Assert.True(live == backend.LiveBuffers, $"{encoder}: {backend.LiveBuffers - live} device buffers are still live");
    }
}

[Trait("Category", "Gpu")]
[Collection(GpuCollection.Name)]
public sealed class OpenClModelTests : GpuModelTests
{
    protected override Device Under => GpuDevices.Require(DeviceKind.OpenCl);
}

[Trait("Category", "Gpu")]
[Trait("Category", "Cuda")]
[Collection(GpuCollection.Name)]
public sealed class CudaModelTests : GpuModelTests
{
    protected override Device Under => GpuDevices.Require(DeviceKind.Cuda);
}
