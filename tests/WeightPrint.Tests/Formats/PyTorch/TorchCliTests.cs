using System.Text.Json;
using WeightPrint.Formats;
using WeightPrint.Tests.Support;
using WeightPrint.Numerics;

namespace WeightPrint.Tests.Formats.PyTorch;

public class TorchCliTests
{
    private static string WriteSample(TempDir dir)
    {
        var w = new TorchZipWriter().AddStorage("0", TensorDType.BF16, TorchZipWriter.Encode(TensorDType.BF16, [1, 2, 3, 4, 5, 6]));
        var sd = new PyDict { Ordered = true };
        sd.Add("model.embed_tokens.weight", new TorchTensor("0", 0, [2, 3]));
        string path = dir.File("model.pt");
        w.Save(path, sd);
        return path;
    }

    [Fact]
    public void Inspect_reads_a_torch_archive()
    {
        using var dir = new TempDir();
        string path = WriteSample(dir);
        var r = CliRunner.Run("inspect", "--json", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("torch", doc.RootElement.GetProperty("format").GetString());
        var t = doc.RootElement.GetProperty("tensors")[0];
        Assert.Equal("model.embed_tokens.weight", t.GetProperty("name").GetString());
        Assert.Equal("BF16", t.GetProperty("dtype").GetString());

        r = CliRunner.Run("inspect", path);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("model.embed_tokens.weight", r.Stdout);
    }

    [SkippableFact]
    public void Inspect_reads_the_real_llama2c_training_checkpoint()
    {
        var r = CliRunner.Run("inspect", SharedModels.Require("l2c-llama2xs-saltyduckegg/ckpt.pt"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("model.tok_embeddings.weight", r.Stdout);
    }

    [Fact]
    public void Inspect_refuses_a_malicious_pickle_with_one_line_and_exit_code_2()
    {
        using var dir = new TempDir();
        string marker = dir.File("pwned");
        var p = new PickleWriter();
        p.Proto(2).Global("os", "system").Str("touch " + marker).Tuple(1).Reduce().Stop();
        var w = new TorchZipWriter().AddStorage("0", TensorDType.F32, new byte[4]);
        string path = dir.File("pytorch_model.bin");
        File.WriteAllBytes(path, w.BuildWithPickle(p.ToArray(), out _));

        var r = CliRunner.Run("inspect", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("pickle global os.system is not allowed (pickles are data and are never executed)", r.Stderr);
        Assert.Contains(path, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.False(File.Exists(marker));

        r = CliRunner.Run("inspect", dir.Path); // the folder form finds pytorch_model.bin
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("os.system", r.Stderr);
    }
}
