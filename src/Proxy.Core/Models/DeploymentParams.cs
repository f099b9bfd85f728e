using System.Text.Json;
using System.Text.Json.Nodes;

namespace Proxy.Core.Models;

/// <summary>
/// The <c>litellm_params</c> the gateway acts on beyond the provider fields, kept in a deployment's other params:
/// its own rate limits (<c>rpm</c>, <c>tpm</c>: the router skips a deployment at its limit).
/// </summary>
public static class DeploymentParams
{
    public const string RpmField = "rpm";
    public const string TpmField = "tpm";

    /// <summary>A stored JSON object of other params or model info; null when there is none.</summary>
    public static JsonObject? Parse(string? json) => json is null ? null : JsonNode.Parse(json) as JsonObject;

    public static long? Rpm(JsonObject? litellmParams) => Limit(litellmParams, RpmField);

    public static long? Tpm(JsonObject? litellmParams) => Limit(litellmParams, TpmField);

    /// <summary>Throws a 400 naming the field when a value the gateway acts on is of the wrong kind.</summary>
    public static void Validate(JsonObject litellmParams, JsonObject? modelInfo)
    {
        foreach (var field in new[] { RpmField, TpmField })
        {
            if (litellmParams[field] is { } value && (value is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<long>(out var n) || n < 0))
            {
                throw ProxyError.BadRequest($"litellm_params.{field} must be a non-negative whole number (calls or tokens per minute).", $"litellm_params.{field}");
            }
        }
        Spend.Price.From(litellmParams, "litellm_params");
        Spend.Price.From(modelInfo, "model_info");
    }

    private static long? Limit(JsonObject? litellmParams, string field) =>
        litellmParams?[field] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;
}
