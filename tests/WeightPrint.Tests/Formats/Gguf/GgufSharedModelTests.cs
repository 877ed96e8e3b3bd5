using System.Buffers.Binary;
using WeightPrint.Formats;
using WeightPrint.Model;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Formats.Gguf;

/// <summary>The stories260K GGUF conversions in shared/models against the Hugging Face F32 conversion of the same model.</summary>
public class GgufSharedModelTests
{
    private const string F32Path = "derived-stories260K-gguf-f32/model-f32.gguf";
    private const string Q8Path = "derived-stories260K-gguf-q8_0/model-q8_0.gguf";
    private const string HfPath = "derived-stories260K-hf-f32";

    private static readonly TensorRole[] AttentionRoles = [TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.AttnO];

    private static readonly TensorRole[] OtherRoles = [TensorRole.MlpGate, TensorRole.MlpUp, TensorRole.MlpDown, TensorRole.AttnNorm, TensorRole.MlpNorm];

    [SkippableFact]
    public void Stories260K_gguf_f32_reads_with_metadata_and_vocabulary()
    {
        using var c = CheckpointLoader.Open(SharedModels.Require(F32Path));
        Assert.Equal("gguf", c.Format);
        Assert.Equal(47, c.Tensors.Count);
        Assert.All(c.Tensors, t => Assert.Equal(TensorDType.F32, t.DType));
        Assert.Equal("llama", c.Metadata["general.architecture"]);
        Assert.Equal(5L, c.Metadata["llama.block_count"]);
        Assert.Equal(64L, c.Metadata["llama.embedding_length"]);
        Assert.Equal(4L, c.Metadata["llama.attention.head_count_kv"]);
        Assert.Equal(512, c.Vocabulary!.Count);
        Assert.Equal("<unk>", c.Vocabulary[0]);
        Assert.Equal(new long[] { 512, 64 }, c.Find("token_embd.weight")!.Shape);
        Assert.Equal(new long[] { 32, 64 }, c.Find("blk.0.attn_k.weight")!.Shape);
        Assert.Equal(new long[] { 64, 172 }, c.Find("blk.0.ffn_down.weight")!.Shape);
    }

    [SkippableFact]
    public void Stories260K_gguf_f32_gives_exactly_the_hf_f32_values_per_layer_and_role()
    {
        using var gguf = CheckpointLoader.Open(SharedModels.Require(F32Path));
        using var hf = CheckpointLoader.Open(SharedModels.Require(HfPath));
        var vg = ModelViewBuilder.Build(gguf);
        var vh = ModelViewBuilder.Build(hf);
        Assert.Equal(5, vg.Layers.Count);
        Assert.Equal(vh.Layers.Count, vg.Layers.Count);
        Assert.Equal(vh.Geometry, vg.Geometry);
        Assert.Empty(vg.UnrecognisedTensors);
        foreach (var role in AttentionRoles.Concat(OtherRoles))
        {
            for (int i = 0; i < vh.Layers.Count; i++)
            {
                var g = vg.Layers[i].Get(role);
                Assert.True(g != null, $"layer {i} has no {role} in the GGUF view");
                Assert.Equal(vh.Layers[i].Get(role)!.ReadAll(), g.ReadAll());
            }
        }

        Assert.Equal(vh.Get(ModelRole.Embedding)!.ReadAll(), vg.Get(ModelRole.Embedding)!.ReadAll());
        Assert.Equal(vh.Get(ModelRole.FinalNorm)!.ReadAll(), vg.Get(ModelRole.FinalNorm)!.ReadAll());
    }

    [SkippableFact]
    public void Stories260K_gguf_q8_0_is_within_each_blocks_quantisation_step_of_hf_f32()
    {
        using var q8 = CheckpointLoader.Open(SharedModels.Require(Q8Path));
        using var hf = CheckpointLoader.Open(SharedModels.Require(HfPath));
        var vq = ModelViewBuilder.Build(q8);
        var vh = ModelViewBuilder.Build(hf);
        Assert.Equal(vh.Layers.Count, vq.Layers.Count);
        Assert.Empty(vq.UnrecognisedTensors);
        int quantisedMatrices = 0;
        double worstRatio = 0;
        foreach (var role in AttentionRoles.Concat(OtherRoles))
        {
            for (int i = 0; i < vh.Layers.Count; i++)
            {
                var view = vq.Layers[i].Get(role)!;
                var expected = vh.Layers[i].Get(role)!.ReadAll();
                var actual = view.ReadAll();
                var stored = view.Sources[0];
                if (stored.DType == TensorDType.F32)
                {
                    Assert.Equal(expected, actual); // ffn_down (172 columns) and norms stay F32
                    continue;
                }

                Assert.Equal(TensorDType.Q8_0, stored.DType);
                quantisedMatrices++;
                // The bytes decode exactly as the reference reading of the Q8_0 definition does.
                var raw = new byte[stored.ByteLength];
                stored.Source.Read(stored.DataOffset, raw);
                Assert.Equal(ReferenceDequantizer.Dequantize(TensorDType.Q8_0, raw), TestTensors.ReadAll(stored));

                // View row r comes from stored row rowOf[r] (RoPE un-permutation for Q and K).
                long[] rowOf = view is RowSelectionView
                    ? [.. RowSelectionView.RopeUnpermutation((int)(stored.Rows / vq.Geometry.HeadDim), vq.Geometry.HeadDim).Select(r => r.Start)]
                    : [.. Enumerable.Range(0, (int)stored.Rows).Select(r => (long)r)];
                long cols = stored.Columns;
                for (long r = 0; r < view.Rows; r++)
                {
                    for (long col = 0; col < cols; col++)
                    {
                        long block = ((rowOf[r] * cols) + col) / 32;
                        float d = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan((int)(block * 34))));
                        // Rounding to the nearest of the 255 levels is within d/2; d itself was rounded to fp16
                        // (relative error ≤ 2^-11) after the levels may have been chosen with the unrounded scale.
                        double bound = (0.5 * d) + (127 * d * Math.Pow(2, -11)) + 1e-9;
                        int k = (int)((r * cols) + col);
                        double err = Math.Abs(actual[k] - expected[k]);
                        Assert.True(err <= bound, $"layer {i} {role} [{r}, {col}]: |{actual[k]} − {expected[k]}| = {err} > {bound} (block scale {d})");
                        if (d > 0) worstRatio = Math.Max(worstRatio, err / d);
                    }
                }
            }
        }

        Assert.Equal(5 * 6, quantisedMatrices); // Q, K, V, O, gate, up in each of 5 layers
        Assert.True(worstRatio > 0.3, $"largest error is only {worstRatio:F3} of a step: the comparison is not seeing quantisation");
    }
}
