namespace WeightPrint.Signals;

/// <summary>
/// Values computed once per key, even when several threads ask for the same key at once (comparisons run side by side
/// on one input in <c>identify</c>): the others wait for the first computation. A computation that throws is
/// forgotten, so the next call tries again.
/// </summary>
internal sealed class OnceCache<TKey, TValue>
    where TKey : notnull
{
    private readonly Dictionary<TKey, Slot> _slots = [];

    private sealed class Slot
    {
        public readonly Lock Gate = new();
        public bool Done;
        public TValue? Value;
    }

    public TValue GetOrAdd(TKey key, Func<TValue> compute)
    {
        Slot slot;
        lock (_slots)
        {
            if (!_slots.TryGetValue(key, out slot!)) _slots[key] = slot = new Slot();
        }

        lock (slot.Gate)
        {
            if (slot.Done) return slot.Value!;
            try
            {
                slot.Value = compute();
                slot.Done = true;
                return slot.Value;
            }
            catch
            {
                lock (_slots)
                {
                    if (_slots.TryGetValue(key, out var same) && same == slot) _slots.Remove(key);
                }

                throw;
            }
        }
    }
}
