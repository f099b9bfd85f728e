namespace Proxy.Core.Usage;

/// <summary>
/// Which page of <c>/spend/logs</c>: <see cref="Size"/> rows after the row whose id is <see cref="After"/> (the
/// cursor, any depth at the same cost), or the <see cref="Page"/>-th page from the newest (OFFSET, which reads and
/// discards the rows it skips, so it is bounded by <see cref="MaxSkipped"/>).
/// </summary>
public sealed record SpendLogPaging(int Size, int Page = 1, long? After = null)
{
    /// <summary>The most rows a <c>page</c> may skip; deeper pages take the cursor.</summary>
    public const int MaxSkipped = 10_000;
}
