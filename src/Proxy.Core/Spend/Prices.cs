using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace Proxy.Core.Spend;

/// <summary>
/// USD per token, as LiteLLM names them. The cache prices are Anthropic's prompt caching: tokens written to and read
/// from the cache, which Anthropic bills apart from the other input tokens; null means "as an input token".
/// <see cref="MaxOutputTokens"/> is the most tokens the model answers with (LiteLLM's <c>max_output_tokens</c>), the
/// worst case of a call that sets no <c>max_tokens</c>; null when not known.
/// </summary>
public sealed record Price(double InputCostPerToken, double OutputCostPerToken, double? CacheCreationInputTokenCost = null,
    double? CacheReadInputTokenCost = null, int? MaxOutputTokens = null)
{
    public const string InputField = "input_cost_per_token";
    public const string OutputField = "output_cost_per_token";
    public const string CacheWriteField = "cache_creation_input_token_cost";
    public const string CacheReadField = "cache_read_input_token_cost";
    public const string MaxOutputField = "max_output_tokens";
    /// <summary>LiteLLM's older name of <see cref="MaxOutputField"/> in <c>model_info</c> (not in <c>litellm_params</c>, where it is a call parameter).</summary>
    public const string LegacyMaxTokensField = "max_tokens";

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

    /// <summary>
    /// The <c>max_output_tokens</c> of a section (in <c>model_info</c> also LiteLLM's older <c>max_tokens</c>; the first
    /// wins), or null. Throws a 400 naming the field when it is not a whole number from 1 to 2^31-1; with
    /// <paramref name="lenient"/> such a value is skipped instead (a row stored before the field was checked).
    /// </summary>
    public static int? MaxOutputTokensFrom(JsonObject? fields, string section, bool legacyName = false, bool lenient = false)
    {
        foreach (var name in legacyName ? new[] { MaxOutputField, LegacyMaxTokensField } : [MaxOutputField])
        {
            switch (fields?[name])
            {
                case null:
                    continue;
                case JsonValue v when v.GetValueKind() == JsonValueKind.Number
                    && double.TryParse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture, out var d) && d >= 1 && d <= int.MaxValue && d == Math.Floor(d):
                    return (int)d;
                default:
                    if (lenient)
                    {
                        continue;
                    }
                    throw ProxyError.BadRequest($"{section}.{name} must be a whole number of tokens from 1 (the most tokens the model answers with).", $"{section}.{name}");
            }
        }
        return null;
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
/// The built-in prices and maximum output of the models teams bring (<c>Spend/prices.json</c>: OpenAI, Azure, Anthropic,
/// Gemini and Vertex, Bedrock, Mistral, Groq, DeepSeek, xAI, Together, Fireworks, OpenRouter, Perplexity; its source and
/// date inside), with <c>Proxy:Prices</c> from configuration on top. A deployment's own price in <c>model_info</c> beats both.
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
            _prices[model] = Price.From(fields!.AsObject(), "prices.json")! with { MaxOutputTokens = Price.MaxOutputTokensFrom(fields.AsObject(), "prices.json") };
        }
        foreach (var model in configuration.GetSection("Proxy:Prices").GetChildren())
        {
            var fields = new JsonObject();
            foreach (var field in model.GetChildren())
            {
                fields[field.Key] = double.TryParse(field.Value, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : field.Value;
            }
            var section = $"Proxy:Prices:{model.Key}";
            int? maxOutput;
            try
            {
                maxOutput = Price.MaxOutputTokensFrom(fields, section);
            }
            catch (ProxyError e)
            {
                throw new InvalidOperationException($"{section}:{Price.MaxOutputField} must be a whole number of tokens from 1.", e);
            }
            _prices.TryGetValue(model.Key, out var builtInPrice);
            if (!fields.ContainsKey(Price.InputField) && !fields.ContainsKey(Price.OutputField))
            {
                // max_output_tokens alone corrects a model the table prices; it cannot price one.
                _prices[model.Key] = builtInPrice is not null && maxOutput is not null && fields.Count == 1
                    ? builtInPrice with { MaxOutputTokens = maxOutput }
                    : throw new InvalidOperationException($"{section} needs {Price.InputField} and/or {Price.OutputField}"
                        + (builtInPrice is null ? "." : $" (or {Price.MaxOutputField} alone, to change only the maximum output of the built-in row)."));
                continue;
            }
            _prices[model.Key] = Price.From(fields, section)! with { MaxOutputTokens = maxOutput ?? builtInPrice?.MaxOutputTokens };
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
    /// <c>model_info.base_model</c> (its deployment name is the team's choice). Null: no price known, calls cost 0
    /// (<see cref="NoPriceNotice"/> says so where the model is registered). Its <see cref="Price.MaxOutputTokens"/> is the
    /// deployment's own <c>max_output_tokens</c> (<c>model_info</c>, also as <c>max_tokens</c>, then <c>litellm_params</c>),
    /// else the table's for the model, even when the deployment sets its own prices: the model's limit is not a price.
    /// </summary>
    public Price? For(string provider, string upstreamName, JsonObject? modelInfo, JsonObject? litellmParams)
    {
        var table = TableFor(provider, upstreamName, modelInfo);
        var price = Price.From(modelInfo, "model_info") ?? Price.From(litellmParams, "litellm_params") ?? table;
        // Checked when the deployment is registered (DeploymentParams.Validate); a row stored before then must not stop routing.
        var maxOutput = Price.MaxOutputTokensFrom(modelInfo, "model_info", legacyName: true, lenient: true)
            ?? Price.MaxOutputTokensFrom(litellmParams, "litellm_params", lenient: true) ?? table?.MaxOutputTokens;
        return price is null || price.MaxOutputTokens == maxOutput ? price : price with { MaxOutputTokens = maxOutput };
    }

    /// <summary>The price of a stored deployment, as the route table computes it.</summary>
    public Price? For(Models.ModelDeployment deployment) =>
        For(deployment.Provider, Providers.Provider.UpstreamName(deployment.UpstreamModel, deployment.Provider),
            Models.DeploymentParams.Parse(deployment.ExtraInfo), Models.DeploymentParams.Parse(deployment.ExtraParams));

    /// <summary>What the REST answer and the portal say of a deployment without a price; its calls are not counted as spend.</summary>
    public const string NoPriceNotice = "no price: spend not tracked. The price table does not know this model; set "
        + "model_info.input_cost_per_token and output_cost_per_token (USD per token), or name a known model in model_info.base_model.";

    private Price? TableFor(string provider, string upstreamName, JsonObject? modelInfo)
    {
        var baseModel = modelInfo?["base_model"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        foreach (var name in baseModel is null ? [upstreamName] : new[] { baseModel, upstreamName })
        {
            var bare = name.StartsWith(provider + "/", StringComparison.OrdinalIgnoreCase) ? name[(provider.Length + 1)..] : name;
            // An unprefixed row is OpenAI's model; a prefixed one belongs to its provider only (a vLLM model named
            // "deepseek/deepseek-chat" is not DeepSeek's API).
            if (_prices.TryGetValue($"{provider}/{bare}", out var price) || (!bare.Contains('/') && _prices.TryGetValue(bare, out price)))
            {
                return price;
            }
        }
        return null;
    }
}
