using System.Text.Json;
using WeightPrint.IO;

namespace WeightPrint.Formats.Tokenizers;

/// <summary>Reads the vocabulary (token string by id) of a Hugging Face <c>tokenizer.json</c>.</summary>
internal static class TokenizerJson
{
    public const long MaxBytes = 256L << 20;

    public const int MaxVocabulary = 4 << 20;

    /// <summary>Tokens by id from <c>model.vocab</c> (an object for BPE/WordPiece, an array of [token, score]
    /// for Unigram) plus <c>added_tokens</c>; ids never listed stay null-free as empty strings.</summary>
    public static IReadOnlyList<string> Read(string path)
    {
        var info = new FileInfo(path);
        if (info.Length > MaxBytes) throw new InvalidModelFileException(path, $"tokenizer.json of {info.Length} bytes exceeds the {MaxBytes}-byte limit");
        return Parse(path, File.ReadAllBytes(path));
    }

    /// <summary>Parses tokenizer.json bytes already read (at most <see cref="MaxBytes"/>); <paramref name="path"/> names them in errors.</summary>
    public static IReadOnlyList<string> Parse(string path, byte[] json)
    {
        var doc = UntrustedJson.Parse(path, "tokenizer.json", json);

        using (doc)
        {
            var byId = new Dictionary<int, string>();
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object
                && model.TryGetProperty("vocab", out var vocab))
            {
                if (vocab.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in vocab.EnumerateObject())
                    {
                        if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id))
                            throw new InvalidModelFileException(path, $"tokenizer.json: model.vocab gives token {ErrorText.Quote(p.Name)} the id {ErrorText.Quote(p.Value.GetRawText())}, not an integer");
                        Put(path, byId, id, p.Name);
                    }
                }
                else if (vocab.ValueKind == JsonValueKind.Array)
                {
                    int id = 0;
                    foreach (var entry in vocab.EnumerateArray())
                    {
                        if (entry.ValueKind == JsonValueKind.Array && entry.GetArrayLength() > 0 && entry[0].ValueKind == JsonValueKind.String)
                            Put(path, byId, id, entry[0].GetString()!);
                        id++;
                    }
                }
            }

            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var a in added.EnumerateArray())
                {
                    if (a.ValueKind == JsonValueKind.Object && a.TryGetProperty("id", out var idEl) && idEl.ValueKind == JsonValueKind.Number && idEl.TryGetInt32(out int id)
                        && a.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
                        Put(path, byId, id, c.GetString()!);
                }
            }

            if (byId.Count == 0) throw new InvalidModelFileException(path, "tokenizer.json has no model.vocab");
            int size = byId.Keys.Max() + 1;
            var tokens = new string[size];
            Array.Fill(tokens, "");
            foreach (var (id, tok) in byId) tokens[id] = tok;
            return tokens;
        }
    }

    private static void Put(string path, Dictionary<int, string> byId, int id, string token)
    {
        if (id < 0 || id >= MaxVocabulary) throw new InvalidModelFileException(path, $"token id {id} is outside 0..{MaxVocabulary}");
        byId[id] = token;
    }
}
