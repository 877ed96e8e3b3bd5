using WeightPrint.Signals;

namespace WeightPrint.Tests.Support;

/// <summary>An <see cref="IWorkProgress"/> that records every step and the running count after each report, with
/// the semantics the CLI draws: beginning the step in progress again before any unit was done only sets its size.</summary>
internal sealed class RecordingProgress : IWorkProgress
{
    public sealed class Step(string name, long total, string? unit)
    {
        public string Name { get; } = name;

        public long Total { get; set; } = total;

        public string? Unit { get; set; } = unit;

        /// <summary>The running count after each report, in the order the reports arrived.</summary>
        public List<long> Counts { get; } = [];

        public long Done => Counts.Count == 0 ? 0 : Counts[^1];
    }

    private readonly List<Step> _steps = [];

    public IReadOnlyList<Step> Steps
    {
        get
        {
            lock (_steps) return [.. _steps];
        }
    }

    public void Begin(string step, long total, string? unit = null)
    {
        lock (_steps)
        {
            if (_steps.Count > 0 && _steps[^1].Name == step && _steps[^1].Counts.Count == 0)
            {
                _steps[^1].Total = total;
                _steps[^1].Unit = unit;
                return;
            }

            _steps.Add(new Step(step, total, unit));
        }
    }

    public void Advance(long units)
    {
        lock (_steps)
        {
            if (_steps.Count == 0) throw new InvalidOperationException("progress reported before any step began");
            var s = _steps[^1];
            s.Counts.Add(s.Done + units);
        }
    }
}
