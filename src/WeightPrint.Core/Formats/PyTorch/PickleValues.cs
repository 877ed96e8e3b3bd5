using WeightPrint.Numerics;
namespace WeightPrint.Formats.PyTorch;

// The values a data-only pickle can build. Python None is null; bool, long, double, string, byte[] and
// System.Numerics.BigInteger stand for themselves. Nothing here can run code: a global is either one of the
// allow-listed names below or the pickle is refused.

/// <summary>A Python list (also used for set and frozenset).</summary>
internal sealed class PickleList(List<object?> items)
{
    public List<object?> Items { get; } = items;
}

/// <summary>A Python tuple (immutable).</summary>
internal sealed class PickleTuple(object?[] items)
{
    public static readonly PickleTuple Empty = new([]);

    public object?[] Items { get; } = items;
}

/// <summary>A Python dict or OrderedDict: insertion order kept, a repeated scalar key replaces the value.</summary>
internal sealed class PickleDict
{
    private readonly Dictionary<object, int> _index = [];

    public List<KeyValuePair<object?, object?>> Items { get; } = [];

    public void Set(object? key, object? value)
    {
        if (key is string or long or bool)
        {
            // Python: True == 1 and False == 0 as dict keys.
            object k = key is bool b ? (b ? 1L : 0L) : key;
            if (_index.TryGetValue(k, out int at))
            {
                Items[at] = new(Items[at].Key, value);
                return;
            }

            _index[k] = Items.Count;
        }

        Items.Add(new(key, value));
    }
}

/// <summary>Callables the machine may apply with REDUCE / NEWOBJ: pure data constructors, emulated here.</summary>
internal enum PickleCallable
{
    OrderedDict,
    RebuildTensorV2,
    RebuildTensor,
    RebuildParameter,
    RebuildParameterWithState,
    TorchSize,
    CodecsEncode,
    Set,
    FrozenSet,
}

/// <summary>An allow-listed callable global.</summary>
internal sealed record PickleFunction(string QualifiedName, PickleCallable Kind);

/// <summary>A torch storage class (<c>torch.FloatStorage</c> …) or dtype (<c>torch.float32</c> …); null DType means
/// a known torch type that WeightPrint cannot read (complex numbers, quantised integers).</summary>
internal sealed record TorchTypeValue(string QualifiedName, TensorDType? DType, bool IsStorage);

/// <summary>A storage reference from a persistent id: ('storage', type, key, location, numel).</summary>
internal sealed record TorchStorageRef(string Key, TensorDType DType, string Location, long Numel);

/// <summary>A tensor built by <c>torch._utils._rebuild_tensor_v2</c>: a view of a storage.</summary>
internal sealed record TorchTensorValue(TorchStorageRef Storage, long StorageOffset, long[] Shape, long[] Strides);
