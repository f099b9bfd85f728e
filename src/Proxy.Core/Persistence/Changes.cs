using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Audit;
using Proxy.Core.Routing;

namespace Proxy.Core.Persistence;

/// <summary>
/// How every management write happens: one transaction that first bumps the route-data version (which also
/// queues concurrent writers behind each other), makes the change, records its audit event, commits, and then
/// refreshes the route snapshot so the change is live on the very next request.
/// </summary>
public sealed partial class Changes(PortalDb db, RouteTable routes, WriteGate gate, TimeProvider time, Microsoft.Extensions.Logging.ILogger<Changes> log)
{
    public PortalDb Db => db;

    public DateTime Now => time.GetUtcNow().UtcDateTime;

    private readonly HashSet<string> _teams = new(StringComparer.Ordinal);
    private bool _everything;

    /// <summary>
    /// Runs <paramref name="change"/> in one transaction and makes it live. The change says what it touched with
    /// <see cref="TouchTeam"/> or <see cref="TouchEverything"/>, so every instance reloads only that.
    /// </summary>
    public async Task<T> ApplyAsync<T>(Func<Task<T>> change, CancellationToken ct)
    {
        T result;
        _teams.Clear();
        _everything = false;
        if (!await gate.WaitAsync(Database.LockWait(db), ct))
        {
            throw ProxyError.Unavailable("The database is busy with other changes. Nothing was changed; retry in a moment.");
        }
        try
        {
            result = await CommitAsync(change, ct);
        }
        finally
        {
            gate.Release();
        }
        try
        {
            await routes.RefreshAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            // The change is committed and must be reported as done; the sync loop applies it as soon as the database lets it.
            LogRefreshDeferred(e.GetType().Name);
        }
        return result;
    }

    private async Task<T> CommitAsync<T>(Func<Task<T>> change, CancellationToken ct)
    {
        T result;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            await db.RouteDataVersions.Where(v => v.Id == 1)
                .ExecuteUpdateAsync(s => s.SetProperty(v => v.Version, v => v.Version + 1), ct);
            result = await change();
            var version = await db.RouteDataVersions.Where(v => v.Id == 1).Select(v => v.Version).SingleAsync(ct);
            if (_everything || _teams.Count == 0)
            {
                db.RouteChanges.Add(new RouteChange { Version = version });
            }
            else
            {
                db.RouteChanges.AddRange(_teams.Select(team => new RouteChange { Version = version, TeamId = team }));
            }
            if (version % 1000 == 0)
            {
                // Instances further behind than this reload everything anyway.
                await db.RouteChanges.Where(c => c.Version < version - RouteTable.ChangeLogLength).ExecuteDeleteAsync(ct);
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        return result;
    }

    [Microsoft.Extensions.Logging.LoggerMessage(40, Microsoft.Extensions.Logging.LogLevel.Warning, "Change committed, but refreshing the route snapshot failed ({Error}); the sync loop will apply it")]
    private partial void LogRefreshDeferred(string error);

    /// <summary>This change affects one team's keys, members, models or settings.</summary>
    public void TouchTeam(string teamId) => _teams.Add(teamId);

    /// <summary>This change affects something outside any one team (users, global models, teamless keys).</summary>
    public void TouchEverything() => _everything = true;

    /// <summary>Records an audit event in the current change. <paramref name="details"/> must hold no secret.</summary>
    public void Audit(Caller caller, string action, string? teamId, string? targetId, object? details = null) =>
        db.AuditEvents.Add(new AuditEvent
        {
            At = Now,
            Actor = caller.Actor,
            Action = action,
            TeamId = teamId,
            TargetId = targetId,
            Details = details is null ? null : JsonSerializer.Serialize(details, AuditJson),
        });

    private static readonly JsonSerializerOptions AuditJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
}
