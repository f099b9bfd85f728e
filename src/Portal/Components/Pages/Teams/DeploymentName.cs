using Proxy.Core.Models;
using Proxy.Core.Providers;

namespace Portal.Components.Pages.Teams;

/// <summary>
/// How the portal names one deployment where several share a public name: its group, and the provider model and API
/// base that tell it from the others (no key: the key shows only masked, in its own column).
/// </summary>
public static class DeploymentName
{
    /// <summary>The name callers pass as <c>model</c>: a team model's public name, a global model's name.</summary>
    public static string Group(ModelDeployment d) => d.PublicName ?? d.ModelName;

    /// <summary>The API base calls go to: the stored one, else the provider's public endpoint.</summary>
    public static string ApiBase(ModelDeployment d) =>
        d.ApiBase ?? Provider.Named(d.Provider) switch
        {
            { DefaultBase: { } defaultBase } => defaultBase.AbsoluteUri.TrimEnd('/'),
            // A cloud provider's endpoint follows from the deployment's region or location.
            { IsRegional: true } regional => regional.RegionalBase(CloudParams.Credentials(d, null, null))?.AbsoluteUri.TrimEnd('/') ?? "",
            _ => "",
        };

    /// <summary>The API base without its scheme, e.g. <c>api.openai.com/v1</c>: short enough for a table cell and a sentence.</summary>
    public static string ShortApiBase(ModelDeployment d) =>
        Uri.TryCreate(ApiBase(d), UriKind.Absolute, out var uri) ? uri.Authority + uri.AbsolutePath.TrimEnd('/') : ApiBase(d);

    /// <summary>"openai/gpt-4o at api.openai.com/v1": which of the group's deployments this is.</summary>
    public static string Describe(ModelDeployment d) => $"{d.UpstreamModel} at {ShortApiBase(d)}";
}
