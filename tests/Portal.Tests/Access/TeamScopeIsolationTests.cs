using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Adversarial;
using Portal.Tests.Infrastructure;
using Proxy.Core.Access;
using Proxy.Core.Audit;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Persistence;
using Proxy.Core.Teams;
using Proxy.Core.Usage;

namespace Portal.Tests.Access;

/// <summary>
/// STYLE.md's isolation test: walk the EF model, and for every entity with a <c>TeamId</c>, prove that its scope in
/// <see cref="TeamScope"/> returns, for every caller kind, exactly the rows the single-row rule allows, and never a row
/// of another team. An entity with a team and no scope (nor a reason in <see cref="TeamScope.Unscoped"/>) fails.
/// </summary>
public sealed class TeamScopeIsolationTests(MatrixWorld world) : IClassFixture<MatrixWorld>
{
    /// <summary>
    /// The single-row rules the scopes must agree with, as the routes that read one row apply them. A scope added to
    /// <see cref="TeamScope"/> needs its rule here too.
    /// </summary>
    private static readonly Dictionary<Type, Func<Caller, object, bool>> SingleRowRules = new()
    {
        [typeof(Team)] = (caller, row) => Rules.Can(caller, TeamPermission.Read, ((Team)row).TeamId),
        [typeof(TeamMembership)] = (caller, row) => Rules.Can(caller, TeamPermission.Read, ((TeamMembership)row).TeamId),
        [typeof(ModelAlias)] = (caller, row) => Rules.Can(caller, TeamPermission.Read, ((ModelAlias)row).TeamId),
        [typeof(ModelDeployment)] = (caller, row) => row is ModelDeployment { TeamId: { } team }
            ? Rules.Can(caller, TeamPermission.Read, team)
            : Rules.MayUseGlobalModel(caller, caller.Team, ((ModelDeployment)row).ModelName),
        [typeof(VirtualKey)] = (caller, row) => KeyVisibility.Allows(caller, (VirtualKey)row),
        [typeof(AuditEvent)] = (caller, row) => Records(caller, ((AuditEvent)row).TeamId),
        [typeof(UsageRecord)] = (caller, row) => Records(caller, ((UsageRecord)row).TeamId),
        [typeof(Proxy.Core.Reports.DailyUsage)] = (caller, row) => ActivityVisibility.MayReadTeam(caller, ((Proxy.Core.Reports.DailyUsage)row).TeamId),
    };

    [Fact]
    public void EveryTeamOwnedEntity_HasAScopeAndASingleRowRule_OrAReasonForNone()
    {
        var teamOwned = TeamOwnedEntities();

        var unscoped = teamOwned.Where(e => !TeamScope.Scoped.Contains(e.ClrType) && !TeamScope.Unscoped.ContainsKey(e.ClrType)).Select(e => e.ClrType.Name).ToList();
        var withoutRule = TeamScope.Scoped.Where(t => !SingleRowRules.ContainsKey(t)).Select(t => t.Name).ToList();

        Assert.True(unscoped.Count == 0, $"Team-owned entities without a scope in TeamScope: {string.Join(", ", unscoped)}");
        Assert.True(withoutRule.Count == 0, $"Scopes without a single-row rule in this test: {string.Join(", ", withoutRule)}");
    }

    [Fact]
    public async Task EveryScope_ReturnsExactlyTheRowsTheSingleRowRuleAllows_ForEveryCaller()
    {
        await SeedUsageAsync();
        var callers = await CallersAsync();
        var failures = new List<string>();

        await using var scope = world.Gateway.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        foreach (var entity in TeamOwnedEntities().Where(e => TeamScope.Scoped.Contains(e.ClrType)))
        {
            var check = typeof(TeamScopeIsolationTests).GetMethod(nameof(CheckAsync), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
                .MakeGenericMethod(entity.ClrType);
            await (Task)check.Invoke(this, [db, entity, callers, failures])!;
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private async Task CheckAsync<T>(PortalDb db, IEntityType entity, IReadOnlyList<(string Name, Caller Caller)> callers, List<string> failures) where T : class
    {
        var teamId = entity.FindProperty("TeamId")!;
        var all = await db.Set<T>().AsNoTracking().ToListAsync();
        string TeamOf(T row) => teamId.GetGetter().GetClrValue(row) as string ?? "(none)";
        string Id(T row) => string.Join("/", entity.FindPrimaryKey()!.Properties.Select(p => p.GetGetter().GetClrValue(row)));

        // Rows of both teams, or the comparison proves nothing.
        foreach (var team in new[] { world.TeamA, world.TeamB })
        {
            if (!all.Any(row => TeamOf(row) == team))
            {
                failures.Add($"{entity.ClrType.Name}: the test seeded no row of team {team}");
            }
        }

        foreach (var (name, caller) in callers)
        {
            var scoped = (await db.Set<T>().AsNoTracking().Where(TeamScope.Of<T>(caller)).ToListAsync()).Select(Id).ToHashSet();
            var allowed = all.Where(row => SingleRowRules[typeof(T)](caller, row)).Select(Id).ToHashSet();
            if (!scoped.SetEquals(allowed))
            {
                failures.Add($"{entity.ClrType.Name} as {name}: scope returns [{string.Join(", ", scoped.Except(allowed))}] the rule refuses, "
                    + $"and misses [{string.Join(", ", allowed.Except(scoped))}] the rule allows");
            }
            var leaked = all.Where(row => TeamOf(row) == world.TeamB && scoped.Contains(Id(row))).Select(Id).ToList();
            if (!caller.IsProxyAdmin && leaked.Count > 0)
            {
                failures.Add($"{entity.ClrType.Name} as {name}: a team-A caller's scope returns team B's rows [{string.Join(", ", leaked)}]");
            }
        }
    }

    private IReadOnlyList<IEntityType> TeamOwnedEntities()
    {
        using var scope = world.Gateway.Services.CreateScope();
        return [.. scope.ServiceProvider.GetRequiredService<PortalDb>().Model.GetEntityTypes().Where(e => e.FindProperty("TeamId") is not null)];
    }

    private static bool Records(Caller caller, string? teamId) =>
        teamId is null ? Rules.CanAdministerProxy(caller) : Rules.Can(caller, TeamPermission.Administer, teamId);

    /// <summary>Every matrix caller that authenticates, and the portal users behind its keys, signed in.</summary>
    private async Task<IReadOnlyList<(string Name, Caller Caller)>> CallersAsync()
    {
        var resolver = world.Gateway.Services.GetRequiredService<CallerResolver>();
        var callers = new List<(string, Caller)>();
        foreach (var who in Enum.GetValues<Who>().Where(w => w < Who.ExpiredKey))
        {
            var caller = resolver.FromKey(world.Keys[who]);
            callers.Add((who.ToString(), caller));
            if (caller.UserId is { } userId)
            {
                callers.Add(($"portal user of {who}", resolver.FromUser(userId)));
            }
        }
        return callers;
    }

    /// <summary>Spend logs of both teams: one call with a key of each, waited for until the usage writer has stored it.</summary>
    private async Task SeedUsageAsync()
    {
        foreach (var (key, model) in new[] { (world.Keys[Who.TeamKey]!, MatrixWorld.ModelA), (world.TargetKeys[Target.OtherTeam], MatrixWorld.ModelB) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = JsonContent.Create(new { model, messages = new[] { new { role = "user", content = "hi" } } }),
            }.WithKey(key);
            using var response = await world.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        for (var waited = 0; waited < 100; waited++)
        {
            await using var scope = world.Gateway.Services.CreateAsyncScope();
            var teams = await scope.ServiceProvider.GetRequiredService<PortalDb>().Usage.Select(u => u.TeamId).Distinct().ToListAsync();
            if (teams.Contains(world.TeamA) && teams.Contains(world.TeamB))
            {
                return;
            }
            await Task.Delay(100);
        }
    }
}
