using System.Text.Json.Nodes;
using WeightPrint.Comparison;
using WeightPrint.Signals;

namespace WeightPrint.Tests.Comparison;

/// <summary>One NaN/Infinity policy for every JSON document: non-finite numbers are written as null.</summary>
public class JsonTextTests
{
    [Fact]
    public void Non_finite_numbers_anywhere_are_written_as_null()
    {
        var node = new JsonObject
        {
            ["a"] = double.NaN,
            ["b"] = new JsonArray(1.5, double.PositiveInfinity, float.NegativeInfinity),
            ["c"] = new JsonObject { ["deep"] = new JsonArray(new JsonObject { ["x"] = double.NaN, ["y"] = "text", ["z"] = 3 }) },
        };
        var back = JsonNode.Parse(JsonText.Serialize(node))!;
        Assert.Null(back["a"]);
        Assert.Equal(1.5, (double)back["b"]![0]!);
        Assert.Null(back["b"]![1]);
        Assert.Null(back["b"]![2]);
        Assert.Null(back["c"]!["deep"]![0]!["x"]);
        Assert.Equal("text", (string)back["c"]!["deep"]![0]!["y"]!);
        Assert.Equal(3, (int)back["c"]!["deep"]![0]!["z"]!);
    }

    [Fact]
    public void A_method_with_NaN_in_its_raw_output_serialises()
    {
        var method = new MethodResult
        {
            Id = "layers",
            NullDescription = "none",
            Score = double.NaN,
            Details = new WeightPrint.Tests.Reports.HtmlReportTests.FakeDetails { BackgroundScores = [double.NaN, double.NaN] },
            LayerMatrix = [[double.NaN]],
        };
        var result = new ComparisonResult([], null, [method], new WeightPrint.Verdict.Verdict("inconclusive", "test"), 1);
        var json = JsonNode.Parse(ComparisonJson.Serialize(result))!;
        Assert.Null(json["methods"]![0]!["raw"]!["background_scores"]![0]);
        Assert.Null(json["methods"]![0]!["score"]);
        Assert.Null(JsonNode.Parse(ComparisonJson.SerializeMany([result]))!["comparisons"]![0]!["methods"]![0]!["raw"]!["background_scores"]![1]);
    }
}
