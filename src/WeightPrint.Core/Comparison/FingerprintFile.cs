using System.Text.Json.Nodes;

namespace WeightPrint.Comparison;

/// <summary>The JSON of a model summary, as fingerprints, <c>compare --json</c> and <c>matrix --json</c> write it.</summary>
internal static class FingerprintFile
{
    public static JsonObject ModelJson(ModelSummary m)
    {
        var o = new JsonObject
        {
            ["path"] = m.Path,
            ["source"] = m.Source,
            ["format"] = m.Format,
            ["architecture"] = m.Architecture,
            ["layers"] = m.Layers,
            ["parameters"] = m.Parameters,
            ["bytes"] = m.Bytes,
            ["revision"] = m.Revision,
        };
        if (m.Geometry is { } g)
        {
            o["geometry"] = new JsonObject
            {
                ["hidden_size"] = g.HiddenSize,
                ["heads"] = g.Heads,
                ["kv_heads"] = g.KvHeads,
                ["head_dim"] = g.HeadDim,
                ["intermediate_size"] = g.IntermediateSize,
                ["vocab_size"] = g.VocabSize,
                ["experts"] = g.Experts,
            };
        }

        return o;
    }
}
