namespace Proxy.Core.Usage;

/// <summary>
/// Which rows of <c>/spend/logs</c>: <see cref="Size"/> rows after the row whose id is <see cref="After"/> (the cursor,
/// any depth at the same cost), or after skipping <see cref="Skip"/> rows from the newest (OFFSET, which reads and
/// discards the rows it skips, so it is bounded by <see cref="MaxSkipped"/>).
/// </summary>
public sealed record SpendLogPaging(int Size, int Skip = 0, long? After = null)
{
    /// <summary>The most rows a <c>page</c> may skip; deeper pages take the cursor.</summary>
    public const int MaxSkipped = 10_000;
}
