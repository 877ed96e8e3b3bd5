using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Formats.Llama2c;

/// <summary>
/// Reads a llama2.c legacy (v0) checkpoint: a 7×int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
/// vocab_size — negative when the classifier is not shared — and seq_len), then float32 arrays in run.c's order.
/// Tensors get Hugging Face Llama names. Q and K rows stay in llama2.c's interleaved RoPE order; the model view
/// undoes that.
/// </summary>
internal static class Llama2cReader
{
    public const int HeaderBytes = 28;

    /// <summary>Largest value accepted for any header dimension.</summary>
    public const int MaxDimension = 1 << 20;

    public sealed record Header(int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int VocabSize, bool SharedClassifier, int SeqLen)
    {
        public int HeadSize => Dim / Heads;

        public int KvDim => Dim * KvHeads / Heads;
    }

    /// <summary>True when the header is plausible and the file size is exactly what it implies.</summary>
    public static bool LooksLikeLlama2c(IByteSource source) => TryReadHeader(source, out _, out _);

    public static Checkpoint Open(IByteSource source, string? location = null)
    {
        if (!TryReadHeader(source, out var h, out string? why))
            throw new InvalidModelFileException(source.Name, "not a llama2.c checkpoint: " + why);
        var tensors = new List<TensorInfo>();
        long offset = HeaderBytes;
        void Add(string name, params long[] shape)
        {
            var t = new TensorInfo(name, TensorDType.F32, shape, source, offset);
            tensors.Add(t);
            offset += t.ByteLength;
        }

        void PerLayer(string suffix, params long[] shape)
        {
            for (int l = 0; l < h.Layers; l++) Add($"model.layers.{l}.{suffix}", shape);
        }

        Add("model.embed_tokens.weight", h.VocabSize, h.Dim);
        PerLayer("input_layernorm.weight", h.Dim);
        PerLayer("self_attn.q_proj.weight", h.Dim, h.Dim);
        PerLayer("self_attn.k_proj.weight", h.KvDim, h.Dim);
        PerLayer("self_attn.v_proj.weight", h.KvDim, h.Dim);
        PerLayer("self_attn.o_proj.weight", h.Dim, h.Dim);
        PerLayer("post_attention_layernorm.weight", h.Dim);
        PerLayer("mlp.gate_proj.weight", h.HiddenDim, h.Dim);
        PerLayer("mlp.down_proj.weight", h.Dim, h.HiddenDim);
        PerLayer("mlp.up_proj.weight", h.HiddenDim, h.Dim);
        Add("model.norm.weight", h.Dim);
        offset += 2L * h.SeqLen * (h.HeadSize / 2) * 4; // freq_cis_real and freq_cis_imag: unused
        if (!h.SharedClassifier) Add("lm_head.weight", h.VocabSize, h.Dim);

        var metadata = new Dictionary<string, object>
        {
            ["llama2c.dim"] = (long)h.Dim,
            ["llama2c.hidden_dim"] = (long)h.HiddenDim,
            ["llama2c.n_layers"] = (long)h.Layers,
            ["llama2c.n_heads"] = (long)h.Heads,
            ["llama2c.n_kv_heads"] = (long)h.KvHeads,
            ["llama2c.vocab_size"] = (long)h.VocabSize,
            ["llama2c.seq_len"] = (long)h.SeqLen,
            ["llama2c.shared_classifier"] = h.SharedClassifier,
        };
        return new Checkpoint(location ?? source.Name, "llama2c", tensors, metadata);
    }

    /// <summary>Bytes a checkpoint with this header must have.</summary>
    public static long ExpectedLength(Header h)
    {
        checked
        {
            long d = h.Dim, f = h.HiddenDim, l = h.Layers, v = h.VocabSize, kv = h.KvDim;
            long floats = v * d + l * d + l * d * d + 2 * l * kv * d + l * d * d + l * d + 3 * l * f * d + d
                + 2L * h.SeqLen * (h.HeadSize / 2) + (h.SharedClassifier ? 0 : v * d);
            return HeaderBytes + floats * 4;
        }
    }

    /// <summary>When the file starts with a plausible llama2.c header but is shorter than that header implies, why;
    /// else null (so a cut-off download is reported as what it is, not as some other format's problem).</summary>
    public static string? TruncatedHeaderReason(IByteSource source)
    {
        if (TryReadHeader(source, out var header, out string? why) || header == null) return null;
        long expected;
        try
        {
            expected = ExpectedLength(header);
        }
        catch (OverflowException)
        {
            return null;
        }

        return expected > source.Length ? why : null;
    }

    public static bool TryReadHeader(IByteSource source, out Header header, out string? why)
    {
        header = null!;
        if (source.Length < HeaderBytes)
        {
            why = "shorter than the 28-byte header";
            return false;
        }

        Span<byte> b = stackalloc byte[HeaderBytes];
        source.Read(0, b);
        Span<int> v = stackalloc int[7];
        for (int i = 0; i < 7; i++) v[i] = BitConverter.ToInt32(b[(4 * i)..]);
        int dim = v[0], hidden = v[1], layers = v[2], heads = v[3], kvHeads = v[4], vocab = v[5], seq = v[6];
        bool shared = vocab > 0;
        long vocabMagnitude = Math.Abs((long)vocab); // −2³¹ has no Int32 magnitude
        vocab = vocabMagnitude > MaxDimension ? 0 : (int)vocabMagnitude;
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab <= 0 || seq <= 0
            || dim > MaxDimension || hidden > MaxDimension || layers > 4096 || heads > dim || kvHeads > heads
            || vocab > MaxDimension || seq > MaxDimension || dim % heads != 0 || heads % kvHeads != 0)
        {
            why = $"header ({v[0]}, {v[1]}, {v[2]}, {v[3]}, {v[4]}, {v[5]}, {v[6]}) is not a plausible llama2.c header";
            return false;
        }

        header = new Header(dim, hidden, layers, heads, kvHeads, vocab, shared, seq);
        long expected;
        try
        {
            expected = ExpectedLength(header);
        }
        catch (OverflowException)
        {
            why = "header dimensions overflow";
            return false;
        }

        if (expected != source.Length)
        {
            why = $"header implies {expected} bytes but the file has {source.Length}";
            return false;
        }

        why = null;
        return true;
    }
}
