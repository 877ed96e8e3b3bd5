using System.Runtime.ExceptionServices;

namespace WeightPrint.Numerics;

/// <summary>
/// Bounded parallel processing of independent items (tensors): at most <c>maxDegreeOfParallelism</c> workers,
/// each taking the next item in list order, results returned in list order whatever the timing. Memory stays
/// bounded because each worker streams one item at a time (the streaming readers hold one chunk each).
/// </summary>
internal static class BoundedParallel
{
    /// <summary>Workers used when none is asked for: one per logical processor.</summary>
    public static int DefaultDegree => Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// Maps every item, in parallel, into a result array in item order. When maps throw, the exception of the
    /// lowest-indexed failing item is rethrown unchanged (not wrapped), so typed errors such as
    /// <see cref="IO.InvalidModelFileException"/> reach the caller as themselves; no new item starts after
    /// a failure.
    /// </summary>
    public static TResult[] Map<TItem, TResult>(IReadOnlyList<TItem> items, Func<TItem, TResult> map, int maxDegreeOfParallelism = 0)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(map);
        int n = items.Count;
        var results = new TResult[n];
        int degree = Math.Min(n, maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : DefaultDegree);
        if (degree <= 1)
        {
            for (int i = 0; i < n; i++) results[i] = map(items[i]);
            return results;
        }

        int next = -1;
        int failed = 0;
        var errors = new Exception?[n];
        void Work()
        {
            int i;
            while (Volatile.Read(ref failed) == 0 && (i = Interlocked.Increment(ref next)) < n)
            {
                try
                {
                    results[i] = map(items[i]);
                }
                catch (Exception e)
                {
                    errors[i] = e;
                    Volatile.Write(ref failed, 1);
                }
            }
        }

        var workers = new Thread[degree - 1];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = new Thread(Work) { IsBackground = true, Name = "weightprint-worker" };
            workers[w].Start();
        }

        Work();
        foreach (var t in workers) t.Join();
        foreach (var e in errors)
        {
            if (e != null) ExceptionDispatchInfo.Capture(e).Throw();
        }

        return results;
    }
}
