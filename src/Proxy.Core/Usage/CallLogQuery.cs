namespace Proxy.Core.Usage;

/// <summary>
/// One page of a team's call log: filters (AND) and where to start. Without a cursor the newest page;
/// <see cref="Before"/> the page of older calls, <see cref="After"/> the page of newer ones.
/// </summary>
public sealed record CallLogQuery
{
    /// <summary>The key's hash (a team key's <c>Token</c>).</summary>
    public string? KeyHash { get; init; }

    /// <summary>The public model name the call asked for.</summary>
    public string? Model { get; init; }

    public CallOutcome Outcome { get; init; }

    /// <summary>One exact status (429, 502, ...), within <see cref="Outcome"/>.</summary>
    public int? Status { get; init; }

    /// <summary>UTC, inclusive.</summary>
    public DateTime? From { get; init; }

    /// <summary>UTC, exclusive.</summary>
    public DateTime? To { get; init; }

    public CallLogCursor? Before { get; init; }
    public CallLogCursor? After { get; init; }

    public int PageSize { get; init; } = 50;

    public const int MaxPageSize = 200;
}
