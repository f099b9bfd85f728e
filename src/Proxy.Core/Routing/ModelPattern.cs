namespace Proxy.Core.Routing;

/// <summary>
/// Wildcard model names (docs/routing.md, "Wildcard deployments"): a public name ending in <c>*</c>
/// (<c>openai/*</c>, <c>*</c>) matches every model name that starts with what comes before it.
/// </summary>
public static class ModelPattern
{
    public static bool IsPattern(string name) => name.Length > 0 && name[^1] == '*' && name.IndexOf('*') == name.Length - 1;

    /// <summary>What <paramref name="model"/> puts in the place of the <c>*</c>, or null when the pattern does not match it.</summary>
    public static string? Capture(string pattern, string model) =>
        model.Length >= pattern.Length && model.AsSpan().StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal)
            ? model[(pattern.Length - 1)..]
            : null;

    /// <summary>The patterns among <paramref name="names"/>, longest first (the most specific wins).</summary>
    public static string[] LongestFirst(IEnumerable<string> names) =>
        [.. names.Where(IsPattern).OrderByDescending(n => n.Length).ThenBy(n => n, StringComparer.Ordinal)];

    /// <summary>
    /// The upstream model for a call: the deployment's <c>*</c> replaced by the captured name, without the provider's
    /// prefix when the name repeats it (<c>*</c> → <c>openai/*</c> with <c>openai/gpt-4o</c> sends <c>gpt-4o</c>).
    /// </summary>
    public static string Upstream(DeploymentEntry deployment, string captured)
    {
        var provider = deployment.Provider;
        var bare = captured.Length > provider.Length && captured[provider.Length] == '/' && captured.StartsWith(provider, StringComparison.OrdinalIgnoreCase)
            ? captured[(provider.Length + 1)..]
            : captured;
        return deployment.UpstreamModel.Replace("*", bare, StringComparison.Ordinal);
    }
}
