namespace WeightPrint.Signals;

/// <summary>
/// Where long work says how far it has got, for progress bars: a step begins (a method id, "identity",
/// "sampling") with the units it will take, then workers add units as they finish a tensor, a layer or a chunk.
/// Implementations are thread-safe and cheap: callers report once per tensor or chunk, never per element. The core
/// only reports; the CLI draws.
/// </summary>
internal interface IWorkProgress
{
    /// <summary>Starts step <paramref name="step"/> of <paramref name="total"/> units (0 when not known yet);
    /// <paramref name="unit"/> names the units ("layers", "MLPs"), null for bytes read. Beginning the step in
    /// progress again before any unit of it was done only sets its size.</summary>
    void Begin(string step, long total, string? unit = null);

    /// <summary>Adds <paramref name="units"/> done to the step in progress.</summary>
    void Advance(long units);
}
