using Proxy.Core.Spend;

namespace Proxy.Core.Routing;

/// <summary>
/// Picks the deployment of a model group that answers a call: one at random among those with room under their own
/// <c>rpm</c>/<c>tpm</c> (load balancing by capacity); a 429 when every one is at its limit.
/// </summary>
public sealed class Router(SpendControl spend)
{
    public DeploymentEntry Pick(DeploymentEntry[] group, string model)
    {
        var start = group.Length == 1 ? 0 : Random.Shared.Next(group.Length);
        for (var i = 0; i < group.Length; i++)
        {
            var deployment = group[(start + i) % group.Length];
            if (spend.TryUseDeployment(deployment.Account))
            {
                return deployment;
            }
        }
        throw ProxyError.RateLimited(
            $"Every deployment of model {model} is at its rpm/tpm limit (litellm_params.rpm / tpm). Retry after {SpendControl.Seconds(spend.UntilNextWindow)} s.",
            spend.UntilNextWindow);
    }
}
