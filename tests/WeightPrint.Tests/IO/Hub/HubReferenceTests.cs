using WeightPrint.Formats;
using WeightPrint.IO.Hub;
using WeightPrint.IO;

namespace WeightPrint.Tests.Hub;

public class HubReferenceTests
{
    [Theory]
    [InlineData("hf:org/name", "org/name", "main", false)]
    [InlineData("hf:org/name@dev", "org/name", "dev", true)]
    [InlineData("hf://meta-llama/Llama-3.1-8B@v1.0", "meta-llama/Llama-3.1-8B", "v1.0", true)]
    [InlineData("hf:gpt2", "gpt2", "main", false)]
    [InlineData("hf:org/name@refs/pr/12", "org/name", "refs/pr/12", true)]
    [InlineData("hf:Org/Name_1.5@0123456789ABCDEF0123456789ABCDEF01234567", "Org/Name_1.5", "0123456789abcdef0123456789abcdef01234567", true)]
    public void Valid_references_parse(string text, string repo, string revision, bool given)
    {
        var r = HubReference.Parse(text);
        Assert.Equal(repo, r.Repo);
        Assert.Equal(revision, r.Revision);
        Assert.Equal(given, r.RevisionGiven);
        Assert.Equal("models--" + repo.Replace("/", "--", StringComparison.Ordinal), r.CacheFolderName);
        Assert.True(HubReference.IsHubReference(text));
    }

    [Theory]
    [InlineData("hf:")]
    [InlineData("hf:org/")]
    [InlineData("hf:/name")]
    [InlineData("hf:org/name/extra")]
    [InlineData("hf:org/na me")]
    [InlineData("hf:org/name@")]
    [InlineData("hf:org/name@../../etc")]
    [InlineData("hf:org/name@a b")]
    [InlineData("hf:org/name@x?y")]
    [InlineData("hf:org/x--y")]
    [InlineData("hf:org/.hidden")]
    [InlineData("hf:org/..")]
    public void Invalid_references_fail_clearly(string text)
    {
        var e = Assert.Throws<InvalidModelFileException>(() => HubReference.Parse(text));
        Assert.Contains("not a Hub model reference", e.Message);
        Assert.StartsWith(text + ":", e.Message);
    }

    [Fact]
    public void Local_paths_are_not_hub_references()
    {
        Assert.False(HubReference.IsHubReference("/models/hf:x"));
        Assert.False(HubReference.IsHubReference("model.safetensors"));
        Assert.False(HubReference.IsHubReference("HF:org/name"));
    }
}
