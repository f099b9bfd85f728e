namespace Proxy.Core.Providers.Vertex;

/// <summary>
/// Where a Vertex AI model lives: <c>https://{location}-aiplatform.googleapis.com</c> (<c>global</c>: without the
/// location), then <c>/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{verb}</c>.
/// An <c>api_base</c> replaces only the host part, so a test (or a private endpoint) keeps Google's paths.
/// </summary>
internal static class VertexEndpoint
{
    public const string Global = "global";

    /// <summary>The regional host for <see cref="DeploymentCredentials.VertexLocation"/>; null when it has none.</summary>
    public static Uri? RegionalBase(DeploymentCredentials credentials) =>
        credentials.VertexLocation is { Length: > 0 } location
            ? new Uri(location == Global ? "https://aiplatform.googleapis.com" : $"https://{location}-aiplatform.googleapis.com")
            : null;

    /// <summary>A model's operation, e.g. <c>:rawPredict</c> of a publisher's (<c>anthropic</c>, <c>google</c>) model.</summary>
    public static Uri Operation(Uri apiBase, DeploymentCredentials credentials, string publisher, string model, string verb) =>
        new($"{apiBase.AbsoluteUri.TrimEnd('/')}/v1/projects/{Uri.EscapeDataString(credentials.VertexProject ?? "")}"
            + $"/locations/{Uri.EscapeDataString(credentials.VertexLocation ?? "")}/publishers/{publisher}/models/{Uri.EscapeDataString(model).Replace("%40", "@", StringComparison.Ordinal)}:{verb}");

    /// <summary>
    /// Model Garden's lists of the publishers whose models the gateway speaks (<c>v1beta1</c>: Google has no v1 list),
    /// every version: Claude's dated ones are named <c>model@version</c> on Vertex AI. Not per project, so any account
    /// with Vertex AI access may read them.
    /// </summary>
    public static IReadOnlyList<Uri> ModelLists(Uri apiBase) =>
        [.. new[] { "google", "anthropic" }.Select(publisher =>
            new Uri($"{apiBase.AbsoluteUri.TrimEnd('/')}/v1beta1/publishers/{publisher}/models?pageSize=100&listAllVersions=true&view=PUBLISHER_MODEL_VERSION_VIEW_BASIC"))];

    /// <summary>The same URL with another verb (<c>:rawPredict</c> → <c>:streamRawPredict</c>).</summary>
    public static Uri WithVerb(Uri operation, string verb, string streamVerb)
    {
        var text = operation.AbsoluteUri;
        var at = text.LastIndexOf(':' + verb, StringComparison.Ordinal);
        return at < 0 ? operation : new Uri(string.Concat(text.AsSpan(0, at + 1), streamVerb));
    }
}
