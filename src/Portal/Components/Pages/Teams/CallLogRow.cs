using Proxy.Core.Usage;

namespace Portal.Components.Pages.Teams;

/// <summary>
/// One call as the Logs tab shows it: its last attempt (the answer the caller got), how many attempts it took, and why
/// the earlier ones failed. The usage log holds a row per attempt; attempts of a call on the same page fold into one.
/// </summary>
public sealed record CallLogRow(UsageRecord Last, IReadOnlyList<string> EarlierErrors)
{
    /// <summary>Attempts are numbered from 0 under one call id, so the last one's number counts the retries and fallbacks.</summary>
    public int Attempts => Last.Attempt + 1;

    /// <summary>The page's rows (newest first) as calls, newest first: a call's later attempt is written after its earlier ones.</summary>
    public static IReadOnlyList<CallLogRow> Fold(IReadOnlyList<UsageRecord> rows) =>
        [.. rows.GroupBy(r => r.CallId).Select(call =>
        {
            var attempts = call.OrderByDescending(r => r.Attempt).ToList();
            return new CallLogRow(attempts[0], [.. attempts.Skip(1).Select(r => r.Error).OfType<string>()]);
        })];
}
