namespace Proxy.Core.Models;

/// <summary>A model registration or a partial change to one; null means "not given" (kept on update).</summary>
public sealed record ModelInput
{
    public string? ModelName { get; init; }

    /// <summary><c>litellm_params.model</c>, e.g. <c>openai/gpt-4o</c> or <c>azure/my-deployment</c>.</summary>
    public string? UpstreamModel { get; init; }

    public string? CustomLlmProvider { get; init; }
    public string? ApiKey { get; init; }
    public string? ApiBase { get; init; }
    public string? ApiVersion { get; init; }
    public double? TimeoutSeconds { get; init; }

    /// <summary>
    /// The cloud params given (<see cref="CloudParams.All"/>), by LiteLLM's name. A secret left empty keeps the stored
    /// one, as api_key does; an empty non-secret one is cleared.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Cloud { get; init; }

    /// <summary>Other <c>litellm_params</c> as a JSON object, kept as given.</summary>
    public string? ExtraParams { get; init; }

    /// <summary><c>model_info.team_id</c>.</summary>
    public string? TeamId { get; init; }

    /// <summary><c>model_info.id</c> on /model/new: the id to give the model (a uuid when absent), as LiteLLM does.</summary>
    public string? ModelId { get; init; }

    /// <summary>Other <c>model_info</c> fields as a JSON object, kept as given.</summary>
    public string? ExtraInfo { get; init; }
}
