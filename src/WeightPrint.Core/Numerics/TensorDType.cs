namespace WeightPrint.Numerics;

/// <summary>Element types of stored tensors: the safetensors dtypes plus GGML block quantisations.</summary>
public enum TensorDType
{
    F64,
    F32,
    F16,
    BF16,
    F8_E4M3,
    F8_E5M2,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
}

/// <summary>Storage geometry of a dtype: how many elements make one block and how many bytes it takes.</summary>
public static class TensorDTypes
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
