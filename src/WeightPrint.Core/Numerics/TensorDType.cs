namespace WeightPrint.Numerics;

/// <summary>Element types of stored tensors: the safetensors dtypes plus GGML block quantisations.</summary>
public enum TensorDType
{
    /// <summary>64-bit IEEE float.</summary>
    F64,
    /// <summary>32-bit IEEE float.</summary>
    F32,
    /// <summary>16-bit IEEE float.</summary>
    F16,
    /// <summary>bfloat16 (the top half of a float32).</summary>
    BF16,
    /// <summary>8-bit float, 4 exponent and 3 mantissa bits.</summary>
    F8_E4M3,
    /// <summary>8-bit float, 5 exponent and 2 mantissa bits.</summary>
    F8_E5M2,
    /// <summary>64-bit integer.</summary>
    I64,
    /// <summary>32-bit integer.</summary>
    I32,
    /// <summary>16-bit integer.</summary>
    I16,
    /// <summary>8-bit integer.</summary>
    I8,
    /// <summary>8-bit unsigned integer.</summary>
    U8,
    /// <summary>Boolean (one byte).</summary>
    Bool,
    /// <summary>GGML 4-bit blocks of 32 with one scale.</summary>
    Q4_0,
    /// <summary>GGML 4-bit blocks of 32 with a scale and a minimum.</summary>
    Q4_1,
    /// <summary>GGML 5-bit blocks of 32 with one scale.</summary>
    Q5_0,
    /// <summary>GGML 5-bit blocks of 32 with a scale and a minimum.</summary>
    Q5_1,
    /// <summary>GGML 8-bit blocks of 32 with one scale.</summary>
    Q8_0,
    /// <summary>GGML 2-bit k-quant super-blocks of 256.</summary>
    Q2_K,
    /// <summary>GGML 3-bit k-quant super-blocks of 256.</summary>
    Q3_K,
    /// <summary>GGML 4-bit k-quant super-blocks of 256.</summary>
    Q4_K,
    /// <summary>GGML 5-bit k-quant super-blocks of 256.</summary>
    Q5_K,
    /// <summary>GGML 6-bit k-quant super-blocks of 256.</summary>
    Q6_K,
}

/// <summary>Storage geometry of a dtype: how many elements make one block and how many bytes it takes.</summary>
internal static class TensorDTypes
{
    /// <summary>Elements per storage block (1 for plain element types, 32 or 256 for GGML quantisations).</summary>
    public static int BlockElements(this TensorDType t) => t switch
    {
        TensorDType.Q4_0 or TensorDType.Q4_1 or TensorDType.Q5_0 or TensorDType.Q5_1 or TensorDType.Q8_0 => 32,
        TensorDType.Q2_K or TensorDType.Q3_K or TensorDType.Q4_K or TensorDType.Q5_K or TensorDType.Q6_K => 256,
        _ => 1,
    };

    /// <summary>Bytes per storage block.</summary>
    public static int BlockBytes(this TensorDType t) => t switch
    {
        TensorDType.F64 or TensorDType.I64 => 8,
        TensorDType.F32 or TensorDType.I32 => 4,
        TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 => 2,
        TensorDType.F8_E4M3 or TensorDType.F8_E5M2 or TensorDType.I8 or TensorDType.U8 or TensorDType.Bool => 1,
        TensorDType.Q4_0 => 18,
        TensorDType.Q4_1 => 20,
        TensorDType.Q5_0 => 22,
        TensorDType.Q5_1 => 24,
        TensorDType.Q8_0 => 34,
        TensorDType.Q2_K => 84,
        TensorDType.Q3_K => 110,
        TensorDType.Q4_K => 144,
        TensorDType.Q5_K => 176,
        TensorDType.Q6_K => 210,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static bool IsBlockQuantized(this TensorDType t) => t.BlockElements() > 1;

    public static bool IsFloatingPoint(this TensorDType t) => t is TensorDType.F64 or TensorDType.F32 or TensorDType.F16
        or TensorDType.BF16 or TensorDType.F8_E4M3 or TensorDType.F8_E5M2 || t.IsBlockQuantized();

    /// <summary>Byte length of <paramref name="elements"/> elements, overflow-checked; elements must fill whole blocks.</summary>
    public static long ByteLengthOf(this TensorDType t, long elements)
    {
        long block = t.BlockElements();
        if (elements < 0 || elements % block != 0) throw new OverflowException($"{elements} elements do not fill whole {t} blocks of {block}");
        return checked(elements / block * t.BlockBytes());
    }

    /// <summary>The safetensors spelling ("F32", "BF16", "F8_E4M3" ...), or the GGML name for quantised types.</summary>
    public static string Name(this TensorDType t) => t switch
    {
        TensorDType.Bool => "BOOL",
        _ => t.ToString(),
    };
}
