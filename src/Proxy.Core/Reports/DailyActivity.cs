using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;

namespace Proxy.Core.Reports;

/// <summary>
/// Daily activity reports (LiteLLM's <c>/team/daily/activity</c> and <c>/user/daily/activity</c>, the portal's Usage
/// tab), read from the daily aggregates (<see cref="DailyUsage"/>) only, never from the raw usage rows: a report costs
/// the aggregate rows of its range, whatever number of calls they sum. Two reads in one snapshot: the range's sums per
/// day (the totals and the page count), then the page's days split by key, model and provider; and the page's keys'
/// aliases from the key table.
/// </summary>
public sealed class DailyActivity(PortalDb db)
{
    /// <summary>
    /// The given teams' days; each team must be one the caller may read (<see cref="ActivityVisibility"/>). Without
    /// teams: every team's for the proxy admin, the caller's own teams' for anyone else.
    /// </summary>
    public async Task<ActivityReport> ForTeamsAsync(Caller caller, ActivityQuery query, CancellationToken ct = default)
    {
        var teams = ActivityVisibility.Teams(caller, query.TeamIds);
        var rows = db.DailyUsage.AsNoTracking();
        if (teams is null)
        {
            rows = rows.Where(d => d.TeamId != "");
        }
        else if (teams.Count == 1)
        {
            var teamId = teams[0];
            rows = rows.Where(d => d.TeamId == teamId);
        }
        else
        {
            var teamIds = teams.Distinct().ToArray();
            rows = rows.Where(d => teamIds.Contains(d.TeamId));
        }
        return teams is { Count: 0 } ? Empty(query) : await ReadAsync(rows, query, ct);
    }

    /// <summary>One user's days, across their teams (<see cref="ActivityQuery.UserId"/>, else the caller's own); every user's for the proxy admin without one.</summary>
    public async Task<ActivityReport> ForUserAsync(Caller caller, ActivityQuery query, CancellationToken ct = default)
    {
        var userId = ActivityVisibility.User(caller, query.UserId);
        var rows = db.DailyUsage.AsNoTracking();
        if (userId is not null)
        {
            rows = rows.Where(d => d.UserId == userId);
        }
        return await ReadAsync(rows, query, ct);
    }

    private async Task<ActivityReport> ReadAsync(IQueryable<DailyUsage> rows, ActivityQuery query, CancellationToken ct)
    {
        if (query.End < query.Start)
        {
            throw ProxyError.BadRequest($"end_date ({query.End:yyyy-MM-dd}) is before start_date ({query.Start:yyyy-MM-dd}).", "end_date");
        }
        var (start, end) = (query.Start, query.End);
        rows = rows.Where(d => d.Day >= start && d.Day <= end);
        if (query.Model is { } model)
        {
            rows = rows.Where(d => d.Model == model);
        }
        if (query.KeyHash is { } keyHash)
        {
            rows = rows.Where(d => d.KeyHash == keyHash);
        }

        await using var snapshot = await Database.BeginReadAsync(db, ct);
        var days = await rows.GroupBy(d => d.Day)
            .Select(g => new Sums(g.Key, "", "", "", "", g.Sum(d => d.Spend), g.Sum(d => d.PromptTokens), g.Sum(d => d.CompletionTokens),
                g.Sum(d => d.CacheReadTokens), g.Sum(d => d.CacheCreationTokens), g.Sum(d => d.ApiRequests), g.Sum(d => d.SuccessfulRequests), g.Sum(d => d.FailedRequests)))
            .ToListAsync(ct);
        days.Sort((a, b) => b.Day.CompareTo(a.Day));

        var totals = ActivityMetrics.Zero;
        foreach (var day in days)
        {
            totals = totals.Plus(day.Metrics);
        }
        var size = Math.Clamp(query.PageSize, 1, ActivityQuery.MaxPageSize);
        var page = Math.Max(1, query.Page);
        var pages = Math.Max(1, (days.Count + size - 1) / size);
        var shown = days.Skip((page - 1) * size).Take(size).ToList();
        if (shown.Count == 0)
        {
            return new ActivityReport([], totals, page, pages, false);
        }

        var (newest, oldest) = (shown[0].Day, shown[^1].Day);
        var parts = await rows.Where(d => d.Day >= oldest && d.Day <= newest)
            .GroupBy(d => new { d.Day, d.KeyHash, d.TeamId, d.Model, d.Provider })
            .Select(g => new Sums(g.Key.Day, g.Key.KeyHash, g.Key.TeamId, g.Key.Model, g.Key.Provider, g.Sum(d => d.Spend), g.Sum(d => d.PromptTokens),
                g.Sum(d => d.CompletionTokens), g.Sum(d => d.CacheReadTokens), g.Sum(d => d.CacheCreationTokens), g.Sum(d => d.ApiRequests),
                g.Sum(d => d.SuccessfulRequests), g.Sum(d => d.FailedRequests)))
            .ToListAsync(ct);
        var hashes = parts.Select(p => p.KeyHash).Distinct().ToArray();
        var keys = await db.Keys.AsNoTracking().Where(k => hashes.Contains(k.Token))
            .Select(k => new { k.Token, k.KeyAlias, k.TeamId }).ToDictionaryAsync(k => k.Token, ct);

        var byDay = parts.ToLookup(p => p.Day);
        var results = new List<ActivityDay>(shown.Count);
        foreach (var day in shown)
        {
            var models = new Dictionary<string, ActivityMetrics>(StringComparer.Ordinal);
            var providers = new Dictionary<string, ActivityMetrics>(StringComparer.Ordinal);
            var apiKeys = new Dictionary<string, KeyActivity>(StringComparer.Ordinal);
            foreach (var part in byDay[day.Day])
            {
                var metrics = part.Metrics;
                models[part.Model] = models.TryGetValue(part.Model, out var m) ? m.Plus(metrics) : metrics;
                // LiteLLM's name for a provider it could not tell.
                var provider = part.Provider.Length == 0 ? "unknown" : part.Provider;
                providers[provider] = providers.TryGetValue(provider, out var p) ? p.Plus(metrics) : metrics;
                if (apiKeys.TryGetValue(part.KeyHash, out var k))
                {
                    apiKeys[part.KeyHash] = k with { Metrics = k.Metrics.Plus(metrics) };
                }
                else
                {
                    // A deleted key keeps its sums under its hash, with the team it called for.
                    var key = keys.GetValueOrDefault(part.KeyHash);
                    apiKeys[part.KeyHash] = new KeyActivity(metrics, key?.KeyAlias, key is null ? NullIfEmpty(part.TeamId) : key.TeamId);
                }
            }
            results.Add(new ActivityDay(day.Day, day.Metrics, models, providers, apiKeys));
        }
        return new ActivityReport(results, totals, page, pages, page < pages);
    }

    private static ActivityReport Empty(ActivityQuery query) => new([], ActivityMetrics.Zero, Math.Max(1, query.Page), 1, false);

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>Aggregate rows summed by the database: per day (the grouping strings empty), or per day, key, team, model and provider.</summary>
    private sealed record Sums(
        DateOnly Day, string KeyHash, string TeamId, string Model, string Provider, double Spend, long PromptTokens, long CompletionTokens,
        long CacheReadTokens, long CacheCreationTokens, long ApiRequests, long SuccessfulRequests, long FailedRequests)
    {
        public ActivityMetrics Metrics => new(Spend, PromptTokens, CompletionTokens, CacheReadTokens, CacheCreationTokens, ApiRequests, SuccessfulRequests, FailedRequests);
    }
}
