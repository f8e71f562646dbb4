// A tiny persistent worker pool for GEMM: the caller runs part 0, dedicated background threads run the others, and
// the caller takes over any part whose worker has not started yet (a sleeping worker can wake late); idle workers
// spin briefly so back-to-back calls stay cheap, then block — they never spin indefinitely.
using System;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;

namespace CoLT5.Backends.Cpu.Gemm;

/// <summary>Runs <c>fn(ctx, t)</c> for t in [0, parts) on the caller plus persistent workers.</summary>
internal static unsafe class GemmThreadPool
{
    private const int Idle = 0;
    private const int Posted = 1;
    private const int Claimed = 2;
    private const int Stolen = 3;

    private static readonly Signal Done = new();
    private static Worker[] _workers = [];
    private static int _busy;
    private static int _remaining;
    private static delegate*<void*, int, void> _fn;
    private static void* _ctx;

    /// <summary>Largest useful part count: one per logical processor.</summary>
    public static int MaxParallelism => Environment.ProcessorCount;

    /// <summary>
    /// How long an idle worker (or the waiting caller) polls, yielding, before it blocks, in microseconds. Waking a
    /// blocked thread costs 20–90 µs on this VM, and far more when the scheduler queues it behind the caller on the
    /// caller's core, so a worker stays hot across GEMMs issued within half a millisecond of each other.
    /// </summary>
    internal static int SpinMicroseconds { get; set; } = 500;

    /// <summary>
    /// Runs fn(ctx, t) for every t in [0, parts), part 0 on the calling thread. Parts must never wait for each
    /// other: any of them may run on the caller, one after another — when the pool is already in use (a concurrent
    /// or nested call) or when a worker has not picked its part up by the time the caller is done with its own.
    /// </summary>
    /// <param name="parts">Number of parts (threads) to run.</param>
    /// <param name="fn">The part body; must not retain ctx after returning.</param>
    /// <param name="ctx">Shared job state, valid until this method returns.</param>
    public static void Run(int parts, delegate*<void*, int, void> fn, void* ctx)
    {
        if (parts < 2 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int t = 0; t < parts; t++)
            {
                fn(ctx, t);
            }

            return;
        }

        try
        {
            Worker[] workers = EnsureWorkers(parts - 1);
            _fn = fn;
            _ctx = ctx;
            Done.Reset();
            Volatile.Write(ref _remaining, parts - 1);
            for (int t = 1; t < parts; t++)
            {
                workers[t - 1].Post(t);
            }

            Exception? error = null;
            RunPart(fn, ctx, 0, ref error);

            // Take over the parts no worker has claimed yet, then wait for the claimed ones: the workers read ctx
            // (which may live on the caller's stack), so this must not return while any of them still runs.
            for (int t = 1; t < parts; t++)
            {
                if (workers[t - 1].TrySteal())
                {
                    RunPart(fn, ctx, t, ref error);
                    Interlocked.Decrement(ref _remaining);
                }
            }

            // The count, not the signal, says when the claimed parts are done: a worker decrements before it
            // sets Done, so the previous call's worker can set Done after this call reset it. Re-arm and re-check
            // until the count reaches zero; a stale set only costs one more pass.
            while (Volatile.Read(ref _remaining) > 0)
            {
                SpinThenWait(Done, SpinTicks());
                Done.Reset();
                // A full fence: the reset must be visible before the count is read again, or a worker's decrement
                // and Set could fall between the read and a late reset, and the caller would wait forever.
                Interlocked.MemoryBarrier();
            }

            for (int t = 1; t < parts; t++)
            {
                error ??= workers[t - 1].TakeError();
            }

            if (error != null)
            {
                ExceptionDispatchInfo.Throw(error);
            }
        }
        finally
        {
            _fn = null;
            _ctx = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    private static void RunPart(delegate*<void*, int, void> fn, void* ctx, int part, ref Exception? error)
    {
        try
        {
            fn(ctx, part);
        }
        catch (Exception e)
        {
            error ??= e;
        }
    }

    private static long SpinTicks() => Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    /// <summary>Grows the worker set; only called by the pool owner (the thread that set _busy).</summary>
    private static Worker[] EnsureWorkers(int count)
    {
        Worker[] workers = _workers;
        if (workers.Length >= count)
        {
            return workers;
        }

        var grown = new Worker[count];
        Array.Copy(workers, grown, workers.Length);
        for (int i = workers.Length; i < count; i++)
        {
            grown[i] = new Worker(i + 1);
        }

        _workers = grown;
        return grown;
    }

    /// <summary>
    /// Polls the signal for up to spinTicks, yielding the core between polls (a worker and the caller can end up
    /// queued on the same core, and a plain spin would then starve the other), then blocks.
    /// </summary>
    private static void SpinThenWait(Signal signal, long spinTicks)
    {
        if (!signal.IsSet)
        {
            long until = Stopwatch.GetTimestamp() + spinTicks;
            while (!signal.IsSet && Stopwatch.GetTimestamp() < until)
            {
                Thread.SpinWait(8);
                Thread.Yield();
            }

            signal.Wait();
        }
    }

    /// <summary>A manual-reset flag: polled cheaply while spinning, blocked on with a monitor afterwards.</summary>
    private sealed class Signal
    {
        private readonly object _gate = new();
        private volatile bool _set;

        public bool IsSet => _set;

        public void Set()
        {
            lock (_gate)
            {
                _set = true;
                Monitor.PulseAll(_gate);
            }
        }

        public void Reset() => _set = false;

        public void Wait()
        {
            lock (_gate)
            {
                while (!_set)
                {
                    Monitor.Wait(_gate);
                }
            }
        }
    }

    /// <summary>
    /// One background thread. Its part moves Idle → Posted (caller) → Claimed (worker) or Stolen (caller); the
    /// worker resets its wake-up signal before looking at the state, so a post can never be missed.
    /// </summary>
    private sealed class Worker
    {
        private readonly Signal _go = new();
        private int _state;
        private int _part;
        private Exception? _error;

        public Worker(int id)
        {
            var thread = new Thread(Loop)
            {
                IsBackground = true,
                Name = "CoLT5 GEMM worker " + id,
            };
            thread.Start();
        }

        public void Post(int part)
        {
            _part = part;
            Volatile.Write(ref _state, Posted);
            _go.Set();
        }

        public bool TrySteal() => Interlocked.CompareExchange(ref _state, Stolen, Posted) == Posted;

        public Exception? TakeError()
        {
            Exception? e = _error;
            _error = null;
            return e;
        }

        private void Loop()
        {
            bool spin = false;
            while (true)
            {
                // Spin only after real work: a worker that lost its part was late, possibly queued behind the
                // caller on the caller's core, and spinning there would only slow the caller down.
                SpinThenWait(_go, spin ? SpinTicks() : 0);
                _go.Reset();
                spin = Interlocked.CompareExchange(ref _state, Claimed, Posted) == Posted;
                if (!spin)
                {
                    continue;
                }

                try
                {
                    _fn(_ctx, _part);
                }
                catch (Exception e)
                {
                    _error = e;
                }

                Volatile.Write(ref _state, Idle);
                if (Interlocked.Decrement(ref _remaining) == 0)
                {
                    Done.Set();
                }
            }
        }
    }
}
