using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;

namespace Proxy.Core.Audit;

/// <summary>Reads a team's audit events; writing happens inside each change (<see cref="Changes.Audit"/>).</summary>
public sealed class AuditLog(PortalDb db)
{
    public async Task<(IReadOnlyList<AuditEvent> Events, int Total)> ListAsync(Caller caller, string? teamId, int page, int pageSize, CancellationToken ct = default)
    {
        Rules.DemandTeamRecords(caller, teamId, "audit log");
        var query = db.AuditEvents.AsNoTracking().Where(TeamRecords.Of<AuditEvent>(caller, e => e.TeamId));
        if (teamId is not null)
        {
            if (!await db.Teams.AnyAsync(t => t.TeamId == teamId, ct) && !await query.AnyAsync(e => e.TeamId == teamId, ct))
            {
                throw ProxyError.NotFound($"Team id={teamId} does not exist.", "team_id");
            }
            query = query.Where(e => e.TeamId == teamId);
        }
        var total = await query.CountAsync(ct);
        var events = await query.OrderByDescending(e => e.Id).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return (events, total);
    }

    /// <summary>
    /// Id → name for the people and teams <paramref name="events"/> name by id (a member's user id, a key's owner or
    /// team in its changes): emails and team aliases, so <see cref="ActivitySentence"/> shows names. Only ids the
    /// events already carry are looked up; an id without a name (a deleted user) stays as it is.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, string>> NamesAsync(IReadOnlyList<AuditEvent> events, CancellationToken ct = default)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.TeamId is not null) ids.Add(e.TeamId);
            if (e.TargetId is not null) ids.Add(e.TargetId);
            if (ActivitySentence.Parse(e.Details) is { } details)
            {
                foreach (var field in NamedIds)
                {
                    Add(details[field], ids);
                    Add(details[AuditChanges.Field]?[field]?["from"], ids);
                    Add(details[AuditChanges.Field]?[field]?["to"], ids);
                }
            }
        }
        var list = ids.ToList();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var user in await db.Users.AsNoTracking().Where(u => list.Contains(u.Id) && u.Email != null).Select(u => new { u.Id, u.Email }).ToListAsync(ct))
        {
            names[user.Id] = user.Email!;
        }
        foreach (var team in await db.Teams.AsNoTracking().Where(t => list.Contains(t.TeamId) && t.TeamAlias != null).Select(t => new { t.TeamId, t.TeamAlias }).ToListAsync(ct))
        {
            names[team.TeamId] = team.TeamAlias!;
        }
        return names;
    }

    /// <summary>The fields of an event's details that hold an id with a name.</summary>
    private static readonly string[] NamedIds = ["user_id", "team_id"];

    private static void Add(JsonNode? value, HashSet<string> ids)
    {
        if (value is JsonValue v && v.TryGetValue<string>(out var id))
        {
            ids.Add(id);
        }
    }
}
