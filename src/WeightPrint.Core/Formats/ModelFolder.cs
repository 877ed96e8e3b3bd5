using WeightPrint.IO;

namespace WeightPrint.Formats;

/// <summary>
/// The files of a model folder as <see cref="CheckpointLoader"/> sees them: a local directory, or a remote
/// repository snapshot (the Hugging Face Hub). Names are plain file names relative to the folder.
/// </summary>
internal interface IModelFolder
{
    /// <summary>What the user named (a folder path, or <c>hf:ORG/NAME@REVISION</c>).</summary>
    string Location { get; }

    /// <summary>The top-level file names, in no particular order.</summary>
    IEnumerable<string> FileNames { get; }

    bool Exists(string name);

    /// <summary>The name of a file for error messages (its path or URL).</summary>
    string PathOf(string name);

    /// <summary>Opens a file as a byte source (the caller disposes it).</summary>
    IByteSource Open(string name);

    /// <summary>Reads a small file whole, refusing one above <paramref name="limit"/> bytes
    /// ("<paramref name="what"/> of N bytes exceeds the L-byte limit").</summary>
    byte[] ReadAllBytes(string name, long limit, string what);
}

/// <summary>A local directory, opening files through the loader's open function (a memory map by default).</summary>
internal sealed class LocalModelFolder(string folder, Func<string, IByteSource> openFile) : IModelFolder
{
    public string Location => folder;

    public IEnumerable<string> FileNames => Directory.GetFiles(folder).Select(f => Path.GetFileName(f));

    public bool Exists(string name) => File.Exists(PathOf(name));

    public string PathOf(string name) => Path.Combine(folder, name);

    public IByteSource Open(string name) => openFile(PathOf(name));

    public byte[] ReadAllBytes(string name, long limit, string what)
    {
        string path = PathOf(name);
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget != null) info = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
            if (info.Length > limit) throw new InvalidModelFileException(path, $"{what} of {info.Length} bytes exceeds the {limit}-byte limit");
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidModelFileException(path, "cannot read: " + e.Message);
        }
    }
}
