namespace WeightPrint.Tests.Support;

/// <summary>
/// Tests that measure the process's resident set: they run alone, since tests running in parallel in the same
/// process would change the number they measure.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessMemoryTests
{
    public const string Name = "process memory";
}
