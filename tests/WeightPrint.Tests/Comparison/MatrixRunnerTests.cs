using System.Text.Json.Nodes;
using WeightPrint.Comparison;
using WeightPrint.Model;
using WeightPrint.Signals;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Comparison;

public class MatrixRunnerTests
{
    private static readonly string[] Samples =
    [
        Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-llama2c", "stories260K.bin"),
        Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-hf-bf16"),
        Path.Combine(SharedModels.RepoRoot, "samples", "llama2xs-hf-f32"),
    ];

    [Fact]
    public void Each_model_signature_is_extracted_once_however_many_pairs_it_is_in()
    {
        var inputs = Samples.Select(p => OpenedInput.Open(p)).ToList();
        try
        {
            var counting = new CountingMethod();
            var result = MatrixRunner.Run(inputs, [counting], new MethodContext());
            Assert.Equal(3, result.Pairs.Count);
            Assert.Equal(3, counting.Extractions);
            Assert.Equal([(0, 1), (0, 2), (1, 2)], result.Pairs.Select(p => (p.A, p.B)));
        }
        finally
        {
            foreach (var i in inputs) i.Dispose();
        }
    }

    [Fact]
    public void Score_matrix_is_symmetric_with_an_empty_diagonal_and_matches_the_pairs()
    {
        var inputs = Samples.Select(p => OpenedInput.Open(p)).ToList();
        try
        {
            var result = MatrixRunner.Run(inputs, MethodRegistry.Select("pdf"), new MethodContext());
            var json = MatrixJson.ToJson(result);
            var scores = json["matrices"]!["pdf"]!["scores"]!.AsArray();
            for (int i = 0; i < 3; i++)
            {
                Assert.Null(scores[i]![i]);
                for (int j = 0; j < 3; j++)
                {
                    if (i != j) Assert.Equal((double)scores[i]![j]!, (double)scores[j]![i]!);
                }
            }

            foreach (var pair in json["pairs"]!.AsArray())
            {
                double s = (double)pair!["methods"]![0]!["score"]!;
                Assert.Equal(s, (double)scores[(int)pair["a"]!]![(int)pair["b"]!]!);
            }

            // The llama2.c file and its bf16 conversion are nearest: they are adjacent in the clustering order.
            var order = json["matrices"]!["pdf"]!["order"]!.AsArray().Select(o => (int)o!).ToList();
            Assert.Equal(1, Math.Abs(order.IndexOf(0) - order.IndexOf(1)));
            Assert.Equal("average", (string)json["matrices"]!["pdf"]!["linkage"]!);
        }
        finally
        {
            foreach (var i in inputs) i.Dispose();
        }
    }

    /// <summary>Counts signature extractions; the score is the difference of the models' parameter counts.</summary>
    private sealed class CountingMethod : SignalMethod
    {
        private int _extractions;

        public int Extractions => _extractions;

        public override string Id => "counting";

        public override string Description => "counts";

        public override string NullDescription => "none";

        public override bool HasSignature => true;

        public override JsonObject ExtractSignature(ModelView model, MethodContext context)
        {
            Interlocked.Increment(ref _extractions);
            return new JsonObject { ["n"] = model.Checkpoint.Tensors.Sum(t => t.ElementCount) };
        }

        public override MethodResult Compare(ComparisonInput a, ComparisonInput b, MethodContext context)
        {
            var sa = SignatureOf(a, context)!;
            var sb = SignatureOf(b, context)!;
            return new MethodResult { Id = Id, Score = (long)sa["n"]! - (long)sb["n"]!, NullDescription = NullDescription };
        }
    }
}
