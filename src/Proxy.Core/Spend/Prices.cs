using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace Proxy.Core.Spend;

/// <summary>
/// USD per token, as LiteLLM names them. The cache prices are Anthropic's prompt caching: tokens written to and read
/// from the cache, which Anthropic bills apart from the other input tokens; null means "as an input token".
/// </summary>
public sealed record Price(double InputCostPerToken, double OutputCostPerToken, double? CacheCreationInputTokenCost = null, double? CacheReadInputTokenCost = null)
{
    public const string InputField = "input_cost_per_token";
    public const string OutputField = "output_cost_per_token";
    public const string CacheWriteField = "cache_creation_input_token_cost";
    public const string CacheReadField = "cache_read_input_token_cost";

    /// <summary>
    /// What a call cost. <paramref name="promptTokens"/> is all of its input, the cache tokens included (as the usage
    /// row shows it); the cache tokens are taken out of it and priced at their own price when there is one.
    /// </summary>
    public double Cost(int promptTokens, int completionTokens, int cacheWriteTokens = 0, int cacheReadTokens = 0) =>
        (promptTokens - cacheWriteTokens - cacheReadTokens) * InputCostPerToken
        + cacheWriteTokens * (CacheCreationInputTokenCost ?? InputCostPerToken)
        + cacheReadTokens * (CacheReadInputTokenCost ?? InputCostPerToken)
        + completionTokens * OutputCostPerToken;

    /// <summary>
    /// A price given in a deployment's <c>model_info</c> or <c>litellm_params</c> (either of input and output alone is
    /// enough; the other is 0), or null when neither is there. Throws a 400 naming the field when one is not a
    /// non-negative number, or when a cache price comes without them: a deployment's own price replaces the table's
    /// whole, so a cache price alone would make its input and output free.
    /// </summary>
    public static Price? From(JsonObject? fields, string section)
    {
        if (fields is null || (!fields.ContainsKey(InputField) && !fields.ContainsKey(OutputField)))
        {
            if (fields is not null && new[] { CacheWriteField, CacheReadField }.FirstOrDefault(f => fields[f] is not null) is { } alone)
            {
                throw ProxyError.BadRequest($"{section}.{alone} needs {section}.{InputField} and/or {OutputField} beside it: "
                    + "a deployment's own price replaces the price table's.", $"{section}.{alone}");
            }
            return null;
        }
        return new Price(PerToken(fields, InputField, section), PerToken(fields, OutputField, section),
            OptionalPerToken(fields, CacheWriteField, section), OptionalPerToken(fields, CacheReadField, section));
    }

    private static double PerToken(JsonObject fields, string name, string section) => OptionalPerToken(fields, name, section) ?? 0;

    private static double? OptionalPerToken(JsonObject fields, string name, string section) => fields[name] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.GetValue<double>() is var d && double.IsFinite(d) && d >= 0 => d,
        _ => throw ProxyError.BadRequest($"{section}.{name} must be a non-negative number (USD per token, e.g. 2.5e-06).", $"{section}.{name}"),
    };
}

/// <summary>
/// The built-in prices of common OpenAI, Azure OpenAI and Anthropic models (<c>Spend/prices.json</c>, its source and date inside),
/// with <c>Proxy:Prices</c> from configuration on top. A deployment's own price in <c>model_info</c> beats both.
/// </summary>
public sealed class PriceTable
{
    private readonly Dictionary<string, Price> _prices = new(StringComparer.OrdinalIgnoreCase);

    public PriceTable(IConfiguration configuration)
    {
        using var stream = typeof(PriceTable).Assembly.GetManifestResourceStream("Proxy.Core.Spend.prices.json")!;
        var builtIn = JsonNode.Parse(stream)!["models"]!.AsObject();
        foreach (var (model, fields) in builtIn)
        {
            _prices[model] = Price.From(fields!.AsObject(), "prices.json")!;
        }
        foreach (var model in configuration.GetSection("Proxy:Prices").GetChildren())
        {
            var fields = new JsonObject();
            foreach (var field in model.GetChildren())
            {
                fields[field.Key] = double.TryParse(field.Value, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : field.Value;
            }
            if (!fields.ContainsKey(Price.InputField) && !fields.ContainsKey(Price.OutputField))
            {
                throw new InvalidOperationException($"Proxy:Prices:{model.Key} needs {Price.InputField} and/or {Price.OutputField}.");
            }
            _prices[model.Key] = Price.From(fields, $"Proxy:Prices:{model.Key}")!;
        }
    }

    /// <summary>
    /// The table's models of <paramref name="provider"/>, without its prefix (the table's names without a prefix are
    /// OpenAI's): what <c>/v1/models</c> lists for a wildcard deployment of that provider.
    /// </summary>
    public IReadOnlyList<string> ModelsOf(string provider) => _byProvider.GetOrAdd(provider, p =>
        [.. _prices.Keys.Select(name => name.IndexOf('/') is var slash && slash < 0
                ? (p == Providers.Provider.OpenAI ? name : null)
                : name[..slash].Equals(p, StringComparison.OrdinalIgnoreCase) ? name[(slash + 1)..] : null)
            .OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string[]> _byProvider = new(StringComparer.Ordinal);

    /// <summary>
    /// The price of a deployment: its own (<c>model_info</c>, then <c>litellm_params</c>), else the table's for
    /// <c>{provider}/{model}</c> or <c>{model}</c>, where an Azure deployment may name its model in
    /// <c>model_info.base_model</c> (its deployment name is the team's choice). Null: no price known, calls cost 0.
    /// </summary>
    public Price? For(string provider, string upstreamName, JsonObject? modelInfo, JsonObject? litellmParams)
    {
        if ((Price.From(modelInfo, "model_info") ?? Price.From(litellmParams, "litellm_params")) is { } own)
        {
            return own;
        }
        var baseModel = modelInfo?["base_model"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        foreach (var name in baseModel is null ? [upstreamName] : new[] { baseModel, upstreamName })
        {
            var bare = name.StartsWith(provider + "/", StringComparison.OrdinalIgnoreCase) ? name[(provider.Length + 1)..] : name;
            if (_prices.TryGetValue($"{provider}/{bare}", out var price) || _prices.TryGetValue(bare, out price))
            {
                return price;
            }
        }
        return null;
    }
}
