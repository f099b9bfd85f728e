namespace Proxy.Core.Usage;

/// <summary>
/// What one retention run deleted: raw rows started before <see cref="RawCutoff"/>, daily rows of days before
/// <see cref="DailyCutoff"/>; <see cref="LongestHold"/> is the longest any batch held the write gate (what a write
/// queued behind retention waited at most).
/// </summary>
public sealed record UsageRetentionRun(
    DateTime? RawCutoff, long RawRowsDeleted, int Batches, DateOnly? DailyCutoff, long DailyRowsDeleted, TimeSpan Took, TimeSpan LongestHold);
