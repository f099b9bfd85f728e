using System.Text.Json;
using System.Text.Json.Nodes;

namespace Proxy.Core.Audit;

/// <summary>
/// An update's details: the state after it (as before), plus <c>changes</c>, each field it changed as
/// <c>{"from": ..., "to": ...}</c>, so the log says what an update did, not only where it left things.
/// </summary>
public static class AuditChanges
{
    public const string Field = "changes";

    /// <summary>A row's description (no secret) before the update, written out now: the update may change what it refers to.</summary>
    public static JsonObject Snapshot(object description) => JsonSerializer.SerializeToNode(description, Json)!.AsObject();

    /// <summary><paramref name="after"/> is the same description as the <see cref="Snapshot"/>, after the update.</summary>
    public static JsonObject Between(JsonObject before, object after)
    {
        var old = before;
        var now = Snapshot(after);
        var changed = new JsonObject();
        foreach (var (name, value) in now)
        {
            var was = old[name];
            if (!JsonNode.DeepEquals(was, value))
            {
                changed[name] = new JsonObject { ["from"] = was?.DeepClone(), ["to"] = value?.DeepClone() };
            }
        }
        now[Field] = changed;
        return now;
    }

    /// <summary>The naming <see cref="Persistence.Changes.Audit"/> writes details with.</summary>
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
