using WeightPrint.Formats;
using WeightPrint.IO.Hub;

namespace WeightPrint.Loading;

/// <summary>
/// Opens a model argument as the user wrote it: a local file or folder (through <see cref="CheckpointLoader"/>)
/// or a Hugging Face Hub reference <c>hf:ORG/NAME[@REVISION]</c> (through <see cref="HubLoader"/>, read with
/// ranged requests). This is the one place that decides between the two, which keeps Hub loading above Formats.
/// </summary>
internal static class ModelSource
{
    /// <summary>Opens <paramref name="path"/>; Hub references use <paramref name="hubOptions"/> (default:
    /// <see cref="HubLoader.DefaultOptions"/>, else the environment). Throws
    /// <see cref="WeightPrint.IO.InvalidModelFileException"/> for anything unreadable.</summary>
    public static Checkpoint Open(string path, HubOptions? hubOptions = null) =>
        HubReference.IsHubReference(path) ? HubLoader.Open(path, hubOptions) : CheckpointLoader.Open(path);
}
