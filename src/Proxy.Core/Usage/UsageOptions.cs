namespace Proxy.Core.Usage;

/// <summary>The <c>Proxy:Usage</c> configuration section: how the call log is written (docs/usage.md).</summary>
public sealed class UsageOptions
{
    public const string Section = "Proxy:Usage";

    /// <summary>
    /// How long the usage writer gathers calls before it writes them as one batch. Also what a <c>kill -9</c> may lose:
    /// the default keeps every call answered a second before; longer batches write fewer pages per call (LiteLLM's
    /// <c>proxy_batch_write_at</c> trades the same way).
    /// </summary>
    public TimeSpan WriteInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>A start-up error naming the setting, or null when the section is valid.</summary>
    public string? Problem() =>
        WriteInterval < TimeSpan.FromMilliseconds(10) || WriteInterval > TimeSpan.FromMinutes(1)
            ? "Proxy:Usage:WriteInterval must be between 00:00:00.01 and 00:01:00."
            : null;
}
