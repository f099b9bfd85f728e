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

    /// <summary>On edit an empty key keeps the stored one; on registration a key is required.</summary>
    public bool IsEdit { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var isAzure = Provider == Proxy.Core.Providers.Provider.Azure;
        if (Proxy.Core.Providers.Provider.Named(Provider) is { DefaultBase: null } needsBase && string.IsNullOrWhiteSpace(ApiBase))
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
        if (!IsEdit && string.IsNullOrWhiteSpace(ApiKey))
        {
            yield return new ValidationResult("Enter the provider's API key.", [nameof(ApiKey)]);
        }
    }

    /// <summary>The field of this form a core refusal's <see cref="ProxyError.Param"/> names; null when it names none of them.</summary>
    public static string? FieldOf(string? param) => param switch
    {
        "model_name" => nameof(PublicName),
        "litellm_params.model" or "litellm_params.custom_llm_provider" => nameof(UpstreamModel),
        "litellm_params.api_base" => nameof(ApiBase),
        "litellm_params.api_version" => nameof(ApiVersion),
        "litellm_params.api_key" => nameof(ApiKey),
        "litellm_params.timeout" => nameof(TimeoutSeconds),
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
        TeamId = teamId,
    };
}
