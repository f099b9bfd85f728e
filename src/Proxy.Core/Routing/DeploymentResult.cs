namespace Proxy.Core.Routing;

/// <summary>
/// What the last call or connection test to a deployment came to on this instance: when, how, the provider's status if
/// it answered and a short error in words. Never a key: errors come from the connection or the provider's status, and
/// an api_base cannot carry credentials.
/// </summary>
public sealed record DeploymentResult(DateTime At, DeploymentOutcome Outcome, int? Status, string? Error)
{
    /// <summary>Longer errors are cut: the portal shows one line.</summary>
    public const int MaxErrorLength = 200;

    public static DeploymentResult Answered(DateTime at, int? status = null) => new(at, DeploymentOutcome.Answered, status, null);

    public static DeploymentResult Unreachable(DateTime at, string why) => new(at, DeploymentOutcome.Unreachable, null, Short(why));

    public static DeploymentResult Failing(DateTime at, int status, string error) => new(at, DeploymentOutcome.Failing, status, Short(error));

    private static string Short(string text) => text.Length <= MaxErrorLength ? text : text[..(MaxErrorLength - 1)] + "…";
}
