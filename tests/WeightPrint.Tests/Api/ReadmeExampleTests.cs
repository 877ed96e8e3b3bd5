using WeightPrint.Tests.Support;
using WeightPrint.Comparison;

namespace WeightPrint.Tests.Api;

/// <summary>The README's library example is this test's body, checked line for line, then compiled and run here.</summary>
public sealed class ReadmeExampleTests
{
    private const string Begin = "// README example begins";
    private const string End = "// README example ends";

    [Fact]
    public async Task The_readme_example_compiles_runs_and_says_derived_for_a_converted_copy()
    {
        string samples = Path.Combine(SharedModels.RepoRoot, "samples");
        var output = new StringWriter();
        // README example begins
        using var a = await Lineage.OpenAsync(Path.Combine(samples, "stories260K-llama2c", "stories260K.bin"));
        using var b = await Lineage.OpenAsync(Path.Combine(samples, "stories260K-hf-bf16"));
        ComparisonResult result = await Lineage.CompareAsync(a, b, new CompareOptions { Methods = ["pdf", "pcs"], Seed = 7 });
        output.WriteLine($"{result.Verdict.Label}: {result.Verdict.Reason}");
        foreach (var method in result.Methods)
            output.WriteLine($"{method.Id,-6} score {method.Score:F3}  p = {method.PValue?.ToString("g3") ?? "none"}");
        // README example ends

        Assert.Equal("derived", result.Verdict.Label);
        Assert.StartsWith("derived: ", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(["pdf", "pcs"], result.Methods.Select(m => m.Id));
    }

    [Fact]
    public void The_readme_shows_exactly_the_tested_example()
    {
        string test = File.ReadAllText(Path.Combine(SharedModels.RepoRoot, "tests", "WeightPrint.Tests", "Api", "ReadmeExampleTests.cs"));
        int from = test.IndexOf(Begin + "\n", StringComparison.Ordinal) + Begin.Length; // the comment, not the constant
        int to = test.IndexOf(End + "\n", from, StringComparison.Ordinal);
        var lines = test[from..to].Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("//", StringComparison.Ordinal)).ToList();
        string readme = File.ReadAllText(Path.Combine(SharedModels.RepoRoot, "README.md"));
        var readmeLines = readme.Split('\n').Select(l => l.Trim()).ToList();
        int start = readmeLines.IndexOf(lines[0]);
        Assert.True(start >= 0, "the README lacks the example's first line: " + lines[0]);
        Assert.Equal(lines, readmeLines.Skip(start).Take(lines.Count));
    }

    [Fact]
    public async Task A_model_opens_from_a_seekable_stream_and_from_a_pipe()
    {
        string file = Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-llama2c", "stories260K.bin");
        using var fromPath = await Lineage.OpenAsync(file);
        await using var seekable = File.OpenRead(file);
        using var fromStream = await Lineage.OpenAsync(seekable, "stories260K.bin");
        await using var pipe = new NonSeekableStream(File.OpenRead(file));
        using var fromPipe = await Lineage.OpenAsync(pipe, "piped stories260K.bin");
        foreach (var other in new[] { fromStream, fromPipe })
        {
            var result = await Lineage.CompareAsync(fromPath, other, new CompareOptions { Methods = ["pdf"] });
            Assert.Equal(1.0, result.Methods[0].Score, 9);
            Assert.True(result.Identity!.AllIdentical);
        }
    }

    [Fact]
    public async Task Bad_input_and_cancellation_surface_as_typed_exceptions()
    {
        await using var junk = new MemoryStream("not a model at all"u8.ToArray());
        var e = await Assert.ThrowsAsync<WeightPrint.IO.InvalidModelFileException>(() => Lineage.OpenAsync(junk, "junk.bin"));
        Assert.StartsWith("junk.bin: ", e.Message, StringComparison.Ordinal);

        string file = Path.Combine(SharedModels.RepoRoot, "samples", "stories260K-llama2c", "stories260K.bin");
        using var a = await Lineage.OpenAsync(file);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Lineage.CompareAsync(a, a, null, cancelled.Token));
    }

    private sealed class NonSeekableStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
