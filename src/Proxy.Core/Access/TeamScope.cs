using System.Collections.Frozen;
using System.Linq.Expressions;
using Proxy.Core.Audit;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Teams;
using Proxy.Core.Usage;

namespace Proxy.Core.Access;

/// <summary>
/// Every team-owned entity (one with a <c>TeamId</c>) and the filter that scopes a query of it to what a caller may see,
/// or why it has none. A test walks the EF model: an entity with a team and neither fails it.
/// </summary>
public static class TeamScope
{
    private static readonly FrozenDictionary<Type, Func<Caller, LambdaExpression>> Scopes = new Dictionary<Type, Func<Caller, LambdaExpression>>
    {
        [typeof(Team)] = caller => TeamVisibility.Of<Team>(caller, t => t.TeamId),
        [typeof(TeamMembership)] = caller => TeamVisibility.Of<TeamMembership>(caller, m => m.TeamId),
        [typeof(ModelAlias)] = caller => TeamVisibility.Of<ModelAlias>(caller, a => a.TeamId),
        [typeof(ModelDeployment)] = caller => ModelVisibility.Of(caller, caller.Team),
        [typeof(VirtualKey)] = KeyVisibility.Of,
        [typeof(AuditEvent)] = caller => TeamRecords.Of<AuditEvent>(caller, e => e.TeamId),
        [typeof(UsageRecord)] = caller => TeamRecords.Of<UsageRecord>(caller, u => u.TeamId),
        // Daily sums are for everyone who may read the team (ActivityVisibility), as LiteLLM shows them to members.
        [typeof(Reports.DailyUsage)] = caller => TeamVisibility.Of<Reports.DailyUsage>(caller, d => d.TeamId),
    }.ToFrozenDictionary();

    /// <summary>Team-owned entities no caller ever reads, with the reason.</summary>
    public static readonly FrozenDictionary<Type, string> Unscoped = new Dictionary<Type, string>
    {
        [typeof(RouteChange)] = "the change feed between instances; no route or page returns it",
    }.ToFrozenDictionary();

    public static IReadOnlyCollection<Type> Scoped => Scopes.Keys;

    /// <summary>The rows of <typeparamref name="T"/> the caller may see, as a query filter.</summary>
    public static Expression<Func<T, bool>> Of<T>(Caller caller) => (Expression<Func<T, bool>>)Of(typeof(T), caller);

    public static LambdaExpression Of(Type entity, Caller caller) =>
        Scopes.TryGetValue(entity, out var scope) ? scope(caller)
            : throw new InvalidOperationException($"{entity.Name} has no team scope: add one to {nameof(TeamScope)}.");
}
