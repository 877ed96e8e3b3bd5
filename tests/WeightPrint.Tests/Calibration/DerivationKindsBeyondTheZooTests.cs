using WeightPrint.Comparison;
using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Tests.Support;
using WeightPrint.Verdict;
using Xunit.Abstractions;

namespace WeightPrint.Tests.Calibration;

/// <summary>
/// Kinds of derivation the development zoo does not hold, made here from its trained bases (skipped when
/// <c>../shared/zoo</c> is absent): depth up-scaling (layers repeated), attention transplanted into another model (the
/// Pangu allegation), new embeddings on old layers, heads pruned, a residual rotation on a depth-pruned copy, layers
/// stitched from two parents, an extended vocabulary, a residual stream widened by new channels. Each must be <c>derived</c> from its parent in both orders, never
/// from an unrelated base, and the verdict must name the parts that were shared.
/// </summary>
public class DerivationKindsBeyondTheZooTests(ITestOutputHelper output)
{
    private static readonly MethodContext Context = new() { Seed = 20250701, Permutations = 999, Threads = 2 };

    private static SyntheticModel Zoo(string name)
    {
        string? root = ZooCalibrationTests.ZooRoot();
        Skip.If(root == null, "../shared/zoo is not present");
        return WidthPruning.FromView(ModelViewBuilder.Build(CheckpointLoader.Open(Path.Combine(root!, name))));
    }

    private WeightPrint.Verdict.Verdict Judge(SyntheticModel a, SyntheticModel b, string pair)
    {
        var (ia, ib) = (new ComparisonInput("A", a.ToView(name: "A")), new ComparisonInput("B", b.ToView(name: "B")));
        var results = MethodRegistry.All.Select(m => m.CompareInputs(ia, ib, Context)).ToList();
        var verdict = VerdictRules.Decide(results, identicalWeights: false);
        output.WriteLine($"{pair}: {verdict.Label}: {verdict.Reason}");
        return verdict;
    }

    [SkippableTheory]
    [InlineData("depth up-scaled (layers 0-3 then 2-5, noise 0.05)", "embeddings derived, attention of all 6 layers derived, MLP of all 6 layers derived")]
    [InlineData("attention transplanted into another base (noise 0.05)", "attention of all 6 layers derived, MLP of all 6 layers independent")]
    [InlineData("embeddings replaced by another base's", "embeddings independent, attention of all 6 layers derived, MLP of all 6 layers derived")]
    [InlineData("last KV group of heads pruned (noise 0.1)", "MLP of all 6 layers derived")]
    [InlineData("layers 1 and 4 dropped, residual rotated", "attention of all 4 layers derived, MLP of all 4 layers derived")]
    [InlineData("layers 3-5 from another base", "attention of 3 of 6 layers derived (layers 0, 1, 2 of A)")]
    [InlineData("64 tokens added (noise 0.05)", "attention of all 6 layers derived, MLP of all 6 layers derived")]
    [InlineData("residual widened by 32 new channels (noise 0.05)", "attention of all 6 layers derived, MLP of all 6 layers derived")]
    public void A_derivative_is_derived_from_its_parent_with_the_shared_parts_named_and_not_from_an_unrelated_base(string kind, string parts)
    {
        var parent = Zoo("llama-base-s1");
        var other = Zoo("llama-base-s2");
        var child = kind switch
        {
            "depth up-scaled (layers 0-3 then 2-5, noise 0.05)" => SyntheticModels.AddNoise(Upscale(parent), 0.05, 2),
            "attention transplanted into another base (noise 0.05)" => SyntheticModels.AddNoise(Transplant(other, parent), 0.05, 7),
            "embeddings replaced by another base's" => Reembed(parent, other),
            "last KV group of heads pruned (noise 0.1)" => SyntheticModels.AddNoise(WidthPruning.DropLastKvGroup(parent), 0.1, 3),
            "layers 1 and 4 dropped, residual rotated" => SyntheticModels.RotateResidual(SyntheticModels.RemoveLayers(parent, 1, 4), 5),
            "layers 3-5 from another base" => Stitch(parent, other, from: 3),
            "64 tokens added (noise 0.05)" => SyntheticModels.AddNoise(ExtendVocabulary(parent, 64, 9), 0.05, 9),
            "residual widened by 32 new channels (noise 0.05)" => SyntheticModels.AddNoise(WidenResidual(parent, 32, 3), 0.05, 4),
            _ => throw new ArgumentException(kind, nameof(kind)),
        };

        foreach (var (a, b, pair) in new[] { (parent, child, "parent vs child"), (child, parent, "child vs parent") })
        {
            var v = Judge(a, b, pair);
            Assert.Equal(WeightPrint.Verdict.Verdict.Derived, v.Label);
            Assert.Contains(parts, v.Reason, StringComparison.Ordinal);
        }

        // A base trained on other data from another seed: never derived.
        Assert.NotEqual(WeightPrint.Verdict.Verdict.Derived, Judge(Zoo("llama-base-s3"), child, "unrelated base vs child").Label);
    }

    private static SyntheticModel Upscale(SyntheticModel m)
    {
        var r = m.Clone();
        r.Layers = [.. m.Layers.Take(4).Select(l => l.Clone()), .. m.Layers.Skip(2).Select(l => l.Clone())];
        return r;
    }

    private static SyntheticModel Transplant(SyntheticModel host, SyntheticModel donor)
    {
        var r = host.Clone();
        for (int i = 0; i < r.Layers.Count; i++)
        {
            var d = donor.Layers[i];
            (r.Layers[i].Q, r.Layers[i].K, r.Layers[i].V, r.Layers[i].O) = ((float[])d.Q.Clone(), (float[])d.K.Clone(), (float[])d.V.Clone(), (float[])d.O.Clone());
        }

        return r;
    }

    private static SyntheticModel Reembed(SyntheticModel m, SyntheticModel other)
    {
        var r = m.Clone();
        (r.Embedding, r.LmHead) = ((float[])other.Embedding.Clone(), (float[])other.LmHead.Clone());
        return r;
    }

    private static SyntheticModel Stitch(SyntheticModel first, SyntheticModel second, int from)
    {
        var r = first.Clone();
        for (int i = from; i < r.Layers.Count; i++) r.Layers[i] = second.Layers[i].Clone();
        return r;
    }

    private static SyntheticModel ExtendVocabulary(SyntheticModel m, int extra, int seed)
    {
        var rnd = new Random(seed);
        return new SyntheticModel
        {
            Hidden = m.Hidden, Heads = m.Heads, KvHeads = m.KvHeads, HeadDim = m.HeadDim, VocabSize = m.VocabSize + extra,
            Embedding = [.. m.Embedding, .. SyntheticModels.Gaussian(rnd, extra * m.Hidden, 0.02)],
            LmHead = [.. m.LmHead, .. SyntheticModels.Gaussian(rnd, extra * m.Hidden, 0.02)],
            FinalNorm = m.FinalNorm, GatedMlp = m.GatedMlp, Layers = m.Layers,
            Vocabulary = m.Vocabulary == null ? null : [.. m.Vocabulary, .. Enumerable.Range(0, extra).Select(i => $"<added {i}>")],
        }.Clone();
    }

    private static float[] AddColumns(float[] m, int rows, int cols, int extra, Random rnd, double std)
    {
        var r = new float[rows * (cols + extra)];
        for (int i = 0; i < rows; i++)
        {
            Array.Copy(m, i * cols, r, i * (cols + extra), cols);
            for (int j = 0; j < extra; j++) r[i * (cols + extra) + cols + j] = (float)(std * SyntheticModels.NextGaussian(rnd));
        }

        return r;
    }

    private static float[] AddRows(float[] m, int cols, int extra, Random rnd, double std)
        => [.. m, .. Enumerable.Range(0, extra * cols).Select(_ => (float)(std * SyntheticModels.NextGaussian(rnd)))];

    private static double Std(float[] v) => Math.Sqrt(v.Select(x => (double)x * x).Average());

    /// <summary>New residual channels after the old ones in every tensor that touches the stream, drawn with each tensor's spread (norm gains 1).</summary>
    private static SyntheticModel WidenResidual(SyntheticModel m, int extra, int seed)
    {
        var rnd = new Random(seed);
        int d = m.Hidden;
        return new SyntheticModel
        {
            Hidden = d + extra, Heads = m.Heads, KvHeads = m.KvHeads, HeadDim = m.HeadDim, VocabSize = m.VocabSize,
            Embedding = AddColumns(m.Embedding, m.VocabSize, d, extra, rnd, Std(m.Embedding)),
            LmHead = AddColumns(m.LmHead, m.VocabSize, d, extra, rnd, Std(m.LmHead)),
            FinalNorm = [.. m.FinalNorm, .. Enumerable.Repeat(1f, extra)],
            Vocabulary = m.Vocabulary, GatedMlp = m.GatedMlp,
            Layers = m.Layers.Select(l => new SyntheticLayer
            {
                Q = AddColumns(l.Q, m.Heads * m.HeadDim, d, extra, rnd, Std(l.Q)),
                K = AddColumns(l.K, m.KvHeads * m.HeadDim, d, extra, rnd, Std(l.K)),
                V = AddColumns(l.V, m.KvHeads * m.HeadDim, d, extra, rnd, Std(l.V)),
                O = AddRows(l.O, m.Heads * m.HeadDim, extra, rnd, Std(l.O)),
                AttnNorm = [.. l.AttnNorm, .. Enumerable.Repeat(1f, extra)], MlpNorm = [.. l.MlpNorm, .. Enumerable.Repeat(1f, extra)],
                Mlp = new SyntheticMlp
                {
                    Gate = AddColumns(l.Mlp!.Gate, l.Mlp.Intermediate, d, extra, rnd, Std(l.Mlp.Gate)),
                    Up = AddColumns(l.Mlp.Up, l.Mlp.Intermediate, d, extra, rnd, Std(l.Mlp.Up)),
                    Down = AddRows(l.Mlp.Down, l.Mlp.Intermediate, extra, rnd, Std(l.Mlp.Down)),
                    Intermediate = l.Mlp.Intermediate,
                },
            }).ToList(),
        }.Clone();
    }
}
