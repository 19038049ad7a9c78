using System.Text.Json;
using System.Text.Json.Nodes;

namespace QGenEngine.Autograd;

/// <summary>
/// JSON read from a file the user gave: parsed whole, so that what System.Text.Json reports lazily (a name given twice
/// in one object surfaces as an ArgumentException on first access, anywhere later) is found here, as a
/// <see cref="FormatException"/> naming the file.
/// </summary>
public static class JsonText
{
    public static JsonNode? Parse(string text, string path, int maxDepth = 64)
    {
        try
        {
            var root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = maxDepth });
            Touch(root);
            return root;
        }
        catch (JsonException e) { throw new FormatException($"{path}: not valid JSON ({e.Message})"); }
        catch (ArgumentException e) { throw new FormatException($"{path}: not valid JSON ({e.Message.Split(" (Parameter")[0]})"); }
    }

    /// <summary>Line after line (metrics.jsonl): each a JSON object.</summary>
    public static JsonObject ParseObject(string text, string path, string where)
    {
        try { return Parse(text, path) as JsonObject ?? throw new FormatException($"{path}: {where} is not a JSON object"); }
        catch (FormatException e) when (!e.Message.Contains(where, StringComparison.Ordinal)) { throw new FormatException(e.Message.Replace($"{path}: ", $"{path}: {where}: ", StringComparison.Ordinal)); }
    }

    private static void Touch(JsonNode? n)
    {
        switch (n)
        {
            case JsonObject o: foreach (var (_, v) in o) Touch(v); break;
            case JsonArray a: foreach (var v in a) Touch(v); break;
        }
    }
}
