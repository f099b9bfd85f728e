namespace Proxy.Core.Reports;

/// <summary>The grouping columns of a <see cref="DailyUsage"/> row, as a struct: a batch is summed per key without an allocation per row.</summary>
internal readonly record struct DailyUsageKey(DateOnly Day, string TeamId, string KeyHash, string UserId, string Model, string Provider)
{
    /// <summary>The primary key's order (team, day, key, user, model, provider): rows upserted in it visit each page of the key once.</summary>
    public static readonly Comparison<KeyValuePair<DailyUsageKey, DailyTotals>> InTableOrder = static (a, b) =>
    {
        var (x, y) = (a.Key, b.Key);
        var order = string.CompareOrdinal(x.TeamId, y.TeamId);
        if (order == 0) order = x.Day.CompareTo(y.Day);
        if (order == 0) order = string.CompareOrdinal(x.KeyHash, y.KeyHash);
        if (order == 0) order = string.CompareOrdinal(x.UserId, y.UserId);
        if (order == 0) order = string.CompareOrdinal(x.Model, y.Model);
        if (order == 0) order = string.CompareOrdinal(x.Provider, y.Provider);
        return order;
    };
}
