using System.Globalization;
using System.Runtime.InteropServices;
using WeightPrint.TestSupport;

namespace WeightPrint.Benchmarks;

/// <summary>
/// <c>serve-hub --port-file FILE [--log FILE] [--no-cdn] ORG/NAME=DIR [ORG/NAME=DIR ...]</c>: serves local folders
/// as Hugging Face Hub repositories on 127.0.0.1 through the tests' fake Hub (<see cref="FakeHub"/>, in
/// WeightPrint.TestSupport), for measuring what the Hub client fetches (bench/hub). Never shipped.
/// <para>
/// Each folder is one commit (<c>main</c> or its 40-hex id, hashed from the repository id and the file names and
/// sizes); files are streamed from disk in 1 MiB chunks, never loaded whole. Weight files (.safetensors, .bin,
/// .gguf, .pt, .pth, or anything over 10 MB) are redirected (302) to the CDN listener unless <c>--no-cdn</c>.
/// HTTP/1.1 keep-alive; each connection is served concurrently.
/// </para>
/// <para>
/// The origin's port is written to the port file once both listeners are up. Runs until SIGTERM or SIGINT, then
/// prints to stdout one line of totals (requests and response body bytes per listener), the exact bytes the
/// client was sent. <c>--log FILE</c> writes one line per request.
/// </para>
/// </summary>
internal static class LoopbackHub
{
    /// <summary>Files served through the CDN listener regardless of name when larger than this.</summary>
    public const long LfsThresholdBytes = 10L << 20;

    public static int Run(string[] args)
    {
        string? portFile = null, logFile = null;
        bool cdn = true;
        var specs = new List<(string Id, string Dir)>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--port-file" when i + 1 < args.Length:
                    portFile = args[++i];
                    break;
                case "--log" when i + 1 < args.Length:
                    logFile = args[++i];
                    break;
                case "--no-cdn":
                    cdn = false;
                    break;
                default:
                    int eq = args[i].IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0 || args[i].StartsWith('-')) return Usage($"unexpected argument '{args[i]}'");
                    string id = args[i][..eq], dir = args[i][(eq + 1)..];
                    var parts = id.Split('/');
                    if (parts.Length != 2 || parts.Any(p => p.Length == 0)) return Usage($"repository id '{id}' is not ORG/NAME");
                    if (!Directory.Exists(dir)) return Usage($"no such folder: {dir}");
                    if (specs.Any(s => s.Id == id)) return Usage($"repository {id} given twice");
                    specs.Add((id, dir));
                    break;
            }
        }

        if (portFile == null || specs.Count == 0) return Usage("--port-file and at least one ORG/NAME=DIR are required");

        using var log = logFile != null ? new RequestLog(logFile) : null;
        using var hub = new FakeHub(cdn, log, keepRequests: false) { LfsThresholdBytes = LfsThresholdBytes };
        foreach (var (id, dir) in specs) hub.AddFolder(id, dir);
        using var stop = new ManualResetEventSlim();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            stop.Set();
        });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c =>
        {
            c.Cancel = true;
            stop.Set();
        });

        string tmp = portFile + ".tmp";
        File.WriteAllText(tmp, hub.Origin.Port.ToString(CultureInfo.InvariantCulture) + "\n");
        File.Move(tmp, portFile, overwrite: true);
        foreach (var r in hub.Repos)
        {
            var files = r.Commits[r.Refs["main"]];
            Console.Error.WriteLine($"serve-hub: {r.Id} @ {r.Refs["main"]}: {files.Count} files, {files.Values.Sum(f => f.Size)} bytes");
        }

        Console.Error.WriteLine($"serve-hub: listening on {hub.Endpoint}" + (cdn ? $" (CDN {hub.Cdn.BaseUri})" : ""));

        stop.Wait();
        hub.Stop();
        Console.Out.WriteLine(hub.Totals());
        Console.Out.Flush();
        return 0;
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine("serve-hub: " + problem);
        Console.Error.WriteLine("usage: serve-hub --port-file FILE [--log FILE] [--no-cdn] ORG/NAME=DIR [ORG/NAME=DIR ...]");
        return 2;
    }
}
