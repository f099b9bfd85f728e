namespace Proxy.Core.Routing;

/// <summary>How a call or a connection test to a deployment went, as the portal names it.</summary>
public enum DeploymentOutcome
{
    /// <summary>The provider answered (a caller's own mistake, such as a 400, still counts: the deployment works).</summary>
    Answered,

    /// <summary>No answer came: the connection failed or timed out.</summary>
    Unreachable,

    /// <summary>The provider answered with an error status that is the deployment's (401/403/404, 408, 429, 5xx).</summary>
    Failing,
}
