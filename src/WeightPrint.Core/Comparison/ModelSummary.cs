using WeightPrint.Model;

namespace WeightPrint.Comparison;

/// <summary>What the outputs say about one compared model: where it came from and its shape.</summary>
public sealed record ModelSummary(string Path, string Source, string Format, string Architecture, int Layers, long Parameters, long Bytes,
    AttentionGeometry? Geometry, string? Revision = null)
{
    internal static ModelSummary Of(ModelView view, string path)
    {
        var c = view.Checkpoint;
        string? revision = c.Metadata.TryGetValue("hub.commit", out var sha) ? sha as string : null;
        int layers = view.DecoderLayers.Count > 0 ? view.DecoderLayers.Count : view.Layers.Count;
        return new ModelSummary(path, "weights", c.Format, view.Architecture, layers, c.ParameterCount, c.TotalBytes, view.Geometry, revision);
    }
}
