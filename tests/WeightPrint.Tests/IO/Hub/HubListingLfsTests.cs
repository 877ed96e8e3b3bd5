using System.Text;
using WeightPrint.IO;
using WeightPrint.IO.Hub;

namespace WeightPrint.Tests.Hub;

/// <summary>The listing's <c>lfs</c> object: the SHA-256 of an LFS file is read under the untrusted-JSON rules.</summary>
public class HubListingLfsTests
{
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";
    private static readonly string Hash = new string('a', 63) + "B";

    private static HubListing Parse(string sibling)
        => HubListing.Parse("hf:acme/x", Encoding.UTF8.GetBytes($$"""{"sha": "{{Sha}}", "siblings": [{{sibling}}]}"""));

    [Theory]
    [InlineData("sha256")]
    [InlineData("oid")]
    public void The_lfs_hash_is_read_lower_case_under_either_name(string key)
    {
        var listing = Parse("""{"rfilename": "model.safetensors", "size": 10, "lfs": {""" + $"\"{key}\": \"{Hash}\"" + """, "size": 10, "pointerSize": 134}}""");
        Assert.Equal(Hash.ToLowerInvariant(), listing.Files[0].Sha256);
    }

    [Fact]
    public void A_file_without_lfs_has_no_hash_and_the_cache_copy_keeps_the_hash()
    {
        var listing = Parse("""{"rfilename": "config.json", "size": 3}, {"rfilename": "m.safetensors", "size": 10, "lfs": {"sha256": """ + $"\"{Hash}\"" + "}}");
        Assert.Null(listing.Files[0].Sha256);
        var copy = HubListing.Parse("cache", listing.ToJson());
        Assert.Equal(listing.Files, copy.Files);
    }

    [Theory]
    [InlineData("""{"rfilename": "m.safetensors", "size": 10, "lfs": {"sha256": "abc"}}""", "lfs.sha256 'abc' that is not 64 hex digits")]
    [InlineData("""{"rfilename": "m.safetensors", "size": 10, "lfs": {"sha256": 5}}""", "lfs.sha256 '5' that is not 64 hex digits")]
    [InlineData("""{"rfilename": "m.safetensors", "size": 10, "lfs": {"sha256": "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"}}""", "not 64 hex digits")]
    [InlineData("""{"rfilename": "m.safetensors", "size": 10, "lfs": "yes"}""", "lfs field that is not an object")]
    [InlineData("""{"rfilename": "m.safetensors", "size": 10, "lfs": {"size": 11}}""", "lfs.size 11 that is not its size 10")]
    public void A_bad_lfs_object_refuses_the_listing_with_one_line(string sibling, string expected)
    {
        var e = Assert.Throws<InvalidModelFileException>(() => Parse(sibling));
        Assert.Contains(expected, e.Message);
        Assert.Contains("hf:acme/x", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
