// Adafactor (Shazeer & Stern 2018) as configured by T5X for T5.1.1: factored second moments, decay 1 − t^−0.8,
// update clipping at RMS 1, steps relative to the parameter's RMS, no momentum, no weight decay.
using System;
using System.Collections.Generic;
using CoLT5.Tensors;

namespace CoLT5.Nn.Optim;

/// <summary>How Adafactor picks the two axes of a factored second moment.</summary>
public enum AdafactorFactoring
{
    /// <summary>
    /// T5X's heuristic (and Mesh TensorFlow's): the two largest axes; on a tie the lower axis index is the
    /// row axis. Factored only when both are at least <see cref="Adafactor.MinDimSizeToFactor"/>.
    /// </summary>
    TwoLargestDims,

    /// <summary>The last two axes (the paper's matrices, tensor2tensor, Hugging Face); same size threshold.</summary>
    LastTwoDims,
}

/// <summary>
/// Adafactor, following T5X's <c>t5x/adafactor.py</c> (the flax Adafactor with the Mesh TensorFlow heuristics) with
/// T5X's defaults, i.e. the T5.1.1 / CoLT5 pre-training optimizer. For a parameter θ with gradient g at its t-th
/// update (t counts the parameter's own updates from 1, minus <see cref="StepOffset"/>, at least 1) and learning
/// rate lr (normally <see cref="RsqrtSchedule"/>: 1/√max(step, 10⁴)):
/// <code>
/// β̂₂ = 1 − t^(−decay_rate)                         decay_rate 0.8; β̂₂ = 0 on the first update
/// G  = g² + ε₁                                       ε₁ = 1e-30
/// factored (two axes a_r, a_c of size ≥ 128, see <see cref="Factoring"/>):
///   R ← β̂₂·R + (1 − β̂₂)·mean over a_c of G           "v_row": the parameter's shape with a_c reduced
///   C ← β̂₂·C + (1 − β̂₂)·mean over a_r of G           "v_col": the parameter's shape with a_r reduced
///   u = g / √(R·C / mean over a_r of R)               the rank-1 reconstruction v̂ = R·C / mean(R)
/// otherwise (vectors, scalars, small matrices):
///   V ← β̂₂·V + (1 − β̂₂)·G;  u = g / √V
/// u ← u / max(1, RMS(u) / d)                          update clipping, d = 1.0 (null: off)
/// s = lr · max(ε₂, RMS(θ))                            parameter scale, ε₂ = 1e-3 (off: s = lr)
/// Δ = s·u;  with β₁: m ← β₁·m + (1 − β₁)·Δ, Δ = m      momentum on the scaled update; off by default
/// θ ← (1 − w)·θ − Δ                                   weight decay w (T5X's decoupled form); off by default
/// </code>
/// RMS is over all elements of a parameter. Where implementations differ this follows T5X: no internal relative
/// step (the rate comes from the schedule; the paper's and Hugging Face's ρₜ = min(1e-2, 1/√t) is, up to a shift of
/// one step, <see cref="RsqrtSchedule"/> with 10⁴ warm-up); β̂₂ = 1 − t^−0.8 (the paper's and HF's default too);
/// ε₁ = 1e-30, ε₂ = 1e-3, d = 1 (as the paper and HF); β₁ off (as in the paper's algorithm and HF);
/// parameter scale on (HF <c>scale_parameter</c>); factoring by T5X's heuristic — the two largest axes, only
/// when both have ≥ 128 elements — where the paper, tensor2tensor and HF factor the last two axes of any size
/// (<see cref="AdafactorFactoring.LastTwoDims"/> with <see cref="MinDimSizeToFactor"/> = 0 gives theirs); T5X's
/// decoupled weight decay (1 − w)·θ, not scaled by lr unless <see cref="WeightDecayRateLrExponent"/> is set. The
/// heuristic applies to any rank ≥ 2, as in flax's Adafactor (recent T5X demands explicit factor rules above
/// rank 2): the remaining axes are batch axes of R and C. Two deliberate departures: t is the parameter's own
/// update count (T5X uses the global step; they agree whenever every parameter gets a gradient every step), and
/// the state is kept in the parameter's dtype (T5X: float32, which the model's parameters are). Not implemented:
/// T5X's logical-axis factor rules and batched ("scanned") axes, <c>skip_nan_updates</c> and
/// <c>global_norm_clip_threshold</c> (use <see cref="GradientClipping.ClipGradNorm(IEnumerable{Tensor}, double)"/>
/// before <see cref="Optimizer.Step"/>). State slots: <c>v_row</c> and <c>v_col</c> (factored, keeping the reduced
/// axis as size 1, so a (rows, cols) matrix stores rows + cols numbers) or <c>v</c>, plus <c>m</c> with β₁.
/// </summary>
public sealed class Adafactor : Optimizer
{
    /// <summary>Adafactor with <paramref name="schedule"/>, by default T5.1.1's 1/√max(step, 10⁴).</summary>
    public Adafactor(IReadOnlyList<(string Name, Tensor Tensor)> parameters, ILearningRateSchedule? schedule = null)
        : base(parameters, schedule ?? new RsqrtSchedule())
    {
    }

    /// <summary>Adafactor with a constant learning rate (CoLT5 fine-tuning uses 1e-3).</summary>
    public Adafactor(IReadOnlyList<(string Name, Tensor Tensor)> parameters, double learningRate)
        : base(parameters, new ConstantSchedule(learningRate))
    {
    }

    /// <inheritdoc/>
    public override string Kind => "adafactor";

    /// <summary>Factor the second moment of matrices (and higher-rank tensors). Default true.</summary>
    public bool Factored { get; init; } = true;

    /// <summary>Which axes a factored moment uses. Default <see cref="AdafactorFactoring.TwoLargestDims"/>
    /// (T5X).</summary>
    public AdafactorFactoring Factoring { get; init; } = AdafactorFactoring.TwoLargestDims;

    /// <summary>Factor only when both chosen axes have at least this many elements. Default 128 (T5X).</summary>
    public int MinDimSizeToFactor { get; init; } = 128;

    /// <summary>The exponent c of β̂₂ = 1 − t^(−c). Default 0.8.</summary>
    public double DecayRate { get; init; } = 0.8;

    /// <summary>Subtracted from the update count in β̂₂ (fine-tuning resets the moments with it). Default 0.</summary>
    public long StepOffset { get; init; }

    /// <summary>β₁ of the optional momentum; null (default) keeps no momentum.</summary>
    public double? Beta1 { get; init; }

    /// <summary>d of the update clipping u / max(1, RMS(u)/d); null disables it. Default 1.0.</summary>
    public double? ClippingThreshold { get; init; } = 1.0;

    /// <summary>Scale the step by max(ε₂, RMS(θ)). Default true.</summary>
    public bool MultiplyByParameterScale { get; init; } = true;

    /// <summary>Upper bound on the parameter scale; null (default) for none.</summary>
    public double? MaxParameterScale { get; init; }

    /// <summary>ε₁, added to g². Default 1e-30.</summary>
    public double Epsilon1 { get; init; } = 1e-30;

    /// <summary>ε₂, the floor of the parameter scale. Default 1e-3.</summary>
    public double Epsilon2 { get; init; } = 1e-3;

    /// <summary>w of θ ← (1 − w)·θ − Δ; null (default) for no weight decay.</summary>
    public double? WeightDecayRate { get; init; }

    /// <summary>When set, w = (w or 1)·lr^exponent, as T5X's <c>weight_decay_rate_lr_exponent</c>.</summary>
    public double? WeightDecayRateLrExponent { get; init; }

    /// <summary>
    /// The axes (row, col) a factored moment of <paramref name="shape"/> reduces, or null when it is not factored:
    /// "v_row" averages G over <c>Col</c>, "v_col" over <c>Row</c>.
    /// </summary>
    public (int Row, int Col)? FactoredAxes(Shape shape)
    {
        if (!Factored || shape.Rank < 2)
            return null;
        int row, col;
        if (Factoring == AdafactorFactoring.LastTwoDims)
        {
            (row, col) = (shape.Rank - 2, shape.Rank - 1);
        }
        else
        {
            // Stable order by size: col is the largest axis, row the second largest; ties keep index order.
            var axes = new int[shape.Rank];
            for (var i = 0; i < axes.Length; i++)
                axes[i] = i;
            var sorted = new List<int>(axes);
            sorted.Sort((a, b) => shape[a] != shape[b] ? shape[a].CompareTo(shape[b]) : a.CompareTo(b));
            (row, col) = (sorted[^2], sorted[^1]);
        }
        return Math.Min(shape[row], shape[col]) >= MinDimSizeToFactor ? (row, col) : null;
    }

    private protected override IEnumerable<(string Slot, Tensor Tensor)> CreateSlots(string name, Tensor parameter)
    {
        var shape = parameter.Shape;
        if (FactoredAxes(shape) is var (row, col))
        {
            yield return ("v_row", Zeros(parameter, shape.With(col, 1)));
            yield return ("v_col", Zeros(parameter, shape.With(row, 1)));
        }
        else
        {
            yield return ("v", Zeros(parameter, shape));
        }
        if (Beta1 is not null)
            yield return ("m", Zeros(parameter, shape));
    }

    private protected override void Update(string name, Tensor parameter, Tensor grad, ParameterState state,
        double lr)
    {
        var t = Math.Max(1, state.Step - StepOffset);
        var decay = 1 - Math.Pow(t, -DecayRate);
        var mixing = 1 - decay;

        // Temporaries are released as soon as they are used (at most two parameter-sized ones live at a time).
        // Scaling a temporary and then adding it is bit-identical to AddInPlace(x, alpha), without its extra copy.
        var update = grad.Square();
        update.AffineInPlace(1, Epsilon1);                  // G = g² + ε₁ (reused for the update below)
        if (FactoredAxes(parameter.Shape) is var (row, col))
        {
            var vRow = state["v_row"];
            var vCol = state["v_col"];
            Accumulate(vRow, update.Mean(col, keepDim: true), decay, mixing);
            Accumulate(vCol, update.Mean(row, keepDim: true), decay, mixing);
            update.Dispose();
            using var rowColMean = vRow.Mean(row, keepDim: true);
            using var normalised = vRow / rowColMean;
            using var rowFactor = normalised.Rsqrt();
            using var colFactor = vCol.Rsqrt();
            update = grad * rowFactor;
            update.MulInPlace(colFactor);
        }
        else
        {
            var v = state["v"];
            Accumulate(v, update, decay, mixing);
            update = v.Rsqrt();
            update.MulInPlace(grad);
        }

        if (ClippingThreshold is { } threshold)
        {
            using var clip = Rms(update);
            clip.AffineInPlace(1 / threshold);
            using var denominator = clip.Clamp(min: 1);
            var clipped = update / denominator;
            update.Dispose();
            update = clipped;
        }

        if (MultiplyByParameterScale)
        {
            using var rms = Rms(parameter);
            using var scale = rms.Clamp(min: Epsilon2, max: MaxParameterScale);
            scale.AffineInPlace(lr);
            update.MulInPlace(scale);
        }
        else
        {
            update.AffineInPlace(lr);
        }

        var weightDecay = WeightDecayRate;
        if (WeightDecayRateLrExponent is { } exponent && exponent != 0)
            weightDecay = (weightDecay ?? 1) * Math.Pow(lr, exponent);
        if (weightDecay is { } w && w != 0)
            parameter.AffineInPlace(1 - w);

        if (Beta1 is { } beta1)
        {
            var m = state["m"];
            m.AffineInPlace(beta1);
            m.AddInPlace(update, 1 - beta1);
            update.Dispose();
            parameter.AddInPlace(m, -1);
        }
        else
        {
            using (update)
            {
                update.AffineInPlace(-1);
                parameter.AddInPlace(update);
            }
        }
    }

    // target ← decay·target + (mixing·sample); consumes (disposes) the sample.
    private static void Accumulate(Tensor target, Tensor sample, double decay, double mixing)
    {
        using (sample)
        {
            target.AffineInPlace(decay);
            sample.AffineInPlace(mixing);
            target.AddInPlace(sample);
        }
    }

    // √mean(x²) over all elements, as a 0-d tensor.
    private static Tensor Rms(Tensor x)
    {
        using var squares = x.Square();
        using var mean = squares.Mean();
        return mean.Sqrt();
    }
}
