namespace Proxy.Core.Spend;

/// <summary>
/// What one gateway instance has admitted for one rate-limited account in the current minute. Every instance writes
/// its own rows and reads the others', so a key's <c>rpm_limit</c> holds across instances (see <see cref="SpendSync"/>).
/// </summary>
public sealed class RateWindow
{
    public AccountKind Kind { get; set; }
    public string AccountId { get; set; } = "";

    /// <summary>The instance that wrote the row (a new id at every start).</summary>
    public string Instance { get; set; } = "";

    /// <summary>Minutes since the Unix epoch, UTC: every instance's windows start on the same clock minute.</summary>
    public long Window { get; set; }

    public int Requests { get; set; }
    public long Tokens { get; set; }
    public int InFlight { get; set; }

    /// <summary>When the instance last wrote the row: calls in flight of an instance that stopped writing are not counted.</summary>
    public DateTime UpdatedAt { get; set; }
}
