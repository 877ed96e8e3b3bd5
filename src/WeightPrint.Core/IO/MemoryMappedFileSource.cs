using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using WeightPrint.Formats;

namespace WeightPrint.IO;

/// <summary>
/// A read-only memory map of a local file. Tensor pages are faulted in only when read; streaming readers
/// (<see cref="TensorReader"/>) prefetch a bounded window ahead and release what they have reduced, so the
/// resident set does not grow with the model (the kernel's page cache keeps the file).
/// </summary>
public sealed unsafe class MemoryMappedFileSource : IByteSource, IPageAdvice
{
    private static readonly long PageSize = Environment.SystemPageSize > 0 ? Environment.SystemPageSize : 4096;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private bool _disposed;

    public MemoryMappedFileSource(string path)
    {
        Name = path;
        FileInfo info;
        try
        {
            info = new FileInfo(path);
            if (!info.Exists) throw new InvalidModelFileException(path, "file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InvalidModelFileException(path, "cannot open: " + e.Message);
        }

        Length = info.Length;
        if (Length == 0) return; // an empty file cannot be mapped; every read fails with a clear message
        try
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _base = p + _view.PointerOffset;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _view?.Dispose();
            _map?.Dispose();
            throw new InvalidModelFileException(path, "cannot map: " + e.Message);
        }
    }

    public string Name { get; }

    public long Length { get; }

    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        if (destination.Length == 0) return;
        new ReadOnlySpan<byte>(_base + offset, destination.Length).CopyTo(destination);
    }

    public bool TryGetSpan(long offset, int length, out ReadOnlySpan<byte> span)
    {
        CheckRange(offset, length);
        span = length == 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(_base + offset, length);
        return true;
    }

    /// <summary>Advises the kernel that a range will be read soon (sequential prefetch, MADV_WILLNEED on Linux).</summary>
    public void WillNeed(long offset, long length)
    {
        if (!CanAdvise(offset, length)) return;
        long start = offset & ~(PageSize - 1);
        long end = Math.Min(Length, offset + length);
        _ = NativeMethods.madvise((nint)(_base + start), (nuint)(end - start), NativeMethods.MADV_WILLNEED);
    }

    /// <summary>
    /// Drops the pages of a range that has been read from this process's mapping (MADV_DONTNEED on Linux: the map
    /// is read-only and file-backed, so the pages stay in the page cache and a later read faults them back in
    /// unchanged). Covers whole pages from the one holding <paramref name="offset"/> to the last one ending at or
    /// before offset + length, so consecutive calls over consecutive ranges release everything they cover.
    /// </summary>
    public void DontNeed(long offset, long length)
    {
        if (!CanAdvise(offset, length)) return;
        long start = offset & ~(PageSize - 1);
        long end = Math.Min(Length, offset + length) & ~(PageSize - 1);
        if (end <= start) return;
        _ = NativeMethods.madvise((nint)(_base + start), (nuint)(end - start), NativeMethods.MADV_DONTNEED);
    }

    private bool CanAdvise(long offset, long length) =>
        !_disposed && _base != null && length > 0 && offset >= 0 && offset < Length && OperatingSystem.IsLinux();

    private void CheckRange(long offset, long length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || length < 0 || offset > Length || length > Length - offset)
            throw new InvalidModelFileException(Name, $"read of {length} bytes at offset {offset} is past the end of the file ({Length} bytes): the file is truncated or its header is wrong");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }

    private static partial class NativeMethods
    {
        public const int MADV_WILLNEED = 3;
        public const int MADV_DONTNEED = 4;

        [DllImport("libc", SetLastError = false)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int madvise(nint addr, nuint length, int advice);
    }
}
