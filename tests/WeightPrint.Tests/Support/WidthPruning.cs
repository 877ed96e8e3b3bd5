using WeightPrint.Model;

namespace WeightPrint.Tests.Support;

/// <summary>
/// Test-side writer of hidden-dimension-pruned derivatives (Minitron-style): a dense Llama-shaped model is read into a
/// <see cref="SyntheticModel"/>, some of its residual channels are dropped from every tensor that touches the residual
/// stream (embeddings, LM head, norm gains, Q/K/V columns, O rows, gate/up columns, down rows), optionally with whole
/// KV groups of attention heads; noise (<see cref="SyntheticModels.AddNoise"/>) then stands in for the fine-tuning that
/// follows pruning.
/// </summary>
internal static class WidthPruning
{
    /// <summary>The weights of a dense Llama-shaped model (tied LM head copied from the embeddings) as a synthetic model.</summary>
    public static SyntheticModel FromView(ModelView v)
    {
        var g = v.Geometry;
        var embedding = v.Get(ModelRole.Embedding)!.ReadAll();
        return new SyntheticModel
        {
            Hidden = g.HiddenSize, Heads = g.Heads, KvHeads = g.KvHeads, HeadDim = g.HeadDim,
            VocabSize = checked((int)v.Get(ModelRole.Embedding)!.Rows),
            Embedding = embedding,
            LmHead = v.Get(ModelRole.LmHead)?.ReadAll() ?? (float[])embedding.Clone(),
            FinalNorm = v.Get(ModelRole.FinalNorm)!.ReadAll(),
            Vocabulary = v.Vocabulary?.ToArray(),
            Layers = v.DecoderLayers.Select(l => new SyntheticLayer
            {
                Q = l.Get(TensorRole.AttnQ)!.ReadAll(), K = l.Get(TensorRole.AttnK)!.ReadAll(), V = l.Get(TensorRole.AttnV)!.ReadAll(),
                O = l.Get(TensorRole.AttnO)!.ReadAll(), AttnNorm = l.Get(TensorRole.AttnNorm)!.ReadAll(), MlpNorm = l.Get(TensorRole.MlpNorm)!.ReadAll(),
                Mlp = new SyntheticMlp
                {
                    Gate = l.Get(TensorRole.MlpGate)!.ReadAll(), Up = l.Get(TensorRole.MlpUp)!.ReadAll(), Down = l.Get(TensorRole.MlpDown)!.ReadAll(),
                    Intermediate = checked((int)l.Get(TensorRole.MlpUp)!.Rows),
                },
            }).ToList(),
        };
    }

    /// <summary>Keeps <paramref name="keep"/> residual channels: the most important ones (largest embedding-column norm,
    /// a stand-in for activation importance), stored in order of importance as Minitron's pruning does when
    /// <paramref name="sortByImportance"/>, else in their original order.</summary>
    public static SyntheticModel PruneResidual(SyntheticModel m, int keep, bool sortByImportance)
    {
        int d = m.Hidden;
        var norms = Enumerable.Range(0, d).Select(j => Enumerable.Range(0, m.VocabSize).Sum(t => (double)m.Embedding[t * d + j] * m.Embedding[t * d + j])).ToArray();
        var kept = Enumerable.Range(0, d).OrderByDescending(j => norms[j]).ThenBy(j => j).Take(keep).ToArray();
        if (!sortByImportance) Array.Sort(kept);
        float[] Select(float[] v) => kept.Select(j => v[j]).ToArray();
        return new SyntheticModel
        {
            Hidden = keep, Heads = m.Heads, KvHeads = m.KvHeads, HeadDim = m.HeadDim, VocabSize = m.VocabSize,
            Embedding = SyntheticModels.PermuteColumns(m.Embedding, d, kept),
            LmHead = SyntheticModels.PermuteColumns(m.LmHead, d, kept),
            FinalNorm = Select(m.FinalNorm),
            Vocabulary = (string[]?)m.Vocabulary?.Clone(),
            GatedMlp = m.GatedMlp,
            Layers = m.Layers.Select(l => new SyntheticLayer
            {
                Q = SyntheticModels.PermuteColumns(l.Q, d, kept), K = SyntheticModels.PermuteColumns(l.K, d, kept),
                V = SyntheticModels.PermuteColumns(l.V, d, kept), O = SyntheticModels.PermuteRows(l.O, m.Heads * m.HeadDim, kept),
                AttnNorm = Select(l.AttnNorm), MlpNorm = Select(l.MlpNorm),
                Mlp = new SyntheticMlp
                {
                    Gate = SyntheticModels.PermuteColumns(l.Mlp!.Gate, d, kept), Up = SyntheticModels.PermuteColumns(l.Mlp.Up, d, kept),
                    Down = SyntheticModels.PermuteRows(l.Mlp.Down, l.Mlp.Intermediate, kept), Intermediate = l.Mlp.Intermediate,
                },
            }).ToList(),
        };
    }

    /// <summary>Drops the last KV group of attention heads (its key/value head and the query heads that share it) in every layer.</summary>
    public static SyntheticModel DropLastKvGroup(SyntheticModel m)
    {
        int hd = m.HeadDim, groups = m.KvHeads - 1, queries = m.Heads / m.KvHeads * groups;
        var qRows = Enumerable.Range(0, queries * hd).ToArray();
        var kvRows = Enumerable.Range(0, groups * hd).ToArray();
        var r = new SyntheticModel
        {
            Hidden = m.Hidden, Heads = queries, KvHeads = groups, HeadDim = hd, VocabSize = m.VocabSize,
            Embedding = m.Embedding, LmHead = m.LmHead, FinalNorm = m.FinalNorm, Vocabulary = m.Vocabulary, GatedMlp = m.GatedMlp,
            Layers = m.Layers.Select(l => l.Clone()).ToList(),
        }.Clone();
        foreach (var l in r.Layers)
        {
            l.Q = SyntheticModels.PermuteRows(l.Q, m.Hidden, qRows);
            l.K = SyntheticModels.PermuteRows(l.K, m.Hidden, kvRows);
            l.V = SyntheticModels.PermuteRows(l.V, m.Hidden, kvRows);
            l.O = SyntheticModels.PermuteColumns(l.O, m.Heads * hd, qRows);
        }

        return r;
    }

    /// <summary>Keeps the first <paramref name="tokens"/> rows of the embeddings and LM head and of the vocabulary (a smaller tokenizer).</summary>
    public static SyntheticModel TruncateVocabulary(SyntheticModel m, int tokens)
    {
        var rows = Enumerable.Range(0, tokens).ToArray();
        return new SyntheticModel
        {
            Hidden = m.Hidden, Heads = m.Heads, KvHeads = m.KvHeads, HeadDim = m.HeadDim, VocabSize = tokens,
            Embedding = SyntheticModels.PermuteRows(m.Embedding, m.Hidden, rows), LmHead = SyntheticModels.PermuteRows(m.LmHead, m.Hidden, rows),
            FinalNorm = m.FinalNorm, Vocabulary = m.Vocabulary?[..tokens], GatedMlp = m.GatedMlp, Layers = m.Layers,
        }.Clone();
    }
}
