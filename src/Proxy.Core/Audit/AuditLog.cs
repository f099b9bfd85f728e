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
}
