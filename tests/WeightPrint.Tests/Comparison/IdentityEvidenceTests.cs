using System.Text.Json.Nodes;
using WeightPrint.Comparison;
using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Numerics;
using WeightPrint.Signals;
using WeightPrint.Signals.Toolbox;
using WeightPrint.Tests.Support;
using WeightPrint.Verdict;
using Xunit;

namespace WeightPrint.Tests.Comparison;

/// <summary>Identity as evidence: tensors copied bit for bit, transposed or permuted make a pair derived; independent
/// models, constant tensors and tensors of a few repeated values never match.</summary>
public class IdentityEvidenceTests
{
    private const int R = 96, C = 64;

    private static float[] Random(int seed, int n) => SyntheticModels.Gaussian(new Random(SyntheticModels.Scramble(seed)), n, 0.02);

    private static float[] Transpose(float[] w, int rows, int cols) => ModelParts.Transpose(w, rows, cols);

    private static TensorFingerprint Fp(float[] values, long rows, long cols, TensorDType dtype = TensorDType.F32)
    {
        var bytes = SafetensorsWriter.Encode(dtype, values);
        var source = new WeightPrint.IO.MemoryByteSource("t", bytes);
        return TensorFingerprint.Of(new StoredTensorView(new TensorInfo("t", dtype, [rows, cols], source, 0)));
    }

    public static TheoryData<string, string> Rearrangements => new()
    {
        { "copy", SharedTensor.BitIdentical },
        { "transpose", "transposed" },
        { "transpose saved in the original shape", "transposed" },
        { "rows", "rows permuted" },
        { "columns", "columns permuted" },
        { "transpose then rows", "transposed, rows permuted" },
        { "rows and columns", "rows and columns permuted" },
        { "transpose, rows and columns", "transposed, rows and columns permuted" },
        { "shuffled", "the same values rearranged" },
    };

    [Theory]
    [MemberData(nameof(Rearrangements))]
    public void Each_rearrangement_is_found_and_named(string how, string relation)
    {
        var a = Random(1, R * C);
        var rnd = new Random(7);
        var rows = SyntheticModels.Permutation(R, rnd);
        var cols = SyntheticModels.Permutation(C, rnd);
        var t = Transpose(a, R, C);
        (float[] b, long br, long bc) = how switch
        {
            "copy" => ((float[])a.Clone(), R, C),
            "transpose" => (t, C, R),
            "transpose saved in the original shape" => (t, R, C),
            "rows" => (SyntheticModels.PermuteRows(a, C, rows), R, C),
            "columns" => (SyntheticModels.PermuteColumns(a, C, cols), R, C),
            "transpose then rows" => (SyntheticModels.PermuteRows(t, R, cols), C, R),
            "rows and columns" => (SyntheticModels.PermuteColumns(SyntheticModels.PermuteRows(a, C, rows), C, cols), R, C),
            "transpose, rows and columns" => (SyntheticModels.PermuteColumns(SyntheticModels.PermuteRows(t, R, cols), R, rows), C, R),
            _ => (a.OrderBy(_ => rnd.Next()).ToArray(), R, C),
        };
        var fa = Fp(a, R, C);
        var fb = Fp(b, br, bc);
        Assert.True(fa.NonTrivial);
        Assert.Equal(relation, fa.RelationTo(fb));
        Assert.Equal(relation, fb.RelationTo(fa));
    }

    [Fact]
    public void Independent_constant_and_few_valued_tensors_never_match()
    {
        Assert.Null(Fp(Random(1, R * C), R, C).RelationTo(Fp(Random(2, R * C), R, C)));
        var ones = Enumerable.Repeat(1f, R * C).ToArray();
        Assert.False(Fp(ones, R, C).NonTrivial);
        Assert.Null(Fp(ones, R, C).RelationTo(Fp(ones, R, C)));
        var signs = Enumerable.Range(0, R * C).Select(i => (i * 7919 % 13) < 6 ? -0.02f : 0.02f).ToArray();
        Assert.False(Fp(signs, R, C).NonTrivial);
        var small = Random(3, 4095);
        Assert.False(Fp(small, 1, 4095).NonTrivial);
    }

    [Fact]
    public void A_lossless_dtype_conversion_is_identity_and_a_lossy_one_is_not()
    {
        var a = Random(4, R * C);
        var rounded = a.Select(SafetensorsWriter.RoundToBf16).ToArray();
        Assert.Equal(SharedTensor.BitIdentical, Fp(rounded, R, C, TensorDType.F32).RelationTo(Fp(rounded, R, C, TensorDType.BF16)));
        Assert.Null(Fp(a, R, C, TensorDType.F32).RelationTo(Fp(a, R, C, TensorDType.BF16)));
    }

    /// <summary>A model whose only exact shares with A are a transposed token embedding and one row-permuted MLP
    /// matrix (everything else noised): derived, with both tensors named.</summary>
    [Fact]
    public void A_model_sharing_a_transposed_embedding_and_a_row_permuted_matrix_is_derived_with_the_tensors_named()
    {
        var a = SyntheticModels.Generate(11);
        var b = SyntheticModels.AddNoise(a, 0.05, 12);
        b.Embedding = Transpose(a.Embedding, a.VocabSize, a.Hidden);
        b.Layers[2].Mlp!.Up = SyntheticModels.PermuteRows(a.Layers[2].Mlp!.Up, a.Hidden, SyntheticModels.Permutation(a.Intermediate, new Random(3)));
        var identity = IdentityCheck.Run(a.ToView(), b.ToView(), 1);
        var shared = Assert.IsType<SharedTensors>(identity.Shared);
        Assert.Equal(2, shared.Matches.Count);
        Assert.Contains(shared.Matches, m => m.KeyB == "Embedding" && m.Relation == "transposed");
        Assert.Contains(shared.Matches, m => m.NameB == "model.layers.2.mlp.up_proj.weight" && m.Relation == "rows permuted");
        var verdict = VerdictRules.Decide([], identicalWeights: false, identity.Shared);
        Assert.Equal(WeightPrint.Verdict.Verdict.Derived, verdict.Label);
        Assert.Contains("token embedding included", verdict.Reason);
        Assert.Contains("model.layers.2.mlp.up_proj.weight (A's, rows permuted)", verdict.Reason);
        Assert.Contains("model.embed_tokens.weight (A's, transposed)", verdict.Reason);
    }

    /// <summary>Without fingerprints (Hub models) only same-key identity is checked, positionally, and no shared-tensor
    /// evidence is claimed.</summary>
    [Fact]
    public void Without_fingerprints_the_positional_check_still_counts_identical_tensors_and_claims_no_evidence()
    {
        var a = SyntheticModels.Generate(41);
        var b = SyntheticModels.AddNoise(a, 0.05, 42);
        b.Layers[1].Mlp!.Down = (float[])a.Layers[1].Mlp!.Down.Clone();
        var identity = IdentityCheck.Run(a.ToView(), b.ToView(), 1, fingerprints: false);
        Assert.Null(identity.Shared);
        Assert.True(identity.Identical >= 1);
        var withFingerprints = IdentityCheck.Run(a.ToView(), b.ToView(), 1);
        Assert.Equal(identity.Identical, withFingerprints.Identical);
        Assert.Equal("model.layers.1.mlp.down_proj.weight", Assert.Single(withFingerprints.Shared!.Matches).NameB);
    }

    /// <summary>Two independent models that share constant and few-valued tensors (fresh norm gains, a sign
    /// pattern): no match, and those tensors are not counted as non-trivial.</summary>
    [Fact]
    public void Independent_models_sharing_only_trivial_tensors_do_not_match()
    {
        var a = SyntheticModels.Generate(21);
        var b = SyntheticModels.Generate(22);
        var signs = Enumerable.Range(0, a.Layers[0].Q.Length).Select(i => (i % 3) == 0 ? -0.02f : 0.02f).ToArray();
        foreach (var m in new[] { a, b })
        {
            m.Layers[0].Q = Enumerable.Repeat(1f, m.Layers[0].Q.Length).ToArray();
            m.Layers[1].Q = (float[])signs.Clone();
            foreach (var l in m.Layers) l.AttnNorm = Enumerable.Repeat(1f, m.Hidden).ToArray();
        }

        var identity = IdentityCheck.Run(a.ToView(), b.ToView(), 2);
        Assert.Empty(identity.Shared!.Matches);
        Assert.True(identity.Identical >= 2 + a.Layers.Count); // the trivial tensors are identical, and say nothing
        Assert.Equal(2 + (a.Layers.Count * 5) - 2, identity.Shared.NonTrivialInB); // embedding, head, Q, O, gate, up, down a layer (K, V have 2,048 values), minus the two trivial Q
        Assert.NotEqual(WeightPrint.Verdict.Verdict.Derived, VerdictRules.Decide([], false, identity.Shared).Label);
    }

    [SkippableTheory]
    [InlineData("l2c-stories260K-plct-transposed/stories260K.bin", SharedTensor.BitIdentical)]
    [InlineData("l2c-stories260K-plct-transpose2/stories260K.transpose.bin", "transposed")]
    public void The_public_layout_transposed_copies_of_stories260K_are_derived_with_the_tensors_named(string copy, string embeddingRelation)
    {
        string original = SharedModels.Require("l2c-stories260K/stories260K.bin");
        var r = CliRunner.Run("compare", original, SharedModels.Require(copy), "--methods", "pdf", "--json");
        Assert.Equal(0, r.ExitCode);
        var json = JsonNode.Parse(r.Stdout)!;
        var shared = json["identity"]!["shared_tensors"]!;
        var matches = shared["matches"]!.AsArray();
        // 26 non-trivial tensors (embedding; wq, wo, w1, w2, w3 of 5 layers); wk and wv have 2,048 values, norms 64.
        Assert.Equal(26, (int)shared["non_trivial_tensors_b"]!);
        Assert.Equal(26, matches.Count);
        Assert.Equal("derived", (string)json["verdict"]!["label"]!);
        string reason = (string)json["verdict"]!["reason"]!;
        Assert.Contains("token embedding included", reason);
        Assert.Contains("model.embed_tokens.weight", reason);
        Assert.Equal(embeddingRelation,
            (string)matches.Single(m => (string)m!["key_b"]! == "Embedding")!["relation"]!);
    }

    [SkippableTheory]
    [InlineData("derived-stories260K-hf-bf16")] // BF16 rounding of an F32 model: not bit-identical, and not called so
    [InlineData("l2c-llama2xs-saltyduckegg/model.bin")] // an independently trained model of almost the same shape
    public void Lossy_copies_and_independent_models_share_no_tensor(string other)
    {
        string original = SharedModels.Require("l2c-stories260K/stories260K.bin");
        var r = CliRunner.Run("compare", original, SharedModels.Require(other), "--methods", "pdf", "--json");
        Assert.Equal(0, r.ExitCode);
        var shared = JsonNode.Parse(r.Stdout)!["identity"]!["shared_tensors"]!;
        Assert.Empty(shared["matches"]!.AsArray());
        Assert.True((int)shared["non_trivial_tensors_b"]! > 0);
    }
}
