using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Formats;

/// <summary>
/// One stored tensor: its name, dtype and logical row-major shape (outermost dimension first), and where its
/// bytes are. Listing tensors never reads tensor data.
/// </summary>
internal sealed class TensorInfo
{
    public TensorInfo(string name, TensorDType dtype, IReadOnlyList<long> shape, IByteSource source, long dataOffset,
        IReadOnlyList<long>? elementStrides = null)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        Source = source;
        DataOffset = dataOffset;
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new InvalidModelFileException(source.Name, $"tensor {name} has a negative dimension {d}");
            count = checked(count * d);
        }

        ElementCount = count;
        ElementStrides = elementStrides != null && !IsRowMajor(shape, elementStrides) ? elementStrides : null;
        ByteLength = ElementStrides == null ? dtype.ByteLengthOf(count) : checked(count * dtype.BlockBytes());
    }

    public string Name { get; }

    public TensorDType DType { get; }

    /// <summary>Logical shape, outermost first: a Linear weight is [out_features, in_features].</summary>
    public IReadOnlyList<long> Shape { get; }

    public long ElementCount { get; }

    /// <summary>Bytes the tensor's elements occupy (for a strided view: the elements it addresses).</summary>
    public long ByteLength { get; }

    /// <summary>The file holding the data.</summary>
    public IByteSource Source { get; }

    /// <summary>Offset of element 0 in <see cref="Source"/>.</summary>
    public long DataOffset { get; }

    /// <summary>Element strides of a non-contiguous view (PyTorch); null when the data is contiguous row-major.</summary>
    public IReadOnlyList<long>? ElementStrides { get; }

    public bool IsContiguous => ElementStrides == null;

    /// <summary>Size of the first dimension (1 for a scalar).</summary>
    public long Rows => Shape.Count == 0 ? 1 : Shape[0];

    /// <summary>Elements per row: the product of all dimensions after the first (1 for a vector).</summary>
    public long Columns => Rows == 0 ? 0 : ElementCount / Rows;

    private int _nonFinite;

    /// <summary>True once a read of this tensor met a NaN or ±Infinity (read as 0, or left out of moments).</summary>
    public bool HasNonFiniteValues => Volatile.Read(ref _nonFinite) != 0;

    internal void NoteNonFinite() => Volatile.Write(ref _nonFinite, 1);

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    public override string ToString() => $"{Name} {DType.Name()} {ShapeText}";

    private static bool IsRowMajor(IReadOnlyList<long> shape, IReadOnlyList<long> strides)
    {
        if (strides.Count != shape.Count) return false;
        long expected = 1;
        for (int i = shape.Count - 1; i >= 0; i--)
        {
            if (shape[i] != 1 && strides[i] != expected) return false;
            expected *= shape[i];
        }

        return true;
    }
}
