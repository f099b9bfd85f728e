namespace Proxy.Core.Usage;

/// <summary>A page of the call log, newest first, and whether there are older or newer calls beyond it.</summary>
public sealed record CallLogPage(IReadOnlyList<UsageRecord> Rows, bool HasOlder, bool HasNewer)
{
    public CallLogCursor? Oldest => Rows.Count == 0 ? null : CallLogCursor.Of(Rows[^1]);
    public CallLogCursor? Newest => Rows.Count == 0 ? null : CallLogCursor.Of(Rows[0]);
}
