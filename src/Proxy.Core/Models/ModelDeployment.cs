namespace Proxy.Core.Models;

/// <summary>
/// One upstream deployment. Team deployments carry an internal <see cref="ModelName"/>
/// (<c>model_name_{team_id}_{uuid}</c>) that the team's <see cref="ModelAlias"/> maps its public name to;
/// several deployments with the same name form a load-balanced group.
/// </summary>
public sealed class ModelDeployment
{
    public string ModelId { get; set; } = "";
    public string ModelName { get; set; } = "";
    public string? TeamId { get; set; }
    public string? PublicName { get; set; }
    public string Provider { get; set; } = "";

    /// <summary><c>litellm_params.model</c> as given, e.g. <c>openai/gpt-4o</c>.</summary>
    public string UpstreamModel { get; set; } = "";

    public string? ApiBase { get; set; }
    public string? ApiVersion { get; set; }

    /// <summary>The provider key, sealed by <see cref="Secrets.SecretBox"/>.</summary>
    public string? ApiKeyCipher { get; set; }

    /// <summary>The key's last characters, enough to recognise it (<c>****cb07</c>), never enough to use it.</summary>
    public string? ApiKeyHint { get; set; }

    public double? TimeoutSeconds { get; set; }

    /// <summary>
    /// A cloud deployment's secret <c>litellm_params</c> (<see cref="CloudParams.Secrets"/>) as one JSON object, sealed by
    /// <see cref="Secrets.SecretBox"/> like the api_key; null when it has none.
    /// </summary>
    public string? CloudSecretsCipher { get; set; }

    /// <summary>Their masked forms (<see cref="CloudParams.Mask"/>) as a JSON object, what every read shows.</summary>
    public string? CloudSecretsHint { get; set; }

    /// <summary><c>aws_region_name</c> (Bedrock).</summary>
    public string? AwsRegionName { get; set; }

    /// <summary><c>vertex_project</c> (Vertex AI).</summary>
    public string? VertexProject { get; set; }

    /// <summary><c>vertex_location</c> (Vertex AI).</summary>
    public string? VertexLocation { get; set; }

    /// <summary>Other <c>litellm_params</c> (JSON object), kept and returned as given.</summary>
    public string? ExtraParams { get; set; }

    /// <summary>Other <c>model_info</c> fields (JSON object), kept and returned as given.</summary>
    public string? ExtraInfo { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public string UpdatedBy { get; set; } = "";
}

/// <summary>One row of a team's alias table: public name → internal model group.</summary>
public sealed class ModelAlias
{
    public string TeamId { get; set; } = "";
    public string PublicName { get; set; } = "";
    public string InternalName { get; set; } = "";
}
