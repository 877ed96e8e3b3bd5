using System.Reflection;
using System.Reflection.Emit;
using WeightPrint.Model;

namespace WeightPrint.Tests.Architecture;

/// <summary>
/// DESIGN.md's "arrows point one way", checked on the built assemblies: every type, field, signature and
/// method-body reference (read from the IL) of a WeightPrint namespace may point only to its own stage or to a
/// lower one; inside Signals, a method's namespace uses only Signals itself and the shared Toolbox.
/// </summary>
public sealed class LayeringTests
{
    /// <summary>The stages, lowest first. Stages of equal rank may not use each other.</summary>
    private static readonly (string Stage, int Rank)[] Stages =
    [
        ("WeightPrint.IO", 0),
        ("WeightPrint.Statistics", 0),
        ("WeightPrint.Numerics", 1),
        ("WeightPrint.Formats", 2),
        ("WeightPrint.Loading", 3),
        ("WeightPrint.Model", 4),
        ("WeightPrint.Signals", 5),
        ("WeightPrint.Verdict", 6),
        ("WeightPrint.Comparison", 7),
        ("WeightPrint", 8), // the library's front door (Lineage): the root namespace alone, not its children
        ("WeightPrint.Reports", 9),
        ("WeightPrint.Catalog", 9),
        ("WeightPrint.Cli", 10),
    ];

    /// <summary>Signals namespaces every method may use.</summary>
    private static readonly string[] SharedSignals = ["WeightPrint.Signals", "WeightPrint.Signals.Toolbox"];

    /// <summary>Known exceptions, each with the reason it is still here. The test below fails when one is no longer
    /// needed, so the list only shrinks.</summary>
    private static readonly (string From, string To, string Why)[] Exceptions =
    [
        ("WeightPrint.Signals.Layers", "WeightPrint.Signals.Cka", "layers re-runs cka itself when the pair's earlier results lack it"),
        ("WeightPrint.Signals.Layers", "WeightPrint.Signals.Pcs", "layers re-runs pcs itself when the pair's earlier results lack it"),
        ("WeightPrint.Signals.Layers", "WeightPrint.Signals.Spectral", "layers re-runs spectral itself when the pair's earlier results lack it"),
    ];

    private static readonly Assembly[] Assemblies =
        [typeof(ModelView).Assembly, typeof(WeightPrint.Reports.Html.HtmlReport).Assembly, typeof(WeightPrint.Catalog.CatalogStore).Assembly, typeof(WeightPrint.Cli.Program).Assembly];

    [Fact]
    public void Every_namespace_uses_only_its_own_stage_and_lower_ones()
    {
        var edges = NamespaceEdges();
        var violations = edges
            .Where(e => !Allowed(e.Key.From, e.Key.To) && !Exceptions.Any(x => x.From == e.Key.From && x.To == e.Key.To))
            .Select(e => $"{e.Key.From} -> {e.Key.To} (e.g. {string.Join(", ", e.Value.Take(3))})")
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToList();
        Assert.True(violations.Count == 0, "arrows that point up or sideways:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Every_listed_exception_is_still_needed()
    {
        var edges = NamespaceEdges();
        var stale = Exceptions.Where(x => !edges.ContainsKey((x.From, x.To))).Select(x => $"{x.From} -> {x.To}").ToList();
        Assert.True(stale.Count == 0, "remove these exceptions, the code no longer needs them: " + string.Join(", ", stale));
    }

    [Fact]
    public void Every_namespace_belongs_to_a_stage()
    {
        var unknown = Assemblies.SelectMany(SafeTypes).Select(t => t.Namespace).OfType<string>()
            .Where(n => n.StartsWith("WeightPrint", StringComparison.Ordinal) && StageOf(n) == null).Distinct().ToList();
        Assert.True(unknown.Count == 0, "namespaces outside the stage table: " + string.Join(", ", unknown));
    }

    [Fact]
    public void The_checker_sees_an_upward_reference()
    {
        // Guard against a checker that reads nothing: Signals -> Model through fields and IL must be found,
        // and an upward pair must be refused.
        var edges = NamespaceEdges();
        Assert.Contains(("WeightPrint.Signals.Pcs", "WeightPrint.Model"), edges.Keys);
        Assert.Contains(("WeightPrint.Comparison", "WeightPrint.Signals.Pcs"), edges.Keys);
        Assert.False(Allowed("WeightPrint.Formats", "WeightPrint.Model"));
        Assert.False(Allowed("WeightPrint.IO", "WeightPrint.Statistics"));
        Assert.False(Allowed("WeightPrint.Signals.Pcs", "WeightPrint.Signals.Cka"));
        Assert.True(Allowed("WeightPrint.Signals.Pcs", "WeightPrint.Signals.Toolbox"));
        Assert.False(Allowed("WeightPrint.Signals.Toolbox", "WeightPrint.Signals.Pcs"));
    }

    private static (string Stage, int Rank)? StageOf(string ns)
    {
        foreach (var s in Stages)
        {
            if (ns == s.Stage || (s.Stage != "WeightPrint" && ns.StartsWith(s.Stage + ".", StringComparison.Ordinal))) return s;
        }

        return null;
    }

    private static bool Allowed(string from, string to)
    {
        if (from == to) return true;
        var a = StageOf(from);
        var b = StageOf(to);
        if (a == null || b == null) return false;
        if (a.Value.Stage != b.Value.Stage) return b.Value.Rank < a.Value.Rank;
        if (a.Value.Stage != "WeightPrint.Signals") return true;

        // Inside Signals: the root (contracts) uses nothing else of Signals; the toolbox uses the root; a method uses
        // the root and the toolbox.
        if (from == "WeightPrint.Signals") return false;
        if (from == "WeightPrint.Signals.Toolbox") return to == "WeightPrint.Signals";
        return SharedSignals.Contains(to);
    }

    private static Dictionary<(string From, string To), SortedSet<string>> NamespaceEdges()
    {
        var edges = new Dictionary<(string, string), SortedSet<string>>();
        foreach (var type in Assemblies.SelectMany(SafeTypes))
        {
            if (type.Namespace is not { } from || !from.StartsWith("WeightPrint", StringComparison.Ordinal)) continue;
            foreach (var used in ReferencedTypes(type))
            {
                foreach (var t in Expand(used))
                {
                    if (t.Namespace is not { } to || to == from || !to.StartsWith("WeightPrint", StringComparison.Ordinal)) continue;
                    if (!edges.TryGetValue((from, to), out var examples)) edges[(from, to)] = examples = new(StringComparer.Ordinal);
                    examples.Add($"{Outer(type).Name} uses {Outer(t).Name}");
                }
            }
        }

        return edges;
    }

    private static Type Outer(Type t)
    {
        while (t.DeclaringType != null) t = t.DeclaringType;
        return t;
    }

    private static IEnumerable<Type> SafeTypes(Assembly a)
    {
        try
        {
            return a.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }

    /// <summary>A type with its element type and generic arguments.</summary>
    private static IEnumerable<Type> Expand(Type t)
    {
        if (t.HasElementType && t.GetElementType() is { } element)
        {
            foreach (var e in Expand(element)) yield return e;
            yield break;
        }

        if (t.IsGenericParameter) yield break;
        yield return t;
        if (!t.IsGenericType) yield break;
        foreach (var arg in t.GetGenericArguments())
        {
            foreach (var e in Expand(arg)) yield return e;
        }
    }

    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static IEnumerable<Type> ReferencedTypes(Type type)
    {
        if (type.BaseType != null) yield return type.BaseType;
        foreach (var i in type.GetInterfaces()) yield return i;
        foreach (var f in type.GetFields(Everything)) yield return f.FieldType;
        foreach (var p in type.GetProperties(Everything)) yield return p.PropertyType;
        var methods = type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything));
        foreach (var m in methods)
        {
            if (m is MethodInfo mi) yield return mi.ReturnType;
            foreach (var p in m.GetParameters()) yield return p.ParameterType;
            foreach (var t in BodyReferences(m)) yield return t;
        }
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    /// <summary>Types named by the method body's IL: calls, field accesses, type tokens (newobj, castclass, box …).</summary>
    private static List<Type> BodyReferences(MethodBase method)
    {
        var result = new List<Type>();
        MethodBody? body;
        try
        {
            body = method.GetMethodBody();
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or BadImageFormatException)
        {
            return result;
        }

        if (body == null) return result;
        foreach (var local in body.LocalVariables) result.Add(local.LocalType);
        byte[] il = body.GetILAsByteArray() ?? [];
        var module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int pos = 0;
        while (pos < il.Length)
        {
            short value = il[pos++];
            if (value == 0xFE && pos < il.Length) value = unchecked((short)(0xFE00 | il[pos++]));
            if (!OpCodesByValue.TryGetValue(value, out var op)) break; // unknown byte: stop reading this body
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, pos),
                _ => 4,
            };
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok)
            {
                int token = BitConverter.ToInt32(il, pos);
                try
                {
                    switch (module.ResolveMember(token, typeArgs, methodArgs))
                    {
                        case Type t:
                            result.Add(t);
                            break;
                        case FieldInfo f:
                            result.Add(f.DeclaringType!);
                            result.Add(f.FieldType);
                            break;
                        case MethodBase m:
                            if (m.DeclaringType != null) result.Add(m.DeclaringType);
                            if (m is MethodInfo mi)
                            {
                                result.Add(mi.ReturnType);
                                if (mi.IsGenericMethod) result.AddRange(mi.GetGenericArguments());
                            }

                            break;
                    }
                }
                catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or MissingMemberException)
                {
                    // a token into another module's generic context: not a WeightPrint reference we can name
                }
            }

            pos += size;
        }

        return result;
    }
}
