namespace Proxy.Core;

/// <summary>The <c>Proxy</c> configuration section.</summary>
public sealed class ProxyOptions
{
    public const string Section = "Proxy";

    /// <summary>The proxy admin's key. Also read from env <c>LITELLM_MASTER_KEY</c>.</summary>
    public string? MasterKey { get; set; }

    /// <summary>Protects provider keys at rest; lives outside the database.</summary>
    public string? EncryptionKey { get; set; }

    /// <summary>Keys that encrypted older rows; used to decrypt, and re-encrypted with <see cref="EncryptionKey"/> at start-up.</summary>
    public List<string> PreviousEncryptionKeys { get; set; } = [];

    /// <summary>How often an instance checks whether another instance changed the route data.</summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often budget periods are checked for their reset and rate windows are shared with other instances.</summary>
    public TimeSpan SpendSyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary><c>Proxy:Budgets</c>: unpriced models and the default output reservation.</summary>
    public Spend.BudgetOptions Budgets { get; set; } = new();
}
