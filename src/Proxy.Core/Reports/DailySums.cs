using System.Runtime.InteropServices;
using Proxy.Core.Usage;

namespace Proxy.Core.Reports;

/// <summary>
/// A batch of usage rows summed per <see cref="DailyUsageKey"/>, in one pass, for the usage writer to upsert into
/// <c>daily_usage</c>. Kept by the writer and reused batch after batch: its dictionary and list grow to the largest
/// batch's groups once, and a row costs a hash lookup and a few additions (its strings are the record's own).
/// </summary>
internal sealed class DailySums
{
    private readonly Dictionary<DailyUsageKey, DailyTotals> _sums = [];
    private readonly List<KeyValuePair<DailyUsageKey, DailyTotals>> _rows = [];

    /// <summary>The sums of the last <see cref="Of"/>, in the table's key order.</summary>
    public List<KeyValuePair<DailyUsageKey, DailyTotals>> Rows => _rows;

    public DailySums Of(List<UsageRecord> batch)
    {
        _sums.Clear();
        _rows.Clear();
        foreach (var r in batch)
        {
            var key = new DailyUsageKey(DateOnly.FromDateTime(r.StartedAt), r.TeamId ?? "", r.KeyHash, r.UserId ?? "", r.Model, r.Provider);
            CollectionsMarshal.GetValueRefOrAddDefault(_sums, key, out _).Add(r);
        }
        foreach (var sum in _sums)
        {
            _rows.Add(sum);
        }
        // Also one lock order for every instance's upserts, so two writers on PostgreSQL never deadlock on the same rows.
        _rows.Sort(DailyUsageKey.InTableOrder);
        return this;
    }
}
