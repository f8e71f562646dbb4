// Reproducible randomness (Philox stream positions) and memory ownership (scopes, pooling, disposal).
using System;
using System.Linq;
using CoLT5.Backends.Cpu.Memory;
using CoLT5.Tensors;
using CoLT5.Tensors.Memory;
using CoLT5.Tensors.Random;
using Xunit;

namespace CoLT5.Tests.Tensors;

[Collection(nameof(MemoryCollection))]
public sealed class RandomAndMemoryTests
{
    [Fact]
    public void SameSeedSameNumbersAndDrawsDependOnlyOnStreamPosition()
    {
        var g1 = new Generator(42);
        var g2 = new Generator(42);
        using var a = Tensor.RandN(new Shape(1000), g1);
        using var b = Tensor.RandN(new Shape(1000), g2);
        Assert.Equal(a.ToArray<float>(), b.ToArray<float>());
        // drawing 1000 then 500 equals drawing 1500 at once, split
        using var c = Tensor.Rand(new Shape(500), g1);
        var g3 = new Generator(42);
        using var whole = Tensor.RandN(new Shape(1000), g3);
        using var tail = Tensor.Rand(new Shape(500), g3);
        Assert.Equal(c.ToArray<float>(), tail.ToArray<float>());
        Assert.Equal(1500UL, g1.Offset);
    }

    [Fact]
    public void PhiloxKnownAnswer()
    {
        // Random123's published known-answer vector for Philox4x32-10 with zero key and counter.
        var (x0, x1, x2, x3) = Philox.Block(0, 0);
        Assert.Equal((0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u), (x0, x1, x2, x3));
    }

    [Fact]
    public void DeterministicMathIsAccurate()
    {
        foreach (var x in new[] { 1e-300, 1e-5, 0.1, 0.5, 0.999999, 1.0, 1.5, 2.0, 1e10 })
            Assert.Equal(Math.Log(x), DeterministicMath.Log(x), Math.Abs(Math.Log(x)) * 4e-16 + 1e-300);
        for (var t = 0.0; t < 1; t += 1.0 / 97)
            Assert.Equal(Math.Cos(2 * Math.PI * t), DeterministicMath.CosTwoPi(t), 1e-15);
    }

    [Fact]
    public void NormalSamplesHaveTheRightMoments()
    {
        using var x = Tensor.RandN(new Shape(200_000), new Generator(7), 1.5, 2, DType.Float64);
        var v = x.ToArray<double>();
        var mean = v.Average();
        var std = Math.Sqrt(v.Select(a => (a - mean) * (a - mean)).Average());
        Assert.InRange(mean, 1.5 - 0.02, 1.5 + 0.02);     // 5σ of the sample mean is 0.022
        Assert.InRange(std, 2 - 0.02, 2 + 0.02);
    }

    [Fact]
    public void ScopeDisposesIntermediatesAndBuffersReturnToThePool()
    {
        var pool = HostMemoryPool.Shared;
        var before = pool.LiveBlocks;
        using (var scope = DisposeScope.Enter())
        {
            var x = Tensor.Ones(new Shape(64, 64));
            x.RequiresGrad = true;
            var y = (x * 2.0).Exp().Sum();
            y.Backward();
            Assert.True(pool.LiveBlocks > before);
            scope.Detach(x);
            x.Dispose();                                       // the caller owns x (and its grad) now
        }
        Assert.Equal(before, pool.LiveBlocks);
    }

    [Fact]
    public void SteadyStateStepsReuseMemory()
    {
        var pool = HostMemoryPool.Shared;
        using var w = Tensor.RandN(new Shape(256, 256), new Generator(1));
        w.RequiresGrad = true;
        void Step()
        {
            using var scope = DisposeScope.Enter();
            using var x = Tensor.RandN(new Shape(32, 256), new Generator(2));
            var loss = x.MatMul(w).GeluTanh().Square().Mean();
            loss.Backward();
            w.Grad = null;
        }
        Step();
        Step();
        var fresh = pool.FreshAllocations;
        for (var i = 0; i < 5; i++)
            Step();
        Assert.Equal(fresh, pool.FreshAllocations);            // every buffer came from the pool
    }
}

/// <summary>Tests that count pool blocks must not run beside other tests that allocate.</summary>
[CollectionDefinition(nameof(MemoryCollection), DisableParallelization = true)]
public sealed class MemoryCollection;
