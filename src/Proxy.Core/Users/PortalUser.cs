using Microsoft.AspNetCore.Identity;

namespace Proxy.Core.Users;

/// <summary>A person: a portal account (with a password) or a user named in a team or key (without one, until set).</summary>
public sealed class PortalUser : IdentityUser, Spend.IBudgeted
{
    public double? MaxBudget { get; set; }
    public double Spend { get; set; }
    public string? BudgetDuration { get; set; }
    public DateTime? BudgetResetAt { get; set; }

    /// <summary>
    /// LiteLLM's user <c>models</c>: the global models this user's keys may call when a key's own <c>models</c> is empty;
    /// empty means no restriction.
    /// </summary>
    public List<string> Models { get; set; } = [];

    /// <summary>Requests and tokens per minute across all of the user's keys, together.</summary>
    public long? TpmLimit { get; set; }
    public long? RpmLimit { get; set; }

    public bool IsProxyAdmin { get; set; }
    public bool Disabled { get; set; }
    public DateTime CreatedAt { get; set; }
}
