namespace Proxy.Core.Reports;

/// <summary>
/// What a daily activity report covers: whose calls (<see cref="TeamIds"/>, or one user's with <see cref="UserId"/>),
/// which UTC days (<see cref="Start"/> to <see cref="End"/>, both included), and optionally one public model and one key.
/// A page holds <see cref="PageSize"/> days, newest first.
/// </summary>
public sealed record ActivityQuery(DateOnly Start, DateOnly End)
{
    public IReadOnlyList<string>? TeamIds { get; init; }
    public string? UserId { get; init; }
    public string? Model { get; init; }

    /// <summary>The key's hash (<c>KeyMaterial.ToHash</c>), never the raw key.</summary>
    public string? KeyHash { get; init; }

    public int Page { get; init; } = 1;
    public int PageSize { get; init; } = DefaultPageSize;

    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 1000;
}
