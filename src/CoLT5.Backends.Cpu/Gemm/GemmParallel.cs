// Multi-threaded GEMM scheduling: splits one product into a tm × tn grid of independent C blocks (one per thread,
// each packing its own operands), or spreads the products of a batch over threads via a shared counter.
using System;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Threading;

namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>Thread-count choice, work partitioning and the per-thread job bodies.</summary>
internal static unsafe class GemmParallel
{
    /// <summary>
    /// Multiply-adds each thread must get before another thread is used (≈ 10 µs of kernel time). Measured with
    /// hot workers, two threads already win from ≈ 96³; the margin covers a worker that has to be woken.
    /// </summary>
    internal static long MinMacsPerThread { get; set; } = 1L << 20;

    /// <summary>Threads to use for one product of the given size.</summary>
    public static int ChooseThreads(int m, int n, int k, int maxThreads)
    {
        long macs = (long)m * n * k;
        long byWork = Math.Max(1, macs / MinMacsPerThread);
        return (int)Math.Min(Math.Min(maxThreads, GemmThreadPool.MaxParallelism), byWork);
    }

    /// <summary>
    /// Computes one product with <paramref name="threads"/> threads, each owning a block of C and packing its own
    /// operands (sharing packed B behind a barrier was measured no faster here, and is less robust to noise).
    /// </summary>
    public static void Multiply<T>(in GemmArgs<T> args, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new MultiplyJob<T> { Args = args };
        ChooseGrid<T>(args.M, args.N, args.K, threads, out job.GridM, out job.GridN);
        GemmThreadPool.Run(job.GridM * job.GridN, &RunBlock<T>, Unsafe.AsPointer(ref job));
    }

    /// <summary>Computes a batch of products, one whole product at a time per thread.</summary>
    public static void MultiplyAcrossBatch<T>(in GemmArgs<T> args, int batch, long* aOffsets, long* bOffsets,
        long* cOffsets, int threads)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var job = new BatchJob<T>
        {
            Args = args,
            Batch = batch,
            AOffsets = aOffsets,
            BOffsets = bOffsets,
            COffsets = cOffsets,
        };
        GemmThreadPool.Run(threads, &RunBatchPart<T>, Unsafe.AsPointer(ref job));
    }

    /// <summary>
    /// Picks the tm × tn thread grid minimising per-thread cost: the (tile-rounded) multiply-adds of its block
    /// plus the packing each thread repeats (its A rows and B columns over the full depth).
    /// </summary>
    internal static void ChooseGrid<T>(int m, int n, int k, int threads, out int gridM, out int gridN)
        where T : unmanaged
    {
        int mr = GemmConfig.Mr<T>();
        int nr = GemmConfig.Nr<T>();
        long tilesM = GemmDriver.CeilDiv(m, mr);
        long tilesN = GemmDriver.CeilDiv(n, nr);
        gridM = 1;
        gridN = threads;
        double best = double.MaxValue;
        for (int tm = 1; tm <= threads; tm++)
        {
            if (threads % tm != 0)
            {
                continue;
            }

            int tn = threads / tm;
            long rows = Math.Min(m, ((tilesM + tm - 1) / tm) * mr);
            long cols = Math.Min(n, ((tilesN + tn - 1) / tn) * nr);
            // One packed element costs roughly as much as 16 multiply-adds of the kernel.
            double cost = ((double)rows * cols * k) + (16.0 * k * (rows + cols));
            if (cost < best)
            {
                best = cost;
                gridM = tm;
                gridN = tn;
            }
        }
    }

    private static void RunBlock<T>(void* ctx, int part)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref MultiplyJob<T> job = ref Unsafe.AsRef<MultiplyJob<T>>(ctx);
        int ti = part % job.GridM;
        int tj = part / job.GridM;
        Range(job.Args.M, GemmConfig.Mr<T>(), ti, job.GridM, out int m0, out int m1);
        Range(job.Args.N, GemmConfig.Nr<T>(), tj, job.GridN, out int n0, out int n1);
        GemmWorkspace ws = GemmWorkspace.Rent();
        try
        {
            GemmDriver.Run(job.Args, m0, m1, n0, n1, ws);
        }
        finally
        {
            GemmWorkspace.Return(ws);
        }
    }

    private static void RunBatchPart<T>(void* ctx, int part)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref BatchJob<T> job = ref Unsafe.AsRef<BatchJob<T>>(ctx);
        GemmWorkspace ws = GemmWorkspace.Rent();
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref job.Next) - 1) < job.Batch)
            {
                GemmArgs<T> g = job.Args;
                g.A += job.AOffsets[i];
                g.B += job.BOffsets[i];
                g.C += job.COffsets[i];
                GemmDriver.Run(g, 0, g.M, 0, g.N, ws);
            }
        }
        finally
        {
            GemmWorkspace.Return(ws);
        }
    }

    /// <summary>Part <paramref name="index"/> of <paramref name="parts"/> of [0, size), split on whole tiles.</summary>
    private static void Range(int size, int tile, int index, int parts, out int start, out int end)
    {
        long tiles = GemmDriver.CeilDiv(size, tile);
        start = (int)Math.Min(size, tiles * index / parts * tile);
        end = (int)Math.Min(size, tiles * (index + 1) / parts * tile);
    }

    private struct MultiplyJob<T>
        where T : unmanaged
    {
        public GemmArgs<T> Args;
        public int GridM;
        public int GridN;
    }

    private struct BatchJob<T>
        where T : unmanaged
    {
        public GemmArgs<T> Args;
        public int Batch;
        public int Next;
        public long* AOffsets;
        public long* BOffsets;
        public long* COffsets;
    }
}
