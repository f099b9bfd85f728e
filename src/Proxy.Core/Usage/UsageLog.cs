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

    public Task<(IReadOnlyList<UsageRecord> Records, int Total)> ListAsync(Caller caller, string? teamId, int page, int pageSize, CancellationToken ct = default) =>
        ListAsync(caller, new SpendLogFilter(TeamId: teamId), page, pageSize, ct);

    /// <summary>
    /// The rows every given filter matches (AND), within what the rule book lets the caller read: the team's rows for
    /// its admins, every row for the proxy admin. A filter never widens that: another team's request id is no row.
    /// </summary>
    public async Task<(IReadOnlyList<UsageRecord> Records, int Total)> ListAsync(Caller caller, SpendLogFilter filter, int page, int pageSize, CancellationToken ct = default)
    {
        Rules.DemandTeamRecords(caller, filter.TeamId, "spend logs");
        var query = db.Usage.AsNoTracking().Where(TeamRecords.Of<UsageRecord>(caller, u => u.TeamId));
        if (filter.TeamId is { } teamId)
        {
            query = query.Where(u => u.TeamId == teamId);
        }
        if (filter.RequestId is { } requestId)
        {
            query = query.Where(u => u.CallId == requestId || u.ResponseId == requestId);
        }
        if (filter.ApiKey is { } apiKey)
        {
            var hash = Keys.KeyMaterial.ToHash(apiKey);
            query = query.Where(u => u.KeyHash == hash);
        }
        if (filter.UserId is { } userId)
        {
            query = query.Where(u => u.UserId == userId);
        }
        var total = await query.CountAsync(ct);
        var records = await query.OrderByDescending(u => u.StartedAt).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct);
        return (records, total);
    }
}

/// <summary>
/// <c>GET /spend/logs</c>' filters, combined with AND. <see cref="RequestId"/> is the gateway's call id
/// (<c>x-litellm-call-id</c>) or the provider answer's <c>id</c>; <see cref="ApiKey"/> the raw key or its hash.
/// </summary>
public sealed record SpendLogFilter(string? RequestId = null, string? ApiKey = null, string? UserId = null, string? TeamId = null);

public sealed record UsagePoint(string Model, DateTime Day, int Calls, long Tokens, double Spend);
