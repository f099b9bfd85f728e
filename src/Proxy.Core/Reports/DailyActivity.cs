using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;

namespace Proxy.Core.Reports;

/// <summary>
/// Daily activity reports (LiteLLM's <c>/team/daily/activity</c> and <c>/user/daily/activity</c>, the portal's Usage tab).
/// PLACEHOLDER implementation over the raw usage rows, so that the REST and portal work can start; it is replaced by a
/// read of the daily aggregates.
/// </summary>
public sealed class DailyActivity(PortalDb db)
{
    /// <summary>The given teams' days; each team must be one the caller may read the records of.</summary>
    public async Task<ActivityReport> ForTeamsAsync(Caller caller, ActivityQuery query, CancellationToken ct = default)
    {
        var teams = query.TeamIds ?? [];
        foreach (var team in teams)
        {
            Rules.DemandTeamRecords(caller, team, "daily activity");
        }
        var rows = db.Usage.AsNoTracking().Where(u => u.TeamId != null && teams.Contains(u.TeamId));
        return await ReadAsync(rows, query, ct);
    }

    /// <summary>One user's days, across their teams.</summary>
    public async Task<ActivityReport> ForUserAsync(Caller caller, ActivityQuery query, CancellationToken ct = default)
    {
        var userId = query.UserId ?? caller.UserId ?? throw ProxyError.BadRequest("user_id is required.", "user_id");
        if (userId != caller.UserId && !Rules.CanAdministerProxy(caller))
        {
            throw ProxyError.Forbidden("Only the proxy admin can read another user's daily activity.");
        }
        return await ReadAsync(db.Usage.AsNoTracking().Where(u => u.UserId == userId), query, ct);
    }

    private static async Task<ActivityReport> ReadAsync(IQueryable<Usage.UsageRecord> rows, ActivityQuery query, CancellationToken ct)
    {
        var from = query.Start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var until = query.End.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        rows = rows.Where(u => u.StartedAt >= from && u.StartedAt < until);
        if (query.Model is { } model)
        {
            rows = rows.Where(u => u.Model == model);
        }
        if (query.KeyHash is { } keyHash)
        {
            rows = rows.Where(u => u.KeyHash == keyHash);
        }
        var list = await rows.Select(u => new { u.StartedAt, u.Model, u.KeyHash, u.TeamId, u.Status, u.PromptTokens, u.CompletionTokens, u.Spend }).ToListAsync(ct);
        var days = list.GroupBy(r => DateOnly.FromDateTime(r.StartedAt)).OrderByDescending(g => g.Key).Select(g =>
        {
            static ActivityMetrics Sum(IEnumerable<dynamic> rs) => rs.Aggregate(ActivityMetrics.Zero, (m, r) => m.Plus(
                new ActivityMetrics(r.Spend, r.PromptTokens, r.CompletionTokens, 0, 0, 1, r.Status < 400 ? 1 : 0, r.Status < 400 ? 0 : 1)));
            return new ActivityDay(g.Key, Sum(g),
                g.GroupBy(r => r.Model).ToDictionary(m => m.Key, m => Sum(m)),
                new Dictionary<string, ActivityMetrics>(),
                g.GroupBy(r => r.KeyHash).ToDictionary(k => k.Key, k => new KeyActivity(Sum(k), null, k.First().TeamId)));
        }).ToList();
        var size = Math.Clamp(query.PageSize, 1, ActivityQuery.MaxPageSize);
        var pages = Math.Max(1, (days.Count + size - 1) / size);
        var totals = days.Aggregate(ActivityMetrics.Zero, (m, d) => m.Plus(d.Metrics));
        return new ActivityReport(days.Skip((query.Page - 1) * size).Take(size).ToList(), totals, query.Page, pages, query.Page < pages);
    }
}
