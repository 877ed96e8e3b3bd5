using System.Globalization;
using System.Text.Json.Nodes;
using WeightPrint.Model;

namespace WeightPrint.Signals.Toolbox;

/// <summary>
/// How two models whose residual widths differ are compared channel by channel: a common space of
/// <see cref="Dimension"/> = the narrower width, read from the narrower model as it is stored and from the wider model
/// through a channel selection (<see cref="ForA"/>, <see cref="ForB"/>, each a <see cref="ResidualAlignment"/> the
/// methods read tensors through).
/// <para>
/// The selection comes from the shared-token embeddings (<see cref="ResidualAlignment.EstimateSelection"/>): a
/// hidden-dimension-pruned derivative keeps some of its parent's residual channels, possibly reordered, sign-flipped or
/// rescaled, and its embedding columns are those channels' columns. It is trusted at the fit of an equal-width signed
/// permutation (<see cref="ResidualAlignment.AcceptPermutationFit"/>: the same kind of discrete map), and the methods'
/// nulls (B's residual channels permuted, B's neuron order) are then applied after it, as for equal widths.
/// When the embeddings show no selection, the methods compare a fixed correspondence chosen before looking at the
/// weights — the narrower model's channels with the wider model's first ones — so their nulls stay exact for
/// independently initialised models (any fixed correspondence is exchangeable with every other under that null), and
/// their p-values count for "independent"; a derivative that kept a subset of the wider model's channels would have shown
/// the selection in its embeddings. Between the two — embedding columns that match well enough for the assignment to be
/// tried (<see cref="ResidualAlignment.MinColumnMatch"/>) but a selection below the trusted fit — neither is tested
/// (<see cref="Problem"/>): a heavily retrained derivative looks like that, and a fixed correspondence would pass it.
/// </para>
/// </summary>
internal sealed class CrossWidthFrame
{
    /// <summary>Fit (mean shared-token embedding cosine over the selected channels) at which a channel selection is trusted.</summary>
    public const double AcceptFit = ResidualAlignment.AcceptPermutationFit;

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ModelView, Dictionary<(ModelView, int), CrossWidthFrame>> CacheByA = [];

    private CrossWidthFrame(int widthA, int widthB, ResidualAlignment forA, ResidualAlignment forB)
    {
        WidthA = widthA;
        WidthB = widthB;
        ForA = forA;
        ForB = forB;
    }

    /// <summary>Residual width of model A.</summary>
    public int WidthA { get; }

    /// <summary>Residual width of model B.</summary>
    public int WidthB { get; }

    /// <summary>Width of the common space (the narrower model's channels).</summary>
    public int Dimension => Math.Min(WidthA, WidthB);

    /// <summary>How A's residual readers and writers are read into the common space.</summary>
    public ResidualAlignment ForA { get; }

    /// <summary>How B's residual readers and writers are read into the common space.</summary>
    public ResidualAlignment ForB { get; }

    /// <summary>True when the channel selection comes from the embeddings and reached <see cref="AcceptFit"/>.</summary>
    public bool Accepted { get; private init; }

    /// <summary>The selection's embedding fit (NaN when none was estimated).</summary>
    public double Fit { get; private init; } = double.NaN;

    /// <summary>The estimated selection (also when not accepted), or null.</summary>
    public ChannelSelection? Selection { get; private init; }

    /// <summary>The transform, in words, when accepted (null otherwise): "channel selection (…)".</summary>
    public string? Transform => Accepted ? ForA.IsIdentity ? ForB.Transform : ForA.Transform : null;

    /// <summary>Why no channel selection is used (when not accepted), or how it was found.</summary>
    public string Note { get; private init; } = "";

    /// <summary>Set when the methods must not run across these widths (the reason they give): the embeddings suggest a
    /// channel selection too weak to trust.</summary>
    public string? Problem { get; private init; }

    /// <summary>What the methods could not test across the widths, stated with every result (a caveat, not a failure).</summary>
    public string Caveat { get; private init; } = "";

    /// <summary>The residual width of a model: its configured hidden size, else its embedding's columns, else its first block's Q columns.</summary>
    public static int Width(ModelView v)
    {
        if (v.Geometry.HiddenSize > 0) return v.Geometry.HiddenSize;
        if ((v.Get(ModelRole.Embedding) ?? v.Get(ModelRole.LmHead)) is { } e) return checked((int)e.Columns);
        var blocks = ModelParts.Blocks(v);
        return blocks.Count > 0 && blocks[0].Get(TensorRole.AttnQ) is { } q ? checked((int)q.Columns) : 0;
    }

    /// <summary>The frame of a pair whose residual widths differ, computed once per pair and seed; null when the widths
    /// are equal or unknown (the equal-width path applies).</summary>
    public static CrossWidthFrame? For(ModelView a, ModelView b, int seed, int threads)
    {
        int wa = Width(a), wb = Width(b);
        if (wa <= 0 || wb <= 0 || wa == wb) return null;
        var byB = CacheByA.GetOrCreateValue(a);
        lock (byB)
        {
            if (byB.TryGetValue((b, seed), out var known)) return known;
        }

        var fresh = Estimate(a, b, wa, wb, seed, threads);
        lock (byB)
        {
            return byB.TryAdd((b, seed), fresh) ? fresh : byB[(b, seed)];
        }
    }

    private static CrossWidthFrame Estimate(ModelView a, ModelView b, int wa, int wb, int seed, int threads)
    {
        bool aNarrow = wa < wb;
        var (narrow, wide) = aNarrow ? (a, b) : (b, a);
        int dn = Math.Min(wa, wb), dw = Math.Max(wa, wb);
        string n = aNarrow ? "A" : "B", w = aNarrow ? "B" : "A";
        string widths = string.Create(CultureInfo.InvariantCulture, $"residual widths differ (A {wa}, B {wb})");
        var sampled = new[] { a, b }.Any(v => SampleLayout.IsSampled(v.Get(ModelRole.Embedding) ?? v.Get(ModelRole.LmHead)));
        var identity = ResidualAlignment.Identity(dn, "the narrower model's channels as stored");
        if (sampled)
        {
            string stored = $"{widths}, and a fingerprint's sample holds too few embedding rows and columns to match residual channels across widths";
            return new CrossWidthFrame(wa, wb, identity, identity) { Note = stored, Problem = stored };
        }

        var selection = ResidualAlignment.EstimateSelection(narrow, wide, seed, threads, out string problem);
        if (selection != null && selection.Fit >= AcceptFit)
        {
            string shape = string.Join(", ", new[] { selection.Moved ? "reordered" : null, selection.Signed ? "signed" : null, selection.Scaled ? "rescaled" : null }.OfType<string>());
            string transform = string.Create(CultureInfo.InvariantCulture,
                $"channel selection ({n}'s {dn} channels are {dn} of {w}'s {dw}{(shape.Length > 0 ? ", " + shape : "")})");
            string note = string.Create(CultureInfo.InvariantCulture,
                $"{n}'s {dn} residual channels are matched one-to-one to {dn} of {w}'s {dw} by the embeddings of {selection.Tokens} shared tokens (mean cosine {selection.Fit:F3} over the selected channels)");
            var map = ResidualAlignment.Selection(dn, selection.Sources, selection.Signs, accepted: true, transform, note);
            return new CrossWidthFrame(wa, wb, aNarrow ? identity : map, aNarrow ? map : identity)
            {
                Accepted = true, Fit = selection.Fit, Selection = selection, Note = note,
                Caveat = string.Create(CultureInfo.InvariantCulture,
                    $"{widths}: tested on {n}'s {dn} channels matched to {w}'s by the shared-token embeddings (mean cosine {selection.Fit:F3}); {w}'s other {dw - dn} channels have no partner and are not tested"),
            };
        }

        if (selection != null)
        {
            // The embedding columns match well enough for the assignment to be tried (mean best |cosine| ≥ MinColumnMatch) but
            // the selection is not trusted: a heavily retrained derivative would look like this, so a fixed correspondence
            // (which would pass) must not stand in for it.
            string grey = string.Create(CultureInfo.InvariantCulture,
                $"{widths}: the shared-token embeddings suggest that {n}'s channels are a selection of {w}'s (columns match at {selection.ColumnMatch:F3} on average) but the best selection reaches a mean embedding cosine of only {selection.Fit:F3}, below {AcceptFit}; neither that selection nor a fixed correspondence can be tested without bias");
            return new CrossWidthFrame(wa, wb, identity, identity) { Accepted = false, Fit = selection.Fit, Selection = selection, Note = grey, Problem = grey };
        }

        string why = problem;
        var prefix = ResidualAlignment.Selection(dn, Enumerable.Range(0, dn).ToArray(), Enumerable.Repeat(1f, dn).ToArray(), accepted: false, "none",
            $"no channel selection ({why}); {w}'s first {dn} channels are compared with {n}'s");
        return new CrossWidthFrame(wa, wb, aNarrow ? identity : prefix, aNarrow ? prefix : identity)
        {
            Accepted = false, Note = why,
            Caveat = string.Create(CultureInfo.InvariantCulture,
                $"{widths} and the shared-token embeddings show no channel selection ({why}); tested on a correspondence fixed before looking at the weights ({n}'s {dn} channels with {w}'s first {dn}), which keeps the null exact — a model that kept {dn} of {w}'s channels would have shown the selection in its embeddings"),
        };
    }

    /// <summary>The frame as the typed alignment record of a method's details (kind "cross-width").</summary>
    public AlignmentDetails ToDetails() => new("cross-width", Transform ?? "none", Accepted, double.NaN, Fit, Selection?.Tokens ?? 0, Selection?.TokenMatch ?? "", Note,
        WidthA, WidthB, Selection is { } s && double.IsFinite(s.ColumnMatch) ? s.ColumnMatch : null);
}
