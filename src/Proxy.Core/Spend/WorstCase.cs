using System.Text.Json;

namespace Proxy.Core.Spend;

/// <summary>
/// The most a call can cost, reserved against its budgets before it is forwarded (docs/budgets.md). Every byte of the
/// request body counts as one input token: a token of any byte-pair tokenizer covers at least one byte, so this bounds
/// the provider's count whatever its tokenizer, at the dearer of the input and cache-write prices. The output is the
/// request's own limit (<c>max_tokens</c>, <c>max_completion_tokens</c> or the Responses API's <c>max_output_tokens</c>)
/// times its choices (<c>n</c>); without one, the default the caller passes (the model's maximum output, when known).
/// </summary>
internal static class WorstCase
{
    public static double Cost(ReadOnlySpan<byte> body, Price price, int defaultOutputTokens)
    {
        var (maxTokens, choices) = OutputLimit(body);
        var inputPrice = Math.Max(price.InputCostPerToken, price.CacheCreationInputTokenCost ?? 0);
        return body.Length * inputPrice + (double)(maxTokens ?? defaultOutputTokens) * choices * price.OutputCostPerToken;
    }

    /// <summary>The body's output limit and number of choices: one pass over its top-level names, values skipped.</summary>
    private static (long? MaxTokens, int Choices) OutputLimit(ReadOnlySpan<byte> body)
    {
        long? maxTokens = null;
        var choices = 1;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, 1);
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isLimit = reader.ValueTextEquals("max_tokens"u8) || reader.ValueTextEquals("max_completion_tokens"u8) || reader.ValueTextEquals("max_output_tokens"u8);
                var isChoices = reader.ValueTextEquals("n"u8);
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n) && n > 0)
                {
                    if (isLimit)
                    {
                        maxTokens = Math.Max(maxTokens ?? 0, n);
                    }
                    else if (isChoices)
                    {
                        choices = (int)Math.Min(n, 128);
                    }
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not JSON (a form route): no limit in it.
        }
        return (maxTokens, choices);
    }
}
