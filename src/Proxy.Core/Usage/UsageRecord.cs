namespace Proxy.Core.Usage;

/// <summary>One LLM call as the gateway saw it.</summary>
public sealed class UsageRecord
{
    /// <summary>Row key: ascending, so inserts append instead of touching a random page per row (as a GUID key would).</summary>
    public long Id { get; set; }

    public string CallId { get; set; } = "";

    /// <summary>The provider answer's own <c>id</c> (<c>chatcmpl-...</c>, <c>resp_...</c>), read as the answer passed; null when it had none.</summary>
    public string? ResponseId { get; set; }

    /// <summary>0 for a call's first attempt; a retry or fallback of the same call is 1, 2, ... under the same <see cref="CallId"/>.</summary>
    public int Attempt { get; set; }
    public string KeyHash { get; set; } = "";
    public string? TeamId { get; set; }
    public string? UserId { get; set; }
    public string Model { get; set; } = "";
    public string? ModelId { get; set; }
    public string? Deployment { get; set; }

    /// <summary>The deployment's provider (<c>openai</c>, <c>azure</c>, <c>anthropic</c>, ...), for the daily reports' provider breakdown.</summary>
    public string Provider { get; set; } = "";
    public string Route { get; set; } = "";
    public int Status { get; set; }
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public int TotalTokens { get; set; }

    /// <summary>Of <see cref="PromptTokens"/>, those read from the provider's prompt cache (<c>cache_read_input_tokens</c>).</summary>
    public int CacheReadTokens { get; set; }

    /// <summary>Of <see cref="PromptTokens"/>, those written to the provider's prompt cache (<c>cache_creation_input_tokens</c>).</summary>
    public int CacheCreationTokens { get; set; }

    /// <summary>The provider sent no usage: the token counts are the gateway's estimate (docs/budgets.md).</summary>
    public bool TokensEstimated { get; set; }

    /// <summary>USD: the tokens at the deployment's price; 0 when no price is known.</summary>
    public double Spend { get; set; }
    public double LatencyMs { get; set; }
    public DateTime StartedAt { get; set; }

    /// <summary>
    /// Why the attempt failed, in the gateway's own words (at most <see cref="ErrorLength"/> characters); null when it
    /// succeeded. Never the provider's body, which may echo the prompt or a key.
    /// </summary>
    public string? Error { get; set; }

    public const int ErrorLength = 300;
}
