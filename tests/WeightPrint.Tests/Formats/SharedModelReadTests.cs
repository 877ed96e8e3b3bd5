using WeightPrint.Formats;
using WeightPrint.Tests.Support;
using WeightPrint.IO;

namespace WeightPrint.Tests.Formats;

public class SharedModelReadTests
{
    [SkippableFact]
    public void Truncated_minilm_fails_with_a_clear_error_naming_the_file()
    {
        string path = SharedModels.Require("corrupt-truncated-minilm");
        var e = Assert.Throws<InvalidModelFileException>(() => CheckpointLoader.Open(path));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("truncated", e.Message);
        var r = CliRunner.Run("inspect", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [SkippableFact]
    public void Stories260K_llama2c_and_hf_f32_hold_the_same_values_after_rope_unpermutation()
    {
        using var l2c = CheckpointLoader.Open(SharedModels.Require("l2c-stories260K/stories260K.bin"));
        using var hf = CheckpointLoader.Open(SharedModels.Require("derived-stories260K-hf-f32"));
        var vl = WeightPrint.Model.ModelViewBuilder.Build(l2c);
        var vh = WeightPrint.Model.ModelViewBuilder.Build(hf);
        Assert.Equal(vh.Layers.Count, vl.Layers.Count);
        foreach (var role in new[] { WeightPrint.Model.TensorRole.AttnQ, WeightPrint.Model.TensorRole.AttnK, WeightPrint.Model.TensorRole.AttnV, WeightPrint.Model.TensorRole.MlpDown })
        {
            for (int i = 0; i < vh.Layers.Count; i++)
                Assert.Equal(vh.Layers[i].Get(role)!.ReadAll(), vl.Layers[i].Get(role)!.ReadAll());
        }
    }
}
