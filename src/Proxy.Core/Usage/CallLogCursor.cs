namespace Proxy.Core.Usage;

/// <summary>
/// Where a page of the call log ends: a row's time and id. The id breaks ties between calls recorded in the same
/// instant, so a page boundary never skips or repeats one.
/// </summary>
public sealed record CallLogCursor(DateTime StartedAt, long Id)
{
    public static CallLogCursor Of(UsageRecord row) => new(row.StartedAt, row.Id);
}
