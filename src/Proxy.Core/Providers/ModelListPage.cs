using System.Text.Json;

namespace Proxy.Core.Providers;

/// <summary>
/// One page of a provider's model list, read from whichever provider's shape it has: the ids a deployment can name,
/// and the query that asks for the next page (null: the last). Only models the gateway can call are kept: Bedrock's
/// text models sold on demand and its active inference profiles (a model sold only through a profile fails when named
/// directly), Vertex AI's Gemini and Claude models.
/// </summary>
internal sealed record ModelListPage(IReadOnlyList<string> Ids, string? NextQuery)
{
    /// <exception cref="JsonException">The body is none of the shapes.</exception>
    public static ModelListPage Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("A model list is a JSON object.");
        }
        if (root.TryGetProperty("data", out var data))
        {
            // OpenAI's {"data": [{"id"}]}; Anthropic's adds has_more and last_id.
            var next = root.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True && root.TryGetProperty("last_id", out var last)
                ? $"after_id={Uri.EscapeDataString(last.GetString()!)}" : null;
            return new([.. data.EnumerateArray().Select(m => m.GetProperty("id").GetString()!)], next);
        }
        if (root.TryGetProperty("models", out var gemini))
        {
            return new([.. gemini.EnumerateArray().Select(m => Last(m.GetProperty("name").GetString()!))], Next(root, "nextPageToken", "pageToken"));
        }
        if (root.TryGetProperty("modelSummaries", out var bedrock))
        {
            return new([.. bedrock.EnumerateArray()
                .Where(m => Has(m, "outputModalities", "TEXT") && Has(m, "inferenceTypesSupported", "ON_DEMAND"))
                .Select(m => m.GetProperty("modelId").GetString()!)], null);
        }
        if (root.TryGetProperty("inferenceProfileSummaries", out var profiles))
        {
            return new([.. profiles.EnumerateArray()
                .Where(p => !p.TryGetProperty("status", out var status) || status.GetString() == "ACTIVE")
                .Select(p => p.GetProperty("inferenceProfileId").GetString()!)], Next(root, "nextToken", "nextToken"));
        }
        if (root.TryGetProperty("publisherModels", out var vertex))
        {
            return new([.. vertex.EnumerateArray().Select(VertexId).Where(id => Vertex.VertexModels.ApiFor(id) is not null)], Next(root, "nextPageToken", "pageToken"));
        }
        // Google leaves an empty list out: {} is a list with nothing in it.
        return root.EnumerateObject().Any() ? throw new JsonException("Not a model list.") : new([], null);
    }

    /// <summary><c>models/gemini-2.5-flash</c>, <c>publishers/google/models/gemini-2.5-flash</c> → <c>gemini-2.5-flash</c>.</summary>
    private static string Last(string name) => name[(name.LastIndexOf('/') + 1)..];

    /// <summary>A publisher model's name; with its version when that is a date (Claude's <c>claude-sonnet-4-5@20250929</c>), as Vertex AI calls it.</summary>
    private static string VertexId(JsonElement model)
    {
        var name = Last(model.GetProperty("name").GetString()!);
        return model.TryGetProperty("versionId", out var version) && version.GetString() is { Length: 8 } date && date.All(char.IsAsciiDigit) ? $"{name}@{date}" : name;
    }

    private static bool Has(JsonElement model, string list, string value) =>
        model.TryGetProperty(list, out var values) && values.EnumerateArray().Any(v => v.GetString() == value);

    private static string? Next(JsonElement root, string tokenField, string queryParam) =>
        root.TryGetProperty(tokenField, out var token) && token.GetString() is { Length: > 0 } text ? $"{queryParam}={Uri.EscapeDataString(text)}" : null;
}
