namespace Proxy.Core.Users;

/// <summary>Fields of a user to create or change (<c>/user/new</c>, <c>/user/update</c>); null means "not given".</summary>
public sealed record UserInput
{
    public string? UserId { get; init; }
    public string? UserEmail { get; init; }

    /// <summary>LiteLLM's <c>user_role</c>: <c>internal_user</c> (the default) or <c>proxy_admin</c>.</summary>
    public string? UserRole { get; init; }

    /// <summary><c>/user/new</c> only: the team the new user joins as a <c>user</c> member (their new key is that team's).</summary>
    public string? TeamId { get; init; }

    /// <summary>The global models the user's keys with an empty <c>models</c> may call; null keeps them, [] lifts the restriction.</summary>
    public List<string>? Models { get; init; }

    /// <summary>Limits: absent keeps the stored one, null removes it.</summary>
    public Optional<double?> MaxBudget { get; init; }
    public Optional<string?> BudgetDuration { get; init; }
    public Optional<long?> TpmLimit { get; init; }
    public Optional<long?> RpmLimit { get; init; }
}

/// <summary>A user with what <c>/user/info</c> shows beside it: their keys and their teams with their membership in each (role, budget, spend).</summary>
public sealed record UserView(PortalUser User, IReadOnlyList<Keys.VirtualKey> Keys, IReadOnlyList<(Teams.Team Team, Teams.TeamMembership Membership)> Teams);

public static class UserRole
{
    public const string InternalUser = "internal_user";
    public const string ProxyAdmin = "proxy_admin";
    public const string ProxyAdminViewer = "proxy_admin_viewer";
    public const string InternalUserViewer = "internal_user_viewer";

    public static string Of(PortalUser user) => user.IsProxyAdmin ? ProxyAdmin : InternalUser;

    /// <summary>
    /// True for proxy_admin, false for internal_user; a 400 for LiteLLM's read-only roles (the gateway has none, and
    /// granting more or less than asked would be untrue) and for anything else.
    /// </summary>
    public static bool IsProxyAdmin(string role) => role switch
    {
        ProxyAdmin => true,
        InternalUser => false,
        ProxyAdminViewer or InternalUserViewer => throw ProxyError.BadRequest(
            $"user_role '{role}' is not supported: this gateway has no read-only roles. Use {InternalUser} or {ProxyAdmin}.", "user_role"),
        _ => throw ProxyError.BadRequest($"user_role '{role}' is not supported: use {InternalUser} or {ProxyAdmin}.", "user_role"),
    };
}
