using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace WeightPrint.Cli.Progress;

/// <summary>
/// Progress bars on stderr for long work ("reading A (pdf)  [#####-----]  52%  12.4 / 23.9 MB"). Shown only when
/// stderr is a terminal (or <c>--progress</c> forces it) and never with <c>--quiet</c>; coloured only on a terminal
/// without NO_COLOR. On a terminal one line is redrawn in place and erased when the task ends; when forced onto a
/// file or pipe each task ends with a newline so logs stay readable. Thread-safe: methods report from worker threads.
/// </summary>
internal sealed class ProgressReporter
{
    /// <summary>Minimum time between redraws.</summary>
    public static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Characters of the bar itself.</summary>
    public const int BarWidth = 24;

    /// <summary>Longest label shown (longer ones are shortened with an ellipsis).</summary>
    public const int MaxLabel = 40;

    private readonly TextWriter _err;
    private readonly Lock _gate = new();
    private int _lastWidth;
    private ProgressTask? _active;

    public ProgressReporter(TextWriter stderr, bool enabled, bool terminal, bool color)
    {
        _err = stderr;
        Enabled = enabled;
        Terminal = terminal;
        Color = color;
    }

    /// <summary>A disabled reporter (tests, --quiet).</summary>
    public static ProgressReporter None { get; } = new(TextWriter.Null, false, false, false);

    public bool Enabled { get; }

    public bool Terminal { get; }

    public bool Color { get; }

    /// <summary>Text appended to every progress line (for example "fetched 1.2 GB of 28.9 GB" while Hub models are
    /// read); null or empty for none. Read on each redraw.</summary>
    public Func<string?>? Status { get; set; }

    /// <summary>Redraws the task in progress (if any), at most every <see cref="RedrawInterval"/>, so a changed
    /// <see cref="Status"/> shows even while the task's own count stands still.</summary>
    public void Refresh() => Volatile.Read(ref _active)?.Redraw();

    /// <summary>Decides from the streams and options: enabled on a terminal unless quiet; forced by --progress.</summary>
    public static ProgressReporter For(TextWriter stderr, bool quiet, bool force)
    {
        bool terminal = IsTerminal(stderr);
        bool color = terminal && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        return new ProgressReporter(stderr, !quiet && (force || terminal), terminal, color);
    }

    /// <summary>True when the writer is the process's stderr and it is not redirected.</summary>
    public static bool IsTerminal(TextWriter stderr) => ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>Starts a task of <paramref name="total"/> bytes (0 = unknown size), or of <paramref name="total"/>
    /// items named <paramref name="unit"/> ("pairs"). Dispose it when done.</summary>
    public ProgressTask Start(string label, long total, string? unit = null) => new(this, Shorten(label), Math.Max(0, total), unit);

    private static string Shorten(string label) => label.Length <= MaxLabel ? label : label[..(MaxLabel - 1)] + "…";

    internal void Draw(string label, long done, long total, string? unit, bool final)
    {
        if (!Enabled) return;
        lock (_gate)
        {
            string status = Status?.Invoke() is { Length: > 0 } st ? "  · " + st : "";
            int width = Format(label, done, total, unit).Length + status.Length;
            string line = Format(label, done, total, unit, Color) + status;
            var sb = new StringBuilder();
            sb.Append('\r').Append(line);
            if (_lastWidth > width) sb.Append(' ', _lastWidth - width).Append('\r').Append(line);
            _lastWidth = width;
            if (final)
            {
                if (Terminal) sb.Append('\r').Append(' ', _lastWidth).Append('\r');
                else sb.Append('\n');
                _lastWidth = 0;
            }

            _err.Write(sb.ToString());
            _err.Flush();
        }
    }

    /// <summary>The text of one progress line (no carriage return); the bar in cyan when <paramref name="colour"/>.</summary>
    public string Format(string label, long done, long total, string? unit = null, bool colour = false)
    {
        char full = Terminal ? '\u2588' : '#', empty = Terminal ? '\u2591' : '-';
        var sb = new StringBuilder();
        sb.Append(label.PadRight(Math.Min(MaxLabel, 28))).Append("  [");
        if (colour) sb.Append("\u001b[36m");
        double f = total > 0 ? Math.Clamp((double)done / total, 0, 1) : 0;
        int filled = (int)Math.Round(f * BarWidth);
        sb.Append(full, filled).Append(empty, BarWidth - filled);
        if (colour) sb.Append("\u001b[0m");
        sb.Append("] ");
        if (total > 0)
        {
            sb.Append((f * 100).ToString("0", CultureInfo.InvariantCulture).PadLeft(3)).Append("%  ");
            sb.Append(unit == null ? Bytes(Math.Min(done, total)) + " / " + Bytes(total) : $"{Math.Min(done, total)} / {total} {unit}");
        }
        else
        {
            sb.Append(unit == null ? Bytes(done) : $"{done} {unit}");
        }

        return sb.ToString();
    }

    /// <summary>A byte count for people: 812 B, 12.4 kB, 3.1 MB, 2.05 GB (decimal units).</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "kB", "MB", "GB", "TB"];
        double v = bytes;
        int u = 0;
        while (v >= 1000 && u < units.Length - 1)
        {
            v /= 1000;
            u++;
        }

        return u == 0 ? $"{bytes} B" : v.ToString(v < 10 ? "0.00" : v < 100 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + units[u];
    }

    /// <summary>One task's progress: receives "bytes so far" (possibly out of order from parallel workers; the bar
    /// shows the largest value seen) and redraws at most every <see cref="RedrawInterval"/>.</summary>
    public sealed class ProgressTask : IProgress<long>, IDisposable
    {
        private readonly ProgressReporter _owner;
        private readonly string _label;
        private long _total;
        private string? _unit;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _done;
        private long _lastDraw; // the constructor draws at time 0
        private int _disposed;

        internal ProgressTask(ProgressReporter owner, string label, long total, string? unit)
        {
            _owner = owner;
            _label = label;
            _total = total;
            _unit = unit;
            Volatile.Write(ref owner._active, this);
            owner.Draw(label, 0, total, unit, false);
        }

        public long Done => Interlocked.Read(ref _done);

        public void Report(long value)
        {
            long seen;
            do
            {
                seen = Interlocked.Read(ref _done);
                if (value <= seen) break;
            }
            while (Interlocked.CompareExchange(ref _done, value, seen) != seen);
            Redraw();
        }

        /// <summary>Sets the size of a task whose size was not known when it started, and redraws it.</summary>
        internal void Resize(long total, string? unit)
        {
            Volatile.Write(ref _unit, unit);
            Interlocked.Exchange(ref _total, Math.Max(0, total));
            if (Volatile.Read(ref _disposed) == 0) _owner.Draw(_label, Done, Interlocked.Read(ref _total), Volatile.Read(ref _unit), false);
        }

        /// <summary>Redraws with the current count unless the last redraw is more recent than <see cref="RedrawInterval"/>.</summary>
        internal void Redraw()
        {
            if (Volatile.Read(ref _disposed) != 0) return;
            long now = _clock.ElapsedMilliseconds;
            long last = Interlocked.Read(ref _lastDraw);
            if (now - last < RedrawInterval.TotalMilliseconds) return;
            if (Interlocked.CompareExchange(ref _lastDraw, now, last) != last) return;
            _owner.Draw(_label, Done, Interlocked.Read(ref _total), Volatile.Read(ref _unit), false);
        }

        /// <summary>Draws the task as finished and clears (terminal) or ends (log) its line.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            Interlocked.CompareExchange(ref _owner._active, null, this);
            long total = Interlocked.Read(ref _total);
            _owner.Draw(_label, total > 0 ? total : Done, total, Volatile.Read(ref _unit), true);
        }
    }
}
