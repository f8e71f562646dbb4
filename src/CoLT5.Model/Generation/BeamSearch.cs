// Beam search as Hugging Face's BeamSearchScorer (transformers 4.36): 2·K candidates per row from the summed
// log-probabilities, EOS candidates ranked within the top K become finished hypotheses scored
// Σ log p / length^penalty, early stopping once K hypotheses exist, unfinished beams added at the length limit.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CoLT5.Tensors;

namespace CoLT5.Model.Generation;

/// <summary>Beam search decoding.</summary>
internal static class BeamSearch
{
    private sealed class Hypotheses(int beams, double lengthPenalty)
    {
        public List<(double Score, int[] Tokens)> Items { get; } = [];

        public double Worst { get; private set; } = double.MaxValue;

        public void Add(int[] tokens, double sumLogProbs, int generatedLength)
        {
            var score = sumLogProbs / Math.Pow(generatedLength, lengthPenalty);
            if (Items.Count < beams || score > Worst)
            {
                Items.Add((score, tokens));
                if (Items.Count > beams)
                {
                    var worstIndex = Items.Select((h, i) => (h.Score, i)).MinBy(e => e.Score).i;
                    Items.RemoveAt(worstIndex);
                    Worst = Items.Min(h => h.Score);
                }
                else
                {
                    Worst = Math.Min(score, Worst);
                }
            }
        }
    }

    public static GenerationResult Run(Seq2SeqModel model, Tensor inputIds, bool[] mask, GenerationOptions options,
        CancellationToken cancellationToken = default)
    {
        var config = model.Config;
        int batch = inputIds.Shape[0], n = inputIds.Shape[1], beams = options.NumBeams;
        // every input row is repeated once per beam
        var expandRows = Enumerable.Range(0, batch * beams).Select(r => r / beams).ToArray();
        using var rowIndex = Tensor.FromArray<int>(expandRows, new Shape(batch * beams), inputIds.Device);
        using var ids = inputIds.IndexSelect(0, rowIndex);
        var expandedMask = new bool[batch * beams * n];
        for (var r = 0; r < batch * beams; r++)
            Array.Copy(mask, expandRows[r] * n, expandedMask, r * n, n);
        using var encoded = model.Encode(ids, expandedMask);
        using var state = model.StartDecoding(encoded, expandedMask);

        var sequences = Enumerable.Range(0, batch * beams).Select(_ => new List<int> { config.DecoderStartTokenId }).ToList();
        var beamScores = new double[batch * beams];
        for (var r = 0; r < beamScores.Length; r++)
            beamScores[r] = r % beams == 0 ? 0 : -1e9;
        var hypotheses = Enumerable.Range(0, batch).Select(_ => new Hypotheses(beams, options.LengthPenalty)).ToArray();
        var done = new bool[batch];
        var maxLength = options.MaxNewTokens + 1;
        var next = Enumerable.Repeat(config.DecoderStartTokenId, batch * beams).ToArray();

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var curLength = sequences[0].Count;                                  // tokens so far, start included
            double[] logProbs;
            int vocab;
            using (var step = Tensor.FromArray<int>(next, new Shape(batch * beams, 1), inputIds.Device))
            using (var logits = model.DecodeLogits(step, state))
            using (var lsm = logits.LogSoftmax())
            {
                logProbs = lsm.ToDoubleArray();
                vocab = logits.Shape[2];
            }
            var nextScores = new double[batch * beams];
            var nextTokens = new int[batch * beams];
            var nextSources = new int[batch * beams];
            for (var b = 0; b < batch; b++)
            {
                if (done[b])
                {
                    for (var j = 0; j < beams; j++)
                    {
                        nextTokens[b * beams + j] = config.PadTokenId;
                        nextSources[b * beams + j] = b * beams;
                    }
                    continue;
                }
                // the 2·K best (beam, token) continuations of row b by summed log-probability
                var candidates = TopCandidates(logProbs, beamScores, b, beams, vocab, 2 * beams);
                var filled = 0;
                for (var rank = 0; rank < candidates.Count && filled < beams; rank++)
                {
                    var (score, beam, token) = candidates[rank];
                    var source = b * beams + beam;
                    if (token == config.EosTokenId)
                    {
                        if (rank >= beams)
                            continue;
                        hypotheses[b].Add([.. sequences[source]], score, curLength + 1 - 1);
                        continue;
                    }
                    nextScores[b * beams + filled] = score;
                    nextTokens[b * beams + filled] = token;
                    nextSources[b * beams + filled] = source;
                    filled++;
                }
                done[b] = options.EarlyStopping
                    ? hypotheses[b].Items.Count >= beams
                    : hypotheses[b].Items.Count >= beams && hypotheses[b].Worst >=
                        nextScores.Skip(b * beams).Take(beams).Max() / Math.Pow(curLength, options.LengthPenalty);
            }
            // reorder beams and caches, append the chosen tokens
            sequences = nextSources.Select((source, r) => new List<int>(sequences[source]) { nextTokens[r] }).ToList();
            beamScores = nextScores;
            next = nextTokens;
            using (var reorder = Tensor.FromArray<int>(nextSources, new Shape(nextSources.Length), inputIds.Device))
                state.Select(reorder);
            if (done.All(d => d) || sequences[0].Count >= maxLength)
                break;
        }

        // rows still open: every beam becomes a hypothesis at the length limit
        for (var b = 0; b < batch; b++)
        {
            if (done[b])
                continue;
            for (var j = 0; j < beams; j++)
                hypotheses[b].Add([.. sequences[b * beams + j]], beamScores[b * beams + j], sequences[0].Count - 1);
        }
        return Finalize(hypotheses, options, config.PadTokenId, config.EosTokenId, maxLength);
    }

    private static List<(double Score, int Beam, int Token)> TopCandidates(double[] logProbs, double[] beamScores, int b,
        int beams, int vocab, int count)
    {
        var all = new List<(double Score, int Beam, int Token)>(beams * vocab);
        for (var j = 0; j < beams; j++)
        {
            var row = b * beams + j;
            for (var v = 0; v < vocab; v++)
                all.Add((logProbs[row * vocab + v] + beamScores[row], j, v));
        }
        // sorted by score, ties to the lower flattened index (beam·V + token), as a stable top-k
        return all.Select((c, i) => (c, i)).OrderByDescending(e => e.c.Score).ThenBy(e => e.i)
            .Take(count).Select(e => e.c).ToList();
    }

    // Best hypotheses per row, each followed by EOS when shorter than the longest (then padded).
    private static GenerationResult Finalize(Hypotheses[] hypotheses, GenerationOptions options, int pad, int eos,
        int maxLength)
    {
        var chosen = new List<(double Score, int[] Tokens)>();
        foreach (var h in hypotheses)
            chosen.AddRange(h.Items.OrderByDescending(e => e.Score).Take(options.NumReturnSequences));
        var longest = Math.Min(chosen.Max(c => c.Tokens.Length) + 1, maxLength);
        var sequences = chosen.Select(c =>
        {
            var row = Enumerable.Repeat(pad, longest).ToArray();
            Array.Copy(c.Tokens, row, c.Tokens.Length);
            if (c.Tokens.Length < longest)
                row[c.Tokens.Length] = eos;
            return row;
        }).ToArray();
        return new GenerationResult(sequences, chosen.Select(c => c.Score).ToArray(), null);
    }
}
