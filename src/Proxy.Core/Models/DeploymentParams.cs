using System.Text.Json;
using System.Text.Json.Nodes;

namespace Proxy.Core.Models;

/// <summary>
/// The <c>litellm_params</c> the gateway acts on beyond the provider fields, kept in a deployment's other params:
/// its own rate limits (<c>rpm</c>, <c>tpm</c>: the router skips a deployment at its limit), and how the router treats
/// it (<c>weight</c> for simple-shuffle, <c>order</c> for strict priority, <c>max_retries</c>).
/// </summary>
public static class DeploymentParams
{
    public const string RpmField = "rpm";
    public const string TpmField = "tpm";
    public const string WeightField = "weight";
    public const string OrderField = "order";
    public const string MaxRetriesField = "max_retries";

    /// <summary>A stored JSON object of other params or model info; null when there is none.</summary>
    public static JsonObject? Parse(string? json) => json is null ? null : JsonNode.Parse(json) as JsonObject;

    public static long? Rpm(JsonObject? litellmParams) => Whole(litellmParams, RpmField);

    public static long? Tpm(JsonObject? litellmParams) => Whole(litellmParams, TpmField);

    /// <summary>The deployment's share in simple-shuffle, relative to the group's others (default 1).</summary>
    public static double Weight(JsonObject? litellmParams) =>
        litellmParams?[WeightField] is JsonValue v && v.TryGetValue<double>(out var w) ? w : 1;

    /// <summary>Strict priority: order 1 is used first, a higher one only while every lower one is cooling down or full.</summary>
    public static int? Order(JsonObject? litellmParams) => Whole(litellmParams, OrderField) is { } n ? (int)n : null;

    public static int? MaxRetries(JsonObject? litellmParams) => Whole(litellmParams, MaxRetriesField) is { } n ? (int)n : null;

    /// <summary>Throws a 400 naming the field when a value the gateway acts on is of the wrong kind.</summary>
    public static void Validate(JsonObject litellmParams, JsonObject? modelInfo)
    {
        foreach (var (field, min, max, what) in new[]
        {
            (RpmField, 0L, long.MaxValue, "calls per minute"), (TpmField, 0L, long.MaxValue, "tokens per minute"),
            (OrderField, 1L, 1000L, "1 is tried first"), (MaxRetriesField, 0L, (long)Forwarding.CallOptions.MaxRetries, "retries of a failed call"),
        })
        {
            if (litellmParams[field] is { } value && (value is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<long>(out var n) || n < min || n > max))
            {
                throw ProxyError.BadRequest($"litellm_params.{field} must be a whole number from {min} to {max} ({what}).", $"litellm_params.{field}");
            }
        }
        if (litellmParams[WeightField] is { } weight && (weight is not JsonValue w || w.GetValueKind() != JsonValueKind.Number || w.GetValue<double>() is not (> 0 and <= 1e6)))
        {
            throw ProxyError.BadRequest("litellm_params.weight must be a positive number (the deployment's share of its group's calls).", "litellm_params.weight");
        }
        Spend.Price.From(litellmParams, "litellm_params");
        Spend.Price.From(modelInfo, "model_info");
        Spend.Price.MaxOutputTokensFrom(litellmParams, "litellm_params");
        Spend.Price.MaxOutputTokensFrom(modelInfo, "model_info", legacyName: true);
    }

    private static long? Whole(JsonObject? litellmParams, string field) =>
        litellmParams?[field] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;
}
