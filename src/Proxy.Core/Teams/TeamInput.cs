namespace Proxy.Core.Teams;

/// <summary>Fields of a team to create or change; null means "not given" (unchanged on update).</summary>
public sealed record TeamInput
{
    public string? TeamId { get; init; }
    public string? TeamAlias { get; init; }
    public List<string>? Models { get; init; }
    /// <summary>Limits: absent keeps the stored one, null removes it.</summary>
    public Optional<double?> MaxBudget { get; init; }
    public Optional<string?> BudgetDuration { get; init; }
    public Optional<long?> TpmLimit { get; init; }
    public Optional<long?> RpmLimit { get; init; }

    /// <summary>LiteLLM's <c>soft_budget</c> (USD): absent keeps it, null removes it.</summary>
    public Optional<double?> SoftBudget { get; init; }

    /// <summary>The team's own webhook for budget alerts (<c>alert_webhook_url</c>): absent keeps it, null removes it.</summary>
    public Optional<string?> AlertWebhookUrl { get; init; }
    public bool? Blocked { get; init; }

    /// <summary>The router settings to store, replacing the team's (already parsed and checked for shape).</summary>
    public Routing.RouterSettings? RouterSettings { get; init; }

    /// <summary>A JSON object, as text.</summary>
    public string? Metadata { get; init; }

    /// <summary>LiteLLM's <c>model_aliases</c>: replaces the team's whole map (an empty one removes them all); null keeps it.</summary>
    public IReadOnlyDictionary<string, string>? ModelAliases { get; init; }

    /// <summary>LiteLLM's <c>tags</c>: kept in <c>metadata.tags</c>, as LiteLLM does.</summary>
    public List<string>? Tags { get; init; }

    public List<MemberInput>? Members { get; init; }

    /// <summary>LiteLLM's <c>team_member_permissions</c>: replaces the team's list; absent keeps it, null restores the default.</summary>
    public Optional<List<string>?> TeamMemberPermissions { get; init; }
}

/// <param name="Role"><c>admin</c> or <c>user</c>; on an update, null keeps the member's role.</param>
/// <param name="MaxBudgetInTeam">LiteLLM's <c>max_budget_in_team</c> (USD): absent keeps it, null removes it.</param>
public sealed record MemberInput(string? UserId, string? UserEmail, string? Role, Optional<double?> MaxBudgetInTeam = default);

/// <summary>
/// A team with what its readers see beside it: the alias table of its own models (public → internal name) and its keys.
/// Its <c>model_aliases</c> are <see cref="Team.ModelAliases"/>.
/// </summary>
/// <param name="AlertWebhook">The team's alert webhook, masked (<see cref="Alerts.TeamWebhook.Mask"/>); null when none is set.</param>
public sealed record TeamView(Team Team, IReadOnlyDictionary<string, string> ModelAliases, IReadOnlyList<Keys.VirtualKey> Keys, string? AlertWebhook = null);
