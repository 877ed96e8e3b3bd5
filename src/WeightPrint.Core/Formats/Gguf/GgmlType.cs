using WeightPrint.Numerics;
namespace WeightPrint.Formats.Gguf;

/// <summary>
/// The ggml tensor types a GGUF tensor info may name (ggml.h <c>enum ggml_type</c>; the enum is append-only
/// and has gaps where types were removed). Only some are readable: see <see cref="GgmlTypes.ToTensorDType"/>.
/// </summary>
internal enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    /// <summary>Removed from ggml; never valid in GGUF.</summary>
    Q4_2 = 4,
    /// <summary>Removed from ggml; never valid in GGUF.</summary>
    Q4_3 = 5,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    /// <summary>Runtime repacking layouts, removed from GGUF files.</summary>
    Q4_0_4_4 = 31,
    Q4_0_4_8 = 32,
    Q4_0_8_8 = 33,
    TQ1_0 = 34,
    TQ2_0 = 35,
    /// <summary>Runtime repacking layouts, removed from GGUF files.</summary>
    IQ4_NL_4_4 = 36,
    IQ4_NL_4_8 = 37,
    IQ4_NL_8_8 = 38,
    MXFP4 = 39,
    NVFP4 = 40,
    Q1_0 = 41,
    Q2_0 = 42,
}

/// <summary>Names of ggml types and their mapping to WeightPrint's <see cref="TensorDType"/>.</summary>
internal static class GgmlTypes
{
    /// <summary>The largest ggml type number this table names.</summary>
    public const uint MaxKnownType = (uint)GgmlType.Q2_0;

    /// <summary>ggml's name for a type number ("Q4_K", "IQ2_XXS" …), or null when the number names no type.</summary>
    public static string? Name(uint type) => type <= MaxKnownType ? ((GgmlType)type).ToString() : null;

    /// <summary>The dtype a ggml type is read as, or null when WeightPrint cannot read it.</summary>
    public static TensorDType? ToTensorDType(uint type) => (GgmlType)type switch
    {
        GgmlType.F32 => TensorDType.F32,
        GgmlType.F16 => TensorDType.F16,
        GgmlType.BF16 => TensorDType.BF16,
        GgmlType.F64 => TensorDType.F64,
        GgmlType.I8 => TensorDType.I8,
        GgmlType.I16 => TensorDType.I16,
        GgmlType.I32 => TensorDType.I32,
        GgmlType.I64 => TensorDType.I64,
        GgmlType.Q4_0 => TensorDType.Q4_0,
        GgmlType.Q4_1 => TensorDType.Q4_1,
        GgmlType.Q5_0 => TensorDType.Q5_0,
        GgmlType.Q5_1 => TensorDType.Q5_1,
        GgmlType.Q8_0 => TensorDType.Q8_0,
        GgmlType.Q2_K => TensorDType.Q2_K,
        GgmlType.Q3_K => TensorDType.Q3_K,
        GgmlType.Q4_K => TensorDType.Q4_K,
        GgmlType.Q5_K => TensorDType.Q5_K,
        GgmlType.Q6_K => TensorDType.Q6_K,
        _ => null,
    };

    /// <summary>The ggml type a dtype is stored as in GGUF, or null when GGUF has no such type (U8, Bool, fp8).</summary>
    public static GgmlType? FromTensorDType(TensorDType dtype) => dtype switch
    {
        TensorDType.F32 => GgmlType.F32,
        TensorDType.F16 => GgmlType.F16,
        TensorDType.BF16 => GgmlType.BF16,
        TensorDType.F64 => GgmlType.F64,
        TensorDType.I8 => GgmlType.I8,
        TensorDType.I16 => GgmlType.I16,
        TensorDType.I32 => GgmlType.I32,
        TensorDType.I64 => GgmlType.I64,
        TensorDType.Q4_0 => GgmlType.Q4_0,
        TensorDType.Q4_1 => GgmlType.Q4_1,
        TensorDType.Q5_0 => GgmlType.Q5_0,
        TensorDType.Q5_1 => GgmlType.Q5_1,
        TensorDType.Q8_0 => GgmlType.Q8_0,
        TensorDType.Q2_K => GgmlType.Q2_K,
        TensorDType.Q3_K => GgmlType.Q3_K,
        TensorDType.Q4_K => GgmlType.Q4_K,
        TensorDType.Q5_K => GgmlType.Q5_K,
        TensorDType.Q6_K => GgmlType.Q6_K,
        _ => null,
    };
}

/// <summary>GGUF metadata value types (gguf.md <c>gguf_metadata_value_type</c>).</summary>
internal enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}
