using Proxy.Core.Access;
using Proxy.Core.Routing;

namespace Proxy.Core.Forwarding;

/// <summary>
/// Where a call goes when every deployment of its model failed: the request's <c>fallbacks</c> (or else the team's
/// <c>router_settings.fallbacks</c> for the model), and for a context-window error its <c>context_window_fallbacks</c>.
/// A fallback is resolved for the caller like any model name: the rule book decides, and another team's model is never
/// one. A request naming a model its caller may not call is refused before any attempt; a team setting naming one the
/// key may not call (its own <c>models</c> list) is skipped.
/// </summary>
internal sealed class CallPlan
{
    private static readonly (string, DeploymentEntry[])[] NoFallbacks = [];
    private static readonly CallPlan None = new(NoFallbacks, NoFallbacks);

    private readonly IReadOnlyList<(string Model, DeploymentEntry[] Group)> _fallbacks;
    private readonly IReadOnlyList<(string Model, DeploymentEntry[] Group)> _contextWindowFallbacks;
    private int _nextFallback;
    private int _nextContextWindowFallback;

    private CallPlan(IReadOnlyList<(string, DeploymentEntry[])> fallbacks, IReadOnlyList<(string, DeploymentEntry[])> contextWindowFallbacks)
    {
        _fallbacks = fallbacks;
        _contextWindowFallbacks = contextWindowFallbacks;
    }

    public bool HasFallback => _nextFallback < _fallbacks.Count;

    public bool HasContextWindowFallback => _nextContextWindowFallback < _contextWindowFallbacks.Count;

    public static CallPlan For(Caller caller, string model, CallOptions? options, RoutingPolicy policy, ModelCatalog catalog, Func<string, string, ProxyError> invalid)
    {
        var settings = policy.Settings;
        // Most calls have no fallbacks: they share one empty list instead of two new ones each.
        IReadOnlyList<(string, DeploymentEntry[])> general = options?.Fallbacks is { } asked
            ? Required(asked, "fallbacks", caller, catalog, invalid)
            : settings.Fallbacks.TryGetValue(model, out var configured) ? Callable(configured, caller, catalog) : NoFallbacks;
        IReadOnlyList<(string, DeploymentEntry[])> contextWindow = options?.ContextWindowFallbacks is { } askedContext
            ? Required(askedContext, "context_window_fallbacks", caller, catalog, invalid)
            : settings.ContextWindowFallbacks.TryGetValue(model, out var configuredContext) ? Callable(configuredContext, caller, catalog) : NoFallbacks;
        return general.Count == 0 && contextWindow.Count == 0 ? None : new CallPlan(general, contextWindow);
    }

    // Static, so that For captures nothing: a closure over its parameters would be allocated on every call.
    private static List<(string, DeploymentEntry[])> Required(IEnumerable<string> names, string param, Caller caller, ModelCatalog catalog, Func<string, string, ProxyError> invalid) =>
        [.. names.Select(name => (name, catalog.Resolve(caller, name) ?? throw invalid(name, param)))];

    private static List<(string, DeploymentEntry[])> Callable(IEnumerable<string> names, Caller caller, ModelCatalog catalog) =>
        [.. names.Select(name => (name, Group: catalog.Resolve(caller, name))).Where(f => f.Group is not null).Select(f => (f.name, f.Group!))];

    /// <summary>The next model group for a call whose attempts at the current one failed this way; null when there is none.</summary>
    public (string Model, DeploymentEntry[] Group)? Next(UpstreamFailure failure) => failure switch
    {
        UpstreamFailure.ContextWindow => _nextContextWindowFallback < _contextWindowFallbacks.Count ? _contextWindowFallbacks[_nextContextWindowFallback++] : null,
        UpstreamFailure.Retryable or UpstreamFailure.Refused or UpstreamFailure.NoCapacity => _nextFallback < _fallbacks.Count ? _fallbacks[_nextFallback++] : null,
        _ => null,
    };
}
