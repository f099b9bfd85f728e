namespace Proxy.Core.Teams;

public sealed class Team : Alerts.IAlerted
{
    public string TeamId { get; set; } = "";
    public string? TeamAlias { get; set; }

    /// <summary>Public model names the team may call; empty means every global model.</summary>
    public List<string> Models { get; set; } = [];

    public double? MaxBudget { get; set; }
    public double Spend { get; set; }
    public string? BudgetDuration { get; set; }
    public DateTime? BudgetResetAt { get; set; }

    /// <summary>LiteLLM's <c>soft_budget</c> (USD): crossing it sends an alert, never refuses a call.</summary>
    public double? SoftBudget { get; set; }

    /// <summary>The <see cref="Alerts.BudgetThreshold"/>s already alerted in the current budget period.</summary>
    public Alerts.BudgetThreshold AlertsSent { get; set; }

    /// <summary>
    /// The team's own webhook for budget alerts, sealed with <see cref="Secrets.SecretBox"/>: a Slack incoming-webhook
    /// URL is a bearer secret. Null: alerts go to the operator's webhook only.
    /// </summary>
    public string? AlertWebhookCipher { get; set; }
    public long? TpmLimit { get; set; }
    public long? RpmLimit { get; set; }
    public bool Blocked { get; set; }
    public string? Metadata { get; set; }

    /// <summary>LiteLLM's <c>router_settings</c> (strategy, fallbacks, retries, cooldown) as JSON; null: the gateway's defaults.</summary>
    public string? RouterSettings { get; set; }

    /// <summary>
    /// LiteLLM's <c>model_aliases</c>: a name the team's callers send → the model name it stands for (docs/api.md section 3).
    /// Not the team models' public → internal names, which live in <see cref="Models.ModelAlias"/> rows.
    /// </summary>
    public Dictionary<string, string> ModelAliases { get; set; } = [];

    /// <summary>
    /// LiteLLM's <c>team_member_permissions</c>: the key routes plain members may use on their own keys of the team;
    /// null: <see cref="TeamMemberPermissions.Default"/> (self-service).
    /// </summary>
    public List<string>? TeamMemberPermissions { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public string UpdatedBy { get; set; } = "";

    public List<TeamMembership> Members { get; set; } = [];
}

public static class TeamRole
{
    public const string Admin = "admin";
    public const string User = "user";

    public static bool IsValid(string role) => role is Admin or User;
}

public sealed class TeamMembership
{
    public string TeamId { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Role { get; set; } = TeamRole.User;

    /// <summary>LiteLLM's <c>max_budget_in_team</c> (USD): what this member may spend with this team's keys; null: no limit.</summary>
    public double? MaxBudgetInTeam { get; set; }

    /// <summary>USD this member has spent with this team's keys (keys with this team and this user), since joining.</summary>
    public double Spend { get; set; }
    public Users.PortalUser? User { get; set; }
}
