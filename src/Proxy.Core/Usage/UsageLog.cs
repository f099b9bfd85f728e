using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;

namespace Proxy.Core.Usage;

/// <summary>Reads recorded LLM calls for a team's admins and the proxy admin.</summary>
public sealed class UsageLog(PortalDb db)
{
    /// <summary>Calls, tokens and spend per model per day over the last <paramref name="days"/> days, for the portal's charts.</summary>
    public async Task<IReadOnlyList<UsagePoint>> DailyAsync(Caller caller, string teamId, int days, CancellationToken ct = default)
    {
        Rules.DemandTeamRecords(caller, teamId, "spend logs");
        var since = DateTime.UtcNow.Date.AddDays(1 - days);
        var rows = await db.Usage.AsNoTracking().Where(u => u.TeamId == teamId && u.StartedAt >= since)
            .Select(u => new { u.Model, u.StartedAt, u.TotalTokens, u.Spend }).ToListAsync(ct);
        return rows.GroupBy(r => (r.Model, Day: r.StartedAt.Date))
            .Select(g => new UsagePoint(g.Key.Model, g.Key.Day, g.Count(), g.Sum(r => (long)r.TotalTokens), g.Sum(r => r.Spend)))
            .OrderBy(p => p.Day).ThenBy(p => p.Model).ToList();
    }

    public async Task<(IReadOnlyList<UsageRecord> Records, int Total)> ListAsync(Caller caller, string? teamId, int page, int pageSize, CancellationToken ct = default)
    {
        Rules.DemandTeamRecords(caller, teamId, "spend logs");
        var query = db.Usage.AsNoTracking().Where(TeamRecords.Of<UsageRecord>(caller, u => u.TeamId));
        if (teamId is not null)
        {
            query = query.Where(u => u.TeamId == teamId);
        }
        var total = await query.CountAsync(ct);
        var records = await query.OrderByDescending(u => u.StartedAt).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return (records, total);
    }
}

public sealed record UsagePoint(string Model, DateTime Day, int Calls, long Tokens, double Spend);
