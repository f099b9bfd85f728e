using Microsoft.Extensions.Options;
using Proxy.Core.Spend;

namespace Proxy.Core.Routing;

/// <summary>
/// Picks the deployment of a model group that takes the next attempt of a call, and keeps score of how deployments
/// fare. Among the deployments not tried yet in this call: those not cooling down (unless every one left is), the
/// lowest <c>order</c> first, ranked by the team's strategy, the first with room under its own <c>rpm</c>/<c>tpm</c>.
/// <see cref="Forwarding.LlmProxy"/> loops over its choices; it has no policy of its own.
/// </summary>
public sealed class Router(SpendControl spend, TimeProvider time, IOptions<RoutingOptions> options)
{
    private readonly RoutingPolicy _default = RoutingPolicy.Of(RouterSettings.Default, options.Value);

    /// <summary>The team's router settings over the gateway's defaults (built with the snapshot); the defaults without a team.</summary>
    public RoutingPolicy PolicyFor(TeamEntry? team) => team?.Routing ?? _default;

    /// <summary>
    /// The deployment for the next attempt: one not <paramref name="tried"/> yet in this call. Null when there is none
    /// left (<paramref name="full"/> tells whether some were left but every one was at its rpm/tpm limit).
    /// </summary>
    public DeploymentEntry? Pick(DeploymentEntry[] group, RoutingPolicy policy, IReadOnlySet<string>? tried, out bool full)
    {
        full = false;
        if (group.Length == 1)
        {
            // The common case: nothing to rank.
            if (tried?.Contains(group[0].ModelId) == true)
            {
                return null;
            }
            full = !spend.TryUseDeployment(group[0].Account);
            return full ? null : group[0];
        }
        var now = time.GetUtcNow().UtcDateTime;
        var anyHealthy = false;
        foreach (var d in group)
        {
            anyHealthy |= tried?.Contains(d.ModelId) != true && !d.State.IsCoolingDown(now);
        }

        Span<int> candidates = group.Length <= 64 ? stackalloc int[group.Length] : new int[group.Length];
        Span<int> orders = group.Length <= 64 ? stackalloc int[group.Length] : new int[group.Length];
        Span<double> ranks = group.Length <= 64 ? stackalloc double[group.Length] : new double[group.Length];
        var count = 0;
        for (var i = 0; i < group.Length; i++)
        {
            var d = group[i];
            // A cooling deployment is skipped while the group has a healthy one left to try.
            if (tried?.Contains(d.ModelId) == true || (anyHealthy && d.State.IsCoolingDown(now)))
            {
                continue;
            }
            // Order first (strict priority), then the strategy's rank; a random part breaks ties.
            var random = Random.Shared.NextDouble();
            var rank = policy.Settings.RoutingStrategy switch
            {
                RouterSettings.LeastBusy => d.State.InFlight + random / 2,
                RouterSettings.LatencyBased => double.IsNaN(d.State.TimeToFirstByteMs) ? -1 + random / 2 : d.State.TimeToFirstByteMs + random * 1e-3,
                // Weighted random order (Efraimidis-Spirakis): a deployment of weight w comes first with probability w / total.
                _ => -Math.Pow(random, 1 / d.Weight),
            };
            orders[count] = d.Order ?? int.MaxValue;
            ranks[count] = rank;
            candidates[count++] = i;
        }
        Sort(orders[..count], ranks[..count], candidates[..count]);
        foreach (var index in candidates[..count])
        {
            if (spend.TryUseDeployment(group[index].Account))
            {
                return group[index];
            }
        }
        full = count > 0;
        return null;
    }

    /// <summary>An attempt on <paramref name="deployment"/> failed; <paramref name="immediately"/>: its key or model was refused.</summary>
    public void Failed(DeploymentEntry deployment, RoutingPolicy policy, bool immediately) =>
        deployment.State.Failed(time.GetUtcNow().UtcDateTime, policy.AllowedFails, policy.CooldownTime, immediately);

    /// <summary>An attempt was answered: the deployment's last call on this instance, one write of the time.</summary>
    public void LastCallAnswered(DeploymentEntry deployment) => deployment.State.CallAnswered(time.GetUtcNow().UtcDateTime);

    /// <summary>An attempt failed: the deployment's last call on this instance (what the portal shows).</summary>
    public void LastCallFailed(DeploymentEntry deployment, (DeploymentOutcome Outcome, int Status, string Error) failed)
    {
        var now = time.GetUtcNow().UtcDateTime;
        deployment.State.CallFailed(failed.Outcome == DeploymentOutcome.Unreachable
            ? DeploymentResult.Unreachable(now, failed.Error)
            : DeploymentResult.Failing(now, failed.Status, failed.Error));
    }

    /// <summary>Insertion sort of a handful of candidates by order, then rank, without allocating.</summary>
    private static void Sort(Span<int> orders, Span<double> ranks, Span<int> values)
    {
        for (var i = 1; i < values.Length; i++)
        {
            var (order, rank, value) = (orders[i], ranks[i], values[i]);
            var j = i - 1;
            for (; j >= 0 && (orders[j] > order || (orders[j] == order && ranks[j] > rank)); j--)
            {
                orders[j + 1] = orders[j];
                ranks[j + 1] = ranks[j];
                values[j + 1] = values[j];
            }
            orders[j + 1] = order;
            ranks[j + 1] = rank;
            values[j + 1] = value;
        }
    }
}

/// <summary>A call's routing: the team's settings with the gateway's defaults filled in.</summary>
public sealed record RoutingPolicy(RouterSettings Settings, int NumRetries, int AllowedFails, TimeSpan CooldownTime)
{
    public static RoutingPolicy Of(RouterSettings settings, RoutingOptions defaults) =>
        new(settings, settings.NumRetries ?? defaults.NumRetries, settings.AllowedFails ?? defaults.AllowedFails, settings.CooldownTime ?? defaults.CooldownTime);
}
