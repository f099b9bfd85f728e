namespace Proxy.Core.Models;

/// <summary>The upstream APIs the gateway speaks, and how a deployment's fields map onto them.</summary>
public static class Provider
{
    public const string OpenAI = "openai";
    public const string Azure = "azure";
    public static readonly Uri OpenAIDefaultBase = new("https://api.openai.com/v1");
    public const string AzureDefaultApiVersion = "2024-10-21";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(600);

    public static IReadOnlyList<string> Supported { get; } = [OpenAI, Azure];

    /// <summary><c>custom_llm_provider</c> if given, else the prefix of <c>model</c> (<c>azure/gpt-4o</c> → azure); no prefix means openai.</summary>
    public static string Of(string upstreamModel, string? customProvider)
    {
        if (!string.IsNullOrWhiteSpace(customProvider))
        {
            return customProvider.Trim().ToLowerInvariant();
        }
        var slash = upstreamModel.IndexOf('/');
        return slash > 0 ? upstreamModel[..slash].ToLowerInvariant() : OpenAI;
    }

    /// <summary>
    /// Where an operation goes: <c>{api_base}/{operation}</c> for OpenAI, and
    /// <c>{api_base}/openai/deployments/{deployment}/{operation}?api-version=…</c> for Azure.
    /// </summary>
    public static Uri UpstreamUri(string provider, Uri apiBase, string upstreamName, string? apiVersion, string operation)
    {
        var root = apiBase.AbsoluteUri.TrimEnd('/');
        return provider == Azure
            ? new Uri($"{root}/openai/deployments/{Uri.EscapeDataString(upstreamName)}/{operation}?api-version={Uri.EscapeDataString(apiVersion ?? AzureDefaultApiVersion)}")
            : new Uri($"{root}/{operation}");
    }

    /// <summary>The name the provider knows: <c>openai/gpt-4o</c> → <c>gpt-4o</c>, <c>azure/my-deployment</c> → <c>my-deployment</c>.</summary>
    public static string UpstreamName(string upstreamModel, string provider) =>
        upstreamModel.StartsWith(provider + "/", StringComparison.OrdinalIgnoreCase) ? upstreamModel[(provider.Length + 1)..] : upstreamModel;
}
