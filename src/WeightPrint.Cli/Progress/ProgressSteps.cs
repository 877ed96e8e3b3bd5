using WeightPrint.Signals;

namespace WeightPrint.Cli.Progress;

/// <summary>
/// Draws the steps the core reports (<see cref="IWorkProgress"/>: a method reading a model, the identity check,
/// sampling a fingerprint) as progress bars, one per step, labelled "SUBJECT (STEP)": "comparing A × B (pcs)
/// [#####-----] 16 / 32 layer pairs". The subject says what the command is doing; one method context serves a whole
/// run while the subject changes per model or pair. Thread-safe: workers report from several threads, once per
/// tensor, layer or chunk (one interlocked add each).
/// </summary>
internal sealed class ProgressSteps(ProgressReporter progress) : IWorkProgress
{
    private readonly Lock _gate = new();
    private ProgressReporter.ProgressTask? _task;
    private string? _step;
    private string _subject = "";
    private long _done;

    /// <summary>Runs <paramref name="work"/> with its steps labelled by <paramref name="subject"/>, and ends the last
    /// step's bar when it returns or throws.</summary>
    public T Run<T>(string subject, Func<T> work)
    {
        Start(subject);
        try
        {
            return work();
        }
        finally
        {
            End();
        }
    }

    /// <summary>Ends the step in progress; the next steps are labelled by <paramref name="subject"/>.</summary>
    public void Start(string subject)
    {
        End();
        lock (_gate) _subject = subject;
    }

    public void Begin(string step, long total, string? unit = null)
    {
        lock (_gate)
        {
            if (_task != null && _step == step && Interlocked.Read(ref _done) == 0)
            {
                _task.Resize(total, unit);
                return;
            }

            _task?.Dispose();
            _step = step;
            Interlocked.Exchange(ref _done, 0);
            _task = progress.Start(Label(_subject, step), total, unit);
        }
    }

    public void Advance(long units)
    {
        long done = Interlocked.Add(ref _done, units);
        Volatile.Read(ref _task)?.Report(done);
    }

    /// <summary>Ends the bar of the step in progress, if any.</summary>
    public void End()
    {
        lock (_gate)
        {
            _task?.Dispose();
            _task = null;
            _step = null;
        }
    }

    /// <summary>"SUBJECT (STEP)" within <see cref="ProgressReporter.MaxLabel"/> characters: a long subject (a path)
    /// keeps its end, and the step is always whole.</summary>
    public static string Label(string subject, string step)
    {
        string suffix = subject.Length == 0 ? step : $" ({step})";
        int room = ProgressReporter.MaxLabel - suffix.Length;
        if (subject.Length > room) subject = room > 1 ? "…" + subject[^(room - 1)..] : "";
        return subject + suffix;
    }
}
