using Proxy.Core.Reports;

namespace Portal.Components.Pages.Teams;

/// <summary>A report's days summed per public model and per key over the whole range, largest spend first.</summary>
public static class UsageBreakdown
{
    public static IReadOnlyList<KeyValuePair<string, ActivityMetrics>> ByModel(IEnumerable<ActivityDay> days)
    {
        var sums = new Dictionary<string, ActivityMetrics>(StringComparer.Ordinal);
        foreach (var day in days)
        {
            foreach (var (model, metrics) in day.Models)
            {
                sums[model] = sums.TryGetValue(model, out var sum) ? sum.Plus(metrics) : metrics;
            }
        }
        return Largest(sums);
    }

    /// <summary>Per key hash; the alias is the newest day's (a key renamed in the range shows its latest alias).</summary>
    public static IReadOnlyList<KeyValuePair<string, KeyActivity>> ByKey(IEnumerable<ActivityDay> days)
    {
        var sums = new Dictionary<string, KeyActivity>(StringComparer.Ordinal);
        foreach (var day in days.OrderByDescending(d => d.Date))
        {
            foreach (var (hash, key) in day.ApiKeys)
            {
                sums[hash] = sums.TryGetValue(hash, out var sum) ? sum with { Metrics = sum.Metrics.Plus(key.Metrics) } : key;
            }
        }
        return [.. sums.OrderByDescending(p => p.Value.Metrics.Spend).ThenByDescending(p => p.Value.Metrics.ApiRequests).ThenBy(p => p.Key, StringComparer.Ordinal)];
    }

    private static IReadOnlyList<KeyValuePair<string, ActivityMetrics>> Largest(Dictionary<string, ActivityMetrics> sums) =>
        [.. sums.OrderByDescending(p => p.Value.Spend).ThenByDescending(p => p.Value.ApiRequests).ThenBy(p => p.Key, StringComparer.Ordinal)];
}
