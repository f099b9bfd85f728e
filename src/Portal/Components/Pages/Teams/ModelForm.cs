using System.ComponentModel.DataAnnotations;
using Proxy.Core.Models;
using Proxy.Core.Providers;

namespace Portal.Components.Pages.Teams;

/// <summary>
/// The register/edit model form. Its checks mirror what the core will check anyway (so the user hears early), and it
/// turns the provider-specific fields into the same <see cref="ModelInput"/> the REST API builds.
/// </summary>
public sealed class ModelForm : IValidatableObject
{
    public string Provider { get; set; } = Proxy.Core.Providers.Provider.OpenAI;

    [Required(ErrorMessage = "Give the model a public name.")]
    [StringLength(256)]
    public string PublicName { get; set; } = "";

    [Required(ErrorMessage = "Name the provider's model or deployment.")]
    [StringLength(256)]
    public string UpstreamModel { get; set; } = "";

    public string? ApiBase { get; set; }

    public string? ApiVersion { get; set; } = Proxy.Core.Providers.Provider.AzureDefaultApiVersion;

    public string? ApiKey { get; set; }

    [Range(1, 3600, ErrorMessage = "The timeout is between 1 and 3600 seconds.")]
    public double? TimeoutSeconds { get; set; }

    // A cloud provider's params (Provider.CloudFields): the secret ones, like ApiKey, keep the stored value when left empty on edit.
    public string? AwsAccessKeyId { get; set; }
    public string? AwsSecretAccessKey { get; set; }
    public string? AwsSessionToken { get; set; }
    public string? AwsRegionName { get; set; }

    /// <summary>The service account's JSON key file, as read from the file picked.</summary>
    public string? VertexCredentials { get; set; }
    public string? VertexProject { get; set; }
    public string? VertexLocation { get; set; }

    private Proxy.Core.Providers.Provider? Chosen => Proxy.Core.Providers.Provider.Named(Provider);

    /// <summary>The chosen provider takes this cloud param (<see cref="CloudParams"/>).</summary>
    public bool Takes(string cloudParam) => Chosen?.CloudFields.Contains(cloudParam) == true;

    /// <summary>The form's value of a cloud param, by its litellm_params name.</summary>
    private string? CloudValue(string name) => name switch
    {
        CloudParams.AwsAccessKeyId => AwsAccessKeyId,
        CloudParams.AwsSecretAccessKey => AwsSecretAccessKey,
        CloudParams.AwsSessionToken => AwsSessionToken,
        CloudParams.AwsRegionName => AwsRegionName,
        CloudParams.VertexCredentials => VertexCredentials,
        CloudParams.VertexProject => VertexProject,
        CloudParams.VertexLocation => VertexLocation,
        _ => null,
    };

    /// <summary>On edit an empty key keeps the stored one; on registration a key is required.</summary>
    public bool IsEdit { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var isAzure = Provider == Proxy.Core.Providers.Provider.Azure;
        if (Proxy.Core.Providers.Provider.Named(Provider) is { DefaultBase: null, IsRegional: false } needsBase && string.IsNullOrWhiteSpace(ApiBase))
        {
            yield return new ValidationResult($"{needsBase.DisplayName} models need the API base, e.g. {needsBase.ExampleBase}.", [nameof(ApiBase)]);
        }
        if (!string.IsNullOrWhiteSpace(ApiBase)
            && (!Uri.TryCreate(ApiBase.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo)))
        {
            yield return new ValidationResult("The API base must be an absolute http(s) URL without credentials.", [nameof(ApiBase)]);
        }
        if (isAzure && string.IsNullOrWhiteSpace(ApiVersion))
        {
            yield return new ValidationResult("Azure models need an API version, e.g. 2024-10-21.", [nameof(ApiVersion)]);
        }
        if (!IsEdit && string.IsNullOrWhiteSpace(ApiKey) && Chosen is not { IsRegional: true })
        {
            yield return new ValidationResult("Enter the provider's API key.", [nameof(ApiKey)]);
        }
        foreach (var name in Chosen?.RequiredCloudFields ?? [])
        {
            // A stored secret stays when its field is left empty on edit; a region or project is always shown, so always needed.
            if (string.IsNullOrWhiteSpace(CloudValue(name)) && !(IsEdit && CloudParams.IsSecret(name)))
            {
                yield return new ValidationResult($"{Chosen!.DisplayName} models need {Label(name)}.", [FieldOf($"litellm_params.{name}")!]);
            }
        }
        if (!IsEdit && Takes(CloudParams.AwsAccessKeyId) && string.IsNullOrWhiteSpace(ApiKey))
        {
            if (string.IsNullOrWhiteSpace(AwsAccessKeyId))
            {
                yield return new ValidationResult("Enter the AWS access key id (or a Bedrock API key).", [nameof(AwsAccessKeyId)]);
            }
            if (string.IsNullOrWhiteSpace(AwsSecretAccessKey))
            {
                yield return new ValidationResult("Enter the AWS secret access key.", [nameof(AwsSecretAccessKey)]);
            }
        }
    }

    /// <summary>How the form names a cloud param.</summary>
    public static string Label(string cloudParam) => cloudParam switch
    {
        CloudParams.AwsAccessKeyId => "the AWS access key id",
        CloudParams.AwsSecretAccessKey => "the AWS secret access key",
        CloudParams.AwsSessionToken => "the AWS session token",
        CloudParams.AwsRegionName => "the AWS region",
        CloudParams.VertexCredentials => "the service account's JSON key",
        CloudParams.VertexProject => "the Google Cloud project",
        CloudParams.VertexLocation => "the location",
        _ => cloudParam,
    };

    /// <summary>The field of this form a core refusal's <see cref="ProxyError.Param"/> names; null when it names none of them.</summary>
    public static string? FieldOf(string? param) => param switch
    {
        "model_name" => nameof(PublicName),
        "litellm_params.model" or "litellm_params.custom_llm_provider" => nameof(UpstreamModel),
        "litellm_params.api_base" => nameof(ApiBase),
        "litellm_params.api_version" => nameof(ApiVersion),
        "litellm_params.api_key" => nameof(ApiKey),
        "litellm_params.timeout" => nameof(TimeoutSeconds),
        "litellm_params.aws_access_key_id" => nameof(AwsAccessKeyId),
        "litellm_params.aws_secret_access_key" => nameof(AwsSecretAccessKey),
        "litellm_params.aws_session_token" => nameof(AwsSessionToken),
        "litellm_params.aws_region_name" => nameof(AwsRegionName),
        "litellm_params.vertex_credentials" => nameof(VertexCredentials),
        "litellm_params.vertex_project" => nameof(VertexProject),
        "litellm_params.vertex_location" => nameof(VertexLocation),
        _ => null,
    };

    public ModelInput ToInput(string? teamId = null) => new()
    {
        ModelName = PublicName.Trim(),
        UpstreamModel = $"{Provider}/{UpstreamModel.Trim()}",
        CustomLlmProvider = Provider,
        ApiBase = string.IsNullOrWhiteSpace(ApiBase) ? null : ApiBase.Trim(),
        ApiVersion = Provider == Proxy.Core.Providers.Provider.Azure ? ApiVersion?.Trim() : null,
        ApiKey = string.IsNullOrWhiteSpace(ApiKey) ? null : ApiKey.Trim(),
        TimeoutSeconds = TimeoutSeconds,
        Cloud = Cloud(),
        TeamId = teamId,
    };

    /// <summary>The chosen provider's cloud params that were filled in; an empty secret is left out, so the stored one stays.</summary>
    private Dictionary<string, string>? Cloud()
    {
        var given = new Dictionary<string, string>();
        foreach (var name in Chosen?.CloudFields ?? [])
        {
            if (CloudValue(name) is { } value && !string.IsNullOrWhiteSpace(value))
            {
                given[name] = value.Trim();
            }
        }
        return given.Count == 0 ? null : given;
    }
}
