using System.Reflection;
using System.Text;
using WeightPrint.Tests.Support;

namespace WeightPrint.Tests.Api;

/// <summary>
/// The library's public surface is a deliberate contract: every public type and member of the WeightPrint assembly is
/// listed in <c>PublicApi.txt</c> beside this file, and any change to it fails here until the list is updated
/// (run the tests with <c>WEIGHTPRINT_UPDATE_PUBLIC_API=1</c> to rewrite it, then review the diff).
/// </summary>
public sealed class PublicApiTests
{
    private static readonly string Baseline = Path.Combine(SharedModels.RepoRoot, "tests", "WeightPrint.Tests", "Api", "PublicApi.txt");

    [Fact]
    public void The_public_surface_matches_the_reviewed_baseline()
    {
        string actual = Describe(typeof(Lineage).Assembly);
        if (Environment.GetEnvironmentVariable("WEIGHTPRINT_UPDATE_PUBLIC_API") == "1") File.WriteAllText(Baseline, actual);
        string expected = File.Exists(Baseline) ? File.ReadAllText(Baseline) : "";
        var missing = expected.Split('\n').Except(actual.Split('\n')).ToList();
        var added = actual.Split('\n').Except(expected.Split('\n')).ToList();
        Assert.True(missing.Count == 0 && added.Count == 0,
            "the public API changed (update tests/WeightPrint.Tests/Api/PublicApi.txt with WEIGHTPRINT_UPDATE_PUBLIC_API=1 if deliberate)\n"
            + string.Join("\n", added.Select(l => "+ " + l).Concat(missing.Select(l => "- " + l))));
    }

    [Fact]
    public void The_surface_is_small_and_starts_at_the_front_door()
    {
        var types = typeof(Lineage).Assembly.GetExportedTypes();
        Assert.Contains(typeof(Lineage), types);
        // Each method's typed result (a MethodDetails record and the row records it holds) lives in the method's own
        // namespace under Signals; those are data, not helpers, and are counted apart: plain records with no methods of
        // their own. Everything else stays within the original bound.
        var details = types.Where(t => t.Namespace is { } ns && ns.StartsWith("WeightPrint.Signals.", StringComparison.Ordinal)).ToList();
        Assert.All(details, t => Assert.True(t.GetMethod("<Clone>$") != null && t.IsSealed
            && t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly).All(m => m.IsSpecialName || m.Name is "ToString" or "GetHashCode" or "Equals" or "<Clone>$" or "Deconstruct"),
            $"{t.FullName} is public under Signals but is not a plain result record"));
        Assert.True(details.Count <= 20, $"{details.Count} public result records under Signals");
        Assert.True(types.Length - details.Count <= 40, $"{types.Length - details.Count} public types: keep the surface small, make helpers internal");
    }

    internal static string Describe(Assembly assembly)
    {
        var lines = new List<string>();
        const BindingFlags Declared = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var t in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            string kind = t.IsEnum ? "enum" : t.IsInterface ? "interface" : t.IsValueType ? "struct" : t.IsAbstract && t.IsSealed ? "static class" : "class";
            string baseName = t.BaseType is { } b && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum) ? " : " + Name(b) : "";
            lines.Add($"{kind} {t.FullName}{baseName}");
            if (t.IsEnum)
            {
                lines.AddRange(Enum.GetNames(t).Select(n => $"  {t.FullName}.{n}"));
                continue;
            }

            foreach (var m in t.GetMembers(Declared))
            {
                string? text = m switch
                {
                    ConstructorInfo c => $"ctor({Parameters(c)})",
                    MethodInfo mi when !mi.IsSpecialName => $"{(mi.IsStatic ? "static " : "")}{Name(mi.ReturnType)} {mi.Name}({Parameters(mi)})",
                    PropertyInfo p => $"{(p.GetMethod?.IsStatic == true ? "static " : "")}{Name(p.PropertyType)} {p.Name} {{{(p.GetMethod?.IsPublic == true ? " get;" : "")}{(p.SetMethod?.IsPublic == true ? " set;" : "")} }}",
                    FieldInfo f => $"{(f.IsLiteral ? "const " : f.IsStatic ? "static " : "")}{Name(f.FieldType)} {f.Name}",
                    EventInfo e => $"event {Name(e.EventHandlerType!)} {e.Name}",
                    _ => null,
                };
                if (text != null) lines.Add($"  {t.FullName}::{text}");
            }
        }

        var sorted = new StringBuilder();
        foreach (var l in lines) sorted.Append(l).Append('\n');
        return sorted.ToString();
    }

    private static string Parameters(MethodBase m) => string.Join(", ", m.GetParameters().Select(p => Name(p.ParameterType) + " " + p.Name));

    private static string Name(Type t)
    {
        if (t.IsGenericType)
        {
            string root = t.Name[..t.Name.IndexOf('`', StringComparison.Ordinal)];
            return $"{t.Namespace}.{root}<{string.Join(", ", t.GetGenericArguments().Select(Name))}>";
        }

        return t.FullName ?? t.Name;
    }
}
