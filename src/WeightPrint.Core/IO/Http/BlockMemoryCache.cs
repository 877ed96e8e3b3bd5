namespace WeightPrint.IO.Http;

/// <summary>
/// A bounded least-recently-used set of blocks shared by the remote files of one model, keyed by file and
/// block index; it also holds per-file state that every reader of the same file shares (the requests in flight),
/// so two readers of one file never fetch the same block at once. Thread-safe.
/// </summary>
internal sealed class BlockMemoryCache(int capacityBlocks)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> _perFile = new(StringComparer.Ordinal);
    private readonly Dictionary<(string File, long Block), LinkedListNode<Entry>> _map = [];
    private readonly LinkedList<Entry> _order = new();
    private readonly Lock _lock = new();

    private sealed record Entry((string File, long Block) Key, byte[] Data);

    public int CapacityBlocks { get; } = capacityBlocks >= 1 ? capacityBlocks : throw new ArgumentOutOfRangeException(nameof(capacityBlocks));

    public int Count
    {
        get
        {
            lock (_lock) return _map.Count;
        }
    }

    /// <summary>The state of type <typeparamref name="T"/> shared by every reader of <paramref name="file"/>, created once.</summary>
    internal T PerFile<T>(string file, Func<T> create) where T : class =>
        _perFile.GetOrAdd(file, _ => create()) as T ?? throw new InvalidOperationException($"per-file state of {file} has another type");

    public byte[]? TryGet(string file, long block)
    {
        lock (_lock)
        {
            if (!_map.TryGetValue((file, block), out var node)) return null;
            _order.Remove(node);
            _order.AddFirst(node);
            return node.Value.Data;
        }
    }

    public bool Contains(string file, long block)
    {
        lock (_lock) return _map.ContainsKey((file, block));
    }

    public void Put(string file, long block, byte[] data)
    {
        lock (_lock)
        {
            if (_map.TryGetValue((file, block), out var existing))
            {
                _order.Remove(existing);
                _map.Remove((file, block));
            }

            var node = _order.AddFirst(new Entry((file, block), data));
            _map[(file, block)] = node;
            while (_map.Count > CapacityBlocks)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Key);
            }
        }
    }
}
