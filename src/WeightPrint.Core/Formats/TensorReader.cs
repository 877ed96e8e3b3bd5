using System.Buffers;
using System.IO.Hashing;
using System.Numerics;
using WeightPrint.IO;
using WeightPrint.Numerics;

namespace WeightPrint.Formats;

/// <summary>
/// Reads tensor data from any format as float32, in bounded chunks: never a whole model, never more than
/// <see cref="ChunkBytes"/> of raw data at a time.
/// </summary>
internal static class TensorReader
{
    /// <summary>Raw bytes processed per step when streaming (a multiple of every block size's lcm is not
    /// required: chunk boundaries are rounded down to whole blocks).</summary>
    public const int ChunkBytes = 1 << 20;

    /// <summary>
    /// When streaming a memory-mapped tensor (moments, chunks, hashes, pairs), bytes hinted ahead of the chunk being
    /// reduced (MADV_WILLNEED). Reduced chunks are released from the mapping (MADV_DONTNEED), so a stream keeps at
    /// most about this much plus one chunk of its file resident however large the tensor is.
    /// </summary>
    public const int PrefetchBytes = 16 << 20;

    /// <summary>Streams shorter than this take no paging hints (small tensors share pages with their neighbours).</summary>
    public const int MinAdvisedBytes = 1 << 20;

    /// <summary>Reads elements [firstElement, firstElement + destination.Length) in row-major order as float.
    /// Non-finite stored values (NaN, ±Infinity) are read as 0 and the tensor is marked
    /// (<see cref="TensorInfo.HasNonFiniteValues"/>), so every method sees finite input and the result can name it.</summary>
    public static void ReadFloats(TensorInfo t, long firstElement, Span<float> destination)
    {
        ReadFloatsAsStored(t, firstElement, destination);
        ReplaceNonFinite(t, destination);
    }

    /// <summary>Replaces NaN and ±Infinity by 0 in place and marks <paramref name="t"/> when there were any.</summary>
    private static void ReplaceNonFinite(TensorInfo t, Span<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var spans = System.Runtime.InteropServices.MemoryMarshal.Cast<float, Vector<float>>(values);
            foreach (var v in spans)
            {
                // x − x is 0 for every finite x and NaN for NaN and ±Infinity.
                if (!Vector.EqualsAll(v - v, Vector<float>.Zero)) goto slow;
            }

            i = spans.Length * Vector<float>.Count;
        }

        for (; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) goto slow;
        }

        return;
    slow:
        foreach (ref float v in values)
        {
            if (!float.IsFinite(v)) v = 0;
        }

        t.NoteNonFinite();
    }

    private static void ReadFloatsAsStored(TensorInfo t, long firstElement, Span<float> destination)
    {
        if (firstElement < 0 || destination.Length > t.ElementCount - firstElement)
            throw new ArgumentOutOfRangeException(nameof(firstElement), $"{t.Name}: element range {firstElement}+{destination.Length} outside {t.ElementCount}");
        if (destination.Length == 0) return;
        if (!t.IsContiguous)
        {
            ReadStrided(t, firstElement, destination);
            return;
        }

        int blockElems = t.DType.BlockElements();
        int blockBytes = t.DType.BlockBytes();
        if (blockElems == 1)
        {
            int maxPerStep = ChunkBytes / blockBytes;
            byte[]? rented = null;
            try
            {
                for (int done = 0; done < destination.Length;)
                {
                    int n = Math.Min(maxPerStep, destination.Length - done);
                    long offset = t.DataOffset + (firstElement + done) * blockBytes;
                    int bytes = n * blockBytes;
                    if (!t.Source.TryGetSpan(offset, bytes, out var span))
                    {
                        rented ??= ArrayPool<byte>.Shared.Rent(ChunkBytes);
                        t.Source.Read(offset, rented.AsSpan(0, bytes));
                        span = rented.AsSpan(0, bytes);
                    }

                    FloatConversion.ToSingle(t.DType, span, destination.Slice(done, n));
                    done += n;
                }
            }
            finally
            {
                if (rented != null) ArrayPool<byte>.Shared.Return(rented);
            }

            return;
        }

        // Block-quantised: dequantise the covering blocks, copy out the requested slice.
        long firstBlock = firstElement / blockElems;
        long lastBlock = (firstElement + destination.Length - 1) / blockElems;
        int blocksPerStep = Math.Max(1, ChunkBytes / blockBytes);
        float[] scratch = ArrayPool<float>.Shared.Rent(blocksPerStep * blockElems);
        byte[] raw = ArrayPool<byte>.Shared.Rent(blocksPerStep * blockBytes);
        try
        {
            int written = 0;
            for (long b = firstBlock; b <= lastBlock; b += blocksPerStep)
            {
                int nb = (int)Math.Min(blocksPerStep, lastBlock - b + 1);
                long offset = t.DataOffset + b * blockBytes;
                if (!t.Source.TryGetSpan(offset, nb * blockBytes, out var span))
                {
                    t.Source.Read(offset, raw.AsSpan(0, nb * blockBytes));
                    span = raw.AsSpan(0, nb * blockBytes);
                }

                var floats = scratch.AsSpan(0, nb * blockElems);
                BlockDequantizer.Dequantize(t.DType, span, floats);
                long chunkStart = b * blockElems;
                int skip = (int)Math.Max(0, firstElement - chunkStart);
                int take = Math.Min(floats.Length - skip, destination.Length - written);
                floats.Slice(skip, take).CopyTo(destination[written..]);
                written += take;
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    /// <summary>Calls <paramref name="action"/> on consecutive float chunks covering the element range.</summary>
    public static void ForEachChunk(TensorInfo t, long firstElement, long count, ReadOnlySpanAction<float, long> action, int chunkElements = 1 << 18)
    {
        int blockElems = t.DType.BlockElements();
        chunkElements = Math.Max(blockElems, chunkElements / blockElems * blockElems);
        if (count <= 0) return;
        float[] buffer = ArrayPool<float>.Shared.Rent(chunkElements);
        var pages = t.IsContiguous ? new PageWindow(t.Source, ByteOffsetOf(t, firstElement), ByteOffsetOf(t, firstElement + count) - ByteOffsetOf(t, firstElement)) : default;
        try
        {
            for (long done = 0; done < count;)
            {
                int n = (int)Math.Min(chunkElements, count - done);
                var span = buffer.AsSpan(0, n);
                ReadFloats(t, firstElement + done, span);
                action(span, firstElement + done);
                done += n;
                pages.Consumed(ByteOffsetOf(t, firstElement + done));
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    /// <summary>Moments of a contiguous element range (the whole tensor by default), fused with conversion.</summary>
    public static Moments ComputeMoments(TensorInfo t, long firstElement = 0, long count = -1)
    {
        if (count < 0) count = t.ElementCount - firstElement;
        var m = Moments.Empty;
        if (t.IsContiguous && !t.DType.IsBlockQuantized())
        {
            int size = t.DType.BlockBytes();
            int perStep = ChunkBytes / size;
            byte[]? rented = null;
            var pages = new PageWindow(t.Source, t.DataOffset + firstElement * size, count * size);
            try
            {
                for (long done = 0; done < count;)
                {
                    int n = (int)Math.Min(perStep, count - done);
                    long offset = t.DataOffset + (firstElement + done) * size;
                    if (!t.Source.TryGetSpan(offset, n * size, out var span))
                    {
                        rented ??= ArrayPool<byte>.Shared.Rent(ChunkBytes);
                        t.Source.Read(offset, rented.AsSpan(0, n * size));
                        span = rented.AsSpan(0, n * size);
                    }

                    MomentKernels.Accumulate(t.DType, span, n, ref m);
                    done += n;
                    pages.Consumed(offset + n * size);
                }
            }
            finally
            {
                if (rented != null) ArrayPool<byte>.Shared.Return(rented);
            }

            if (m.NaNCount + m.InfinityCount > 0) t.NoteNonFinite();
            return m;
        }

        var acc = Moments.Empty;
        ForEachChunk(t, firstElement, count, (span, _) => MomentKernels.Accumulate(span, ref acc));
        return acc;
    }

    /// <summary>A 64-bit content hash of the tensor's stored bytes (dtype and shape included), for detecting
    /// bit-identical tensors cheaply.</summary>
    public static ulong ContentHash(TensorInfo t)
    {
        var hash = new XxHash3();
        hash.Append(System.Text.Encoding.UTF8.GetBytes(t.DType.Name() + t.ShapeText));
        if (t.IsContiguous)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            var pages = new PageWindow(t.Source, t.DataOffset, t.ByteLength);
            try
            {
                for (long done = 0; done < t.ByteLength;)
                {
                    int n = (int)Math.Min(ChunkBytes, t.ByteLength - done);
                    if (t.Source.TryGetSpan(t.DataOffset + done, n, out var span)) hash.Append(span);
                    else
                    {
                        t.Source.Read(t.DataOffset + done, buffer.AsSpan(0, n));
                        hash.Append(buffer.AsSpan(0, n));
                    }

                    done += n;
                    pages.Consumed(t.DataOffset + done);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        else
        {
            ForEachChunk(t, 0, t.ElementCount, (span, _) => hash.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(span)));
        }

        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>
    /// Dot product, squared norms and sums of two tensors with the same element count, taken element by element
    /// in row-major order, in one streamed pass (fused with conversion when both share an element-wise dtype).
    /// </summary>
    public static PairMoments ComputePairMoments(TensorInfo a, TensorInfo b)
    {
        if (a.ElementCount != b.ElementCount)
            throw new ArgumentException($"{a.Name} has {a.ElementCount} elements, {b.Name} has {b.ElementCount}", nameof(b));
        var m = new PairMoments();
        long count = a.ElementCount;
        if (a.DType == b.DType && a.IsContiguous && b.IsContiguous && !a.DType.IsBlockQuantized())
        {
            int size = a.DType.BlockBytes();
            int perStep = ChunkBytes / size;
            byte[]? rentedA = null, rentedB = null;
            var pagesA = new PageWindow(a.Source, a.DataOffset, a.ByteLength);
            var pagesB = new PageWindow(b.Source, b.DataOffset, b.ByteLength);
            try
            {
                for (long done = 0; done < count;)
                {
                    int n = (int)Math.Min(perStep, count - done);
                    long offA = a.DataOffset + done * size, offB = b.DataOffset + done * size;
                    if (!a.Source.TryGetSpan(offA, n * size, out var spanA))
                    {
                        rentedA ??= ArrayPool<byte>.Shared.Rent(ChunkBytes);
                        a.Source.Read(offA, rentedA.AsSpan(0, n * size));
                        spanA = rentedA.AsSpan(0, n * size);
                    }

                    if (!b.Source.TryGetSpan(offB, n * size, out var spanB))
                    {
                        rentedB ??= ArrayPool<byte>.Shared.Rent(ChunkBytes);
                        b.Source.Read(offB, rentedB.AsSpan(0, n * size));
                        spanB = rentedB.AsSpan(0, n * size);
                    }

                    PairKernels.Accumulate(a.DType, spanA, spanB, n, ref m);
                    done += n;
                    pagesA.Consumed(offA + n * size);
                    pagesB.Consumed(offB + n * size);
                }
            }
            finally
            {
                if (rentedA != null) ArrayPool<byte>.Shared.Return(rentedA);
                if (rentedB != null) ArrayPool<byte>.Shared.Return(rentedB);
            }

            return m;
        }

        const int step = 1 << 16;
        float[] bufferB = ArrayPool<float>.Shared.Rent(step);
        try
        {
            ForEachChunk(a, 0, count, (spanA, first) =>
            {
                for (int done = 0; done < spanA.Length; done += step)
                {
                    int n = Math.Min(step, spanA.Length - done);
                    ReadFloats(b, first + done, bufferB.AsSpan(0, n));
                    PairKernels.Accumulate(spanA.Slice(done, n), bufferB.AsSpan(0, n), ref m);
                }
            });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bufferB);
        }

        return m;
    }

    /// <summary>Byte offset in the source of the block holding element <paramref name="element"/> (contiguous tensors).</summary>
    private static long ByteOffsetOf(TensorInfo t, long element)
    {
        int blockElems = t.DType.BlockElements();
        return t.DataOffset + (element + blockElems - 1) / blockElems * t.DType.BlockBytes();
    }

    /// <summary>
    /// Bounded paging of one sequential stream over a memory-mapped range: hints the next <see cref="PrefetchBytes"/>
    /// ahead and releases what has been consumed, so resident memory stays bounded whatever the range's size.
    /// A no-op for sources that take no hints and for short ranges.
    /// </summary>
    private struct PageWindow
    {
        private readonly IPageAdvice? _advice;
        private readonly long _end;
        private long _hinted;
        private long _released;

        public PageWindow(IByteSource source, long start, long length)
        {
            _advice = length >= MinAdvisedBytes ? source as IPageAdvice : null;
            _end = start + length;
            _hinted = start;
            _released = start;
            Consumed(start);
        }

        /// <summary>Bytes before <paramref name="position"/> have been reduced and will not be read again by this stream.</summary>
        public void Consumed(long position)
        {
            if (_advice == null) return;
            if (position > _released)
            {
                _advice.DontNeed(_released, position - _released);
                _released = position;
            }

            long want = Math.Min(_end, position + PrefetchBytes);
            if (want > _hinted && (want - _hinted >= PrefetchBytes / 2 || want == _end))
            {
                _advice.WillNeed(_hinted, want - _hinted);
                _hinted = want;
            }
        }
    }

    private static void ReadStrided(TensorInfo t, long firstElement, Span<float> destination)
    {
        var shape = t.Shape;
        var strides = t.ElementStrides!;
        int rank = shape.Count;
        int size = t.DType.BlockBytes();
        if (t.DType.IsBlockQuantized()) throw new InvalidModelFileException(t.Source.Name, $"{t.Name}: strided quantised tensors are not supported");
        Span<long> index = stackalloc long[Math.Max(rank, 1)];
        long rem = firstElement;
        for (int d = rank - 1; d >= 0; d--)
        {
            index[d] = shape[d] == 0 ? 0 : rem % shape[d];
            rem = shape[d] == 0 ? 0 : rem / shape[d];
        }

        Span<byte> one = stackalloc byte[8];
        Span<float> value = stackalloc float[1];
        for (int i = 0; i < destination.Length; i++)
        {
            long storage = 0;
            for (int d = 0; d < rank; d++) storage += index[d] * strides[d];
            t.Source.Read(t.DataOffset + storage * size, one[..size]);
            FloatConversion.ToSingle(t.DType, one[..size], value);
            destination[i] = value[0];
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d]) break;
                index[d] = 0;
            }
        }
    }
}
