using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;

namespace Proxy.Core.Usage;

/// <summary>Reads recorded LLM calls for a team's admins and the proxy admin.</summary>
public sealed class UsageLog(PortalDb db)
{
    public async Task<(IReadOnlyList<UsageRecord> Records, int Total)> ListAsync(Caller caller, string? teamId, int page, int pageSize, CancellationToken ct = default)
    {
        var query = db.Usage.AsNoTracking();
        if (teamId is null)
        {
            if (!Rules.CanAdministerProxy(caller))
            {
                throw ProxyError.BadRequest("team_id is required.", "team_id");
            }
        }
        else
        {
            if (!Rules.Can(caller, TeamPermission.Administer, teamId))
            {
                throw ProxyError.Forbidden($"Only the proxy admin or an admin of team {teamId} can read its spend logs.");
            }
            query = query.Where(u => u.TeamId == teamId);
        }
        var total = await query.CountAsync(ct);
        var records = await query.OrderByDescending(u => u.StartedAt).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return (records, total);
    }
}
