using System.Collections.Concurrent;

namespace Proxy.Core.Routing;

/// <summary>Every deployment's <see cref="DeploymentState"/> on this instance, by model id.</summary>
public sealed class DeploymentStates
{
    private readonly ConcurrentDictionary<string, DeploymentState> _states = new(StringComparer.Ordinal);

    public DeploymentState For(string modelId) => _states.GetOrAdd(modelId, static _ => new DeploymentState());

    /// <summary>Forgets deployments that are gone (a full snapshot load lists every one that is still there).</summary>
    public void KeepOnly(IReadOnlySet<string> modelIds)
    {
        foreach (var id in _states.Keys)
        {
            if (!modelIds.Contains(id))
            {
                _states.TryRemove(id, out _);
            }
        }
    }
}
