using ScottPlot;
using SkiaSharp;

namespace WeightPrint.Reports.Plots;

/// <summary>
/// Makes ScottPlot draw every text with the DejaVu Sans files embedded in this assembly, whatever font name is
/// asked for: plots render identically on machines with no fonts installed (SkiaSharp's NoDependencies native
/// library has no fontconfig, so system font look-up would find nothing and text would vanish).
/// </summary>
internal static class ReportFonts
{
    public const string Family = "DejaVu Sans";

    private static readonly Lock Gate = new();
    private static bool _installed;

    /// <summary>Registers the embedded fonts with ScottPlot (idempotent, thread-safe).</summary>
    public static void Install()
    {
        lock (Gate)
        {
            if (_installed) return;
            var resolver = new EmbeddedFontResolver(Load("DejaVuSans.ttf"), Load("DejaVuSans-Bold.ttf"));
            Fonts.FontResolvers.Clear();
            Fonts.FontResolvers.Add(resolver);
            Fonts.Default = Family;
            _installed = true;
        }
    }

    private static byte[] Load(string name)
    {
        using var stream = typeof(ReportFonts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded font {name} is missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private sealed class EmbeddedFontResolver(byte[] regular, byte[] bold) : IFontResolver
    {
        public SKTypeface CreateTypeface(string fontName, bool bold1, bool italic) => Create(bold1);

        public SKTypeface CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing)
            => Create(weight >= FontWeight.SemiBold);

        private SKTypeface Create(bool isBold)
        {
            using var data = SKData.CreateCopy(isBold ? bold : regular);
            return SKTypeface.FromData(data) ?? throw new InvalidOperationException("the embedded font could not be loaded");
        }
    }
}
