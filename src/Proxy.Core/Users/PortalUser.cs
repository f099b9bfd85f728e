using Microsoft.AspNetCore.Identity;

namespace Proxy.Core.Users;

/// <summary>A person: a portal account (with a password) or a user named in a team or key (without one, until set).</summary>
public sealed class PortalUser : IdentityUser, Spend.IBudgeted
{
    public double? MaxBudget { get; set; }
    public double Spend { get; set; }
    public string? BudgetDuration { get; set; }
    public DateTime? BudgetResetAt { get; set; }

    public bool IsProxyAdmin { get; set; }
    public bool Disabled { get; set; }
    public DateTime CreatedAt { get; set; }
}
