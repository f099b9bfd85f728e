namespace Proxy.Core.Providers;

/// <summary>
/// A provider a team can register models with: the API dialect it speaks and, for hosted ones, where it lives. The
/// OpenAI-compatible families are data here, not code: they differ only in their default <c>api_base</c>.
/// </summary>
public sealed class Provider
{
    private Provider(string name, string displayName, IProviderApi api, Uri? defaultBase, string exampleBase,
        IReadOnlyList<string>? cloudFields = null, IReadOnlyList<string>? requiredCloudFields = null)
    {
        Name = name;
        DisplayName = displayName;
        Api = api;
        DefaultBase = defaultBase;
        ExampleBase = exampleBase;
        CloudFields = cloudFields ?? [];
        RequiredCloudFields = requiredCloudFields ?? [];
    }

    /// <summary>As <c>custom_llm_provider</c> or the prefix of <c>litellm_params.model</c> names it.</summary>
    public string Name { get; }

    /// <summary>How the portal names it.</summary>
    public string DisplayName { get; }

    /// <summary>The dialect it speaks.</summary>
    internal IProviderApi Api { get; }

    /// <summary>Null: the team must give <c>api_base</c> (a self-hosted server, an Azure resource).</summary>
    public Uri? DefaultBase { get; }

    /// <summary>For the 400 that asks for an api_base, and for the portal's form.</summary>
    public string ExampleBase { get; }

    /// <summary>The cloud <c>litellm_params</c> it takes (<see cref="Models.CloudParams"/>); any other is refused with a 400 naming it.</summary>
    public IReadOnlyList<string> CloudFields { get; }

    /// <summary>Those of <see cref="CloudFields"/> a deployment must have.</summary>
    public IReadOnlyList<string> RequiredCloudFields { get; }

    /// <summary>Its endpoint follows from the deployment's cloud params (a region, a location): no api_base is needed.</summary>
    public bool IsRegional => CloudFields.Count > 0;

    /// <summary>A regional provider's endpoint for the deployment's region or location; null when it has none.</summary>
    public Uri? RegionalBase(DeploymentCredentials credentials) => Api.RegionalBase(credentials);

    /// <summary>It can list its models for the portal's form to pick from.</summary>
    public bool ListsModels => Api.ModelLists(DefaultBase ?? new Uri(ExampleBase)).Count > 0;

    public const string OpenAI = "openai";
    public const string Azure = "azure";
    public const string Anthropic = "anthropic";
    public const string Gemini = "gemini";
    public const string VertexAi = "vertex_ai";
    public const string Ollama = "ollama";
    public const string Bedrock = "bedrock";
    public const string AzureDefaultApiVersion = "2024-10-21";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(600);

    /// <summary>Every provider the gateway speaks, in the order the portal offers them.</summary>
    public static IReadOnlyList<Provider> All { get; } =
    [
        new(OpenAI, "OpenAI", OpenAIApi.Instance, new Uri("https://api.openai.com/v1"), "https://api.openai.com/v1"),
        new(Azure, "Azure OpenAI", AzureApi.Instance, null, "https://YOUR-RESOURCE.openai.azure.com"),
        new(Anthropic, "Anthropic (Claude)", global::Proxy.Core.Providers.Anthropic.AnthropicApi.Instance, new Uri("https://api.anthropic.com"), "https://api.anthropic.com"),
        new(Gemini, "Google Gemini (AI Studio)", global::Proxy.Core.Providers.Gemini.GeminiApi.Instance, new Uri("https://generativelanguage.googleapis.com"), "https://generativelanguage.googleapis.com"),
        new(VertexAi, "Google Vertex AI", Vertex.VertexClaudeApi.Instance, null, "https://us-central1-aiplatform.googleapis.com", Models.CloudParams.Vertex, Models.CloudParams.Vertex),
        new(Bedrock, "Amazon Bedrock", global::Proxy.Core.Providers.Bedrock.BedrockApi.Instance, null, "https://bedrock-runtime.us-east-1.amazonaws.com",
            Models.CloudParams.Aws, [Models.CloudParams.AwsRegionName]),
        new("groq", "Groq", OpenAIApi.Compatible, new Uri("https://api.groq.com/openai/v1"), "https://api.groq.com/openai/v1"),
        new("mistral", "Mistral", OpenAIApi.Compatible, new Uri("https://api.mistral.ai/v1"), "https://api.mistral.ai/v1"),
        new("deepseek", "DeepSeek", OpenAIApi.Compatible, new Uri("https://api.deepseek.com/v1"), "https://api.deepseek.com/v1"),
        new("together_ai", "Together AI", OpenAIApi.Compatible, new Uri("https://api.together.xyz/v1"), "https://api.together.xyz/v1"),
        new("fireworks_ai", "Fireworks AI", OpenAIApi.Compatible, new Uri("https://api.fireworks.ai/inference/v1"), "https://api.fireworks.ai/inference/v1"),
        new("openrouter", "OpenRouter", OpenAIApi.Compatible, new Uri("https://openrouter.ai/api/v1"), "https://openrouter.ai/api/v1"),
        new("perplexity", "Perplexity", OpenAIApi.Compatible, new Uri("https://api.perplexity.ai"), "https://api.perplexity.ai"),
        new("xai", "xAI (Grok)", OpenAIApi.Compatible, new Uri("https://api.x.ai/v1"), "https://api.x.ai/v1"),
        new("hosted_vllm", "vLLM (self-hosted)", OpenAIApi.Compatible, null, "http://my-vllm-server:8000/v1"),
        new(Ollama, "Ollama (self-hosted)", OpenAIApi.Compatible, null, "http://localhost:11434"),
        new("lm_studio", "LM Studio (self-hosted)", OpenAIApi.Compatible, null, "http://localhost:1234/v1"),
    ];

    /// <summary>The dialect a deployment of <paramref name="upstreamName"/> speaks: the provider's, but on Vertex AI the model's publisher's (Claude or Gemini).</summary>
    internal IProviderApi ApiFor(string upstreamName) => Name == VertexAi ? Vertex.VertexModels.ApiFor(upstreamName) ?? Api : Api;

    public static IReadOnlyList<string> Supported { get; } = [.. All.Select(p => p.Name)];

    private static readonly Dictionary<string, Provider> ByName = All.ToDictionary(p => p.Name, StringComparer.Ordinal);

    public static Provider? Named(string name) => ByName.GetValueOrDefault(name);

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

    /// <summary>The name the provider knows: <c>openai/gpt-4o</c> → <c>gpt-4o</c>, <c>hosted_vllm/meta-llama/Llama-3-8B</c> → <c>meta-llama/Llama-3-8B</c>.</summary>
    public static string UpstreamName(string upstreamModel, string provider) =>
        upstreamModel.StartsWith(provider + "/", StringComparison.OrdinalIgnoreCase) ? upstreamModel[(provider.Length + 1)..] : upstreamModel;

    /// <summary>Where the deployment's calls go: its api_base, or its provider's. Ollama serves the OpenAI routes under <c>/v1</c>.</summary>
    public Uri BaseFor(string? apiBase, DeploymentCredentials? credentials = null)
    {
        var root = apiBase is not null ? new Uri(apiBase)
            : (credentials is null ? null : Api.RegionalBase(credentials)) ?? DefaultBase ?? throw new InvalidOperationException($"A {Name} deployment has no api_base; registration requires one.");
        return Name == Ollama && !root.AbsolutePath.TrimEnd('/').EndsWith("/v1", StringComparison.Ordinal) ? new Uri(root.AbsoluteUri.TrimEnd('/') + "/v1") : root;
    }
}
