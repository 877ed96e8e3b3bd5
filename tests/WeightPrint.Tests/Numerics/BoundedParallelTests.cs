using WeightPrint.Formats;
using WeightPrint.Numerics;
using WeightPrint.IO;

namespace WeightPrint.Tests.Numerics;

public class BoundedParallelTests
{
    [Fact]
    public void Results_come_back_in_item_order_with_bounded_concurrency()
    {
        int running = 0, peak = 0;
        var items = Enumerable.Range(0, 200).ToArray();
        var results = BoundedParallel.Map(items, i =>
        {
            int now = Interlocked.Increment(ref running);
            int seen;
            while ((seen = Volatile.Read(ref peak)) < now && Interlocked.CompareExchange(ref peak, now, seen) != seen)
            {
            }

            Thread.SpinWait(2000 * (i % 7));
            Interlocked.Decrement(ref running);
            return i * i;
        }, maxDegreeOfParallelism: 2);
        Assert.Equal(items.Select(i => i * i), results);
        Assert.InRange(peak, 1, 2);
    }

    [Fact]
    public void The_lowest_failing_item_throws_its_own_exception_type()
    {
        var e = Assert.Throws<InvalidModelFileException>(() => BoundedParallel.Map(Enumerable.Range(0, 50).ToArray(), i =>
        {
            if (i >= 3) throw new InvalidModelFileException($"file{i}", "broken");
            return i;
        }, maxDegreeOfParallelism: 1));
        Assert.Contains("file3", e.Message);
        Assert.Throws<InvalidModelFileException>(() => BoundedParallel.Map(Enumerable.Range(0, 50).ToArray(), i =>
            i == 17 ? throw new InvalidModelFileException("x", "broken") : i, maxDegreeOfParallelism: 2));
        Assert.Empty(BoundedParallel.Map(Array.Empty<int>(), i => i));
    }
}
