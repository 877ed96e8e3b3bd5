using System.Net;
using System.Net.Sockets;
using WeightPrint.Formats;
using WeightPrint.IO.Http;
using WeightPrint.IO.Hub;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Hub;

/// <summary>A fake Hub plus temporary cache folders, and options with small timeouts so failures are fast.</summary>
internal sealed class HubTestEnv : IDisposable
{
    public FakeHub Hub { get; } = new();

    public TempDir Temp { get; } = new();

    public string HfCache => Temp.File("hf-hub");

    public string WpCache => Temp.File("wp-cache");

    public static HttpReadOptions FastHttp(int blockBytes = 64 << 10) => new()
    {
        BlockBytes = blockBytes,
        MaxAttempts = 6,
        RetryBudget = TimeSpan.FromSeconds(15),
        BaseBackoff = TimeSpan.FromMilliseconds(5),
        MaxBackoff = TimeSpan.FromMilliseconds(50),
        MaxRetryAfter = TimeSpan.FromSeconds(5),
        IdleTimeout = TimeSpan.FromSeconds(2),
        ConnectTimeout = TimeSpan.FromSeconds(2),
    };

    public HubOptions Options(string? token = null, bool offline = false, HttpReadOptions? http = null, bool diskCache = true) => new()
    {
        Endpoint = Hub.Endpoint,
        Token = token,
        Offline = offline,
        HuggingFaceCache = HfCache,
        CacheDirectory = diskCache ? WpCache : null,
        Http = http ?? FastHttp(),
    };

    /// <summary>A local copy of the files, for the reference run.</summary>
    public string Local(string name, IReadOnlyDictionary<string, byte[]> files) => HubTestModels.WriteFolder(Temp.File("local-" + name), files);

    public void Dispose()
    {
        Hub.Dispose();
        Temp.Dispose();
    }

    /// <summary>A loopback address where nothing listens (the port was bound and released).</summary>
    public static Uri DeadEndpoint()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }
}

internal static class HubAssert
{
    /// <summary>Same tensor names, dtypes, shapes and stored bytes (content hash), and equal floats for a few.</summary>
    public static void SameTensors(Checkpoint expected, Checkpoint actual, int floatChecks = 3)
    {
        Assert.Equal(expected.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), actual.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var e in expected.Tensors)
        {
            var a = actual.Find(e.Name)!;
            Assert.Equal(e.DType, a.DType);
            Assert.Equal(e.Shape, a.Shape);
            Assert.True(TensorReader.ContentHash(e) == TensorReader.ContentHash(a), $"{e.Name}: content differs");
        }

        foreach (var e in expected.Tensors.OrderByDescending(t => t.ElementCount).Take(floatChecks))
        {
            var a = actual.Find(e.Name)!;
            int n = (int)Math.Min(e.ElementCount, 5000);
            long first = e.ElementCount - n;
            var x = new float[n];
            var y = new float[n];
            TensorReader.ReadFloats(e, first, x);
            TensorReader.ReadFloats(a, first, y);
            Assert.Equal(x, y);
        }
    }
}
