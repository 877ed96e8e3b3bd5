namespace WeightPrint.IO;

/// <summary>
/// Optional paging hints of a byte source backed by a memory map. Hints never change what a read returns: a
/// released range reads back the same bytes (faulted in again from the page cache).
/// </summary>
internal interface IPageAdvice
{
    /// <summary>The range will be read soon: start reading it in the background.</summary>
    void WillNeed(long offset, long length);

    /// <summary>
    /// The range has been read: its pages may leave this process's resident memory (the page cache keeps them).
    /// Whole pages from the one holding <paramref name="offset"/> up to the last one ending within the range.
    /// </summary>
    void DontNeed(long offset, long length);
}
