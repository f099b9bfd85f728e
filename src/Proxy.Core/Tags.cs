using System.Text.Json.Nodes;

namespace Proxy.Core;

/// <summary>LiteLLM's <c>tags</c> on keys and teams: informational, kept where LiteLLM keeps them, in <c>metadata.tags</c>.</summary>
public static class Tags
{
    /// <summary>The metadata (JSON text) with its <c>tags</c> set to <paramref name="tags"/>; the rest of it is kept.</summary>
    public static string Into(string? metadata, IReadOnlyList<string> tags)
    {
        var merged = (metadata is null ? null : JsonNode.Parse(metadata) as JsonObject) ?? [];
        merged["tags"] = new JsonArray([.. tags.Select(t => (JsonNode?)JsonValue.Create(Check.Text(t, "tags")))]);
        return merged.ToJsonString();
    }
}
