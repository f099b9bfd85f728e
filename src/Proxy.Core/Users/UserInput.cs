namespace Proxy.Core.Users;

/// <summary>Fields of a user to create or change (<c>/user/new</c>, <c>/user/update</c>); null means "not given".</summary>
public sealed record UserInput
{
    public string? UserId { get; init; }
    public string? UserEmail { get; init; }

    /// <summary>LiteLLM's <c>user_role</c>: <c>internal_user</c> (the default) or <c>proxy_admin</c>.</summary>
    public string? UserRole { get; init; }

    /// <summary>Limits: absent keeps the stored one, null removes it.</summary>
    public Optional<double?> MaxBudget { get; init; }
    public Optional<string?> BudgetDuration { get; init; }
}

/// <summary>A user with what <c>/user/info</c> shows beside it: their keys and their teams with their role in each.</summary>
public sealed record UserView(PortalUser User, IReadOnlyList<Keys.VirtualKey> Keys, IReadOnlyList<(Teams.Team Team, string Role)> Teams);

public static class UserRole
{
    public const string InternalUser = "internal_user";
    public const string ProxyAdmin = "proxy_admin";

    public static string Of(PortalUser user) => user.IsProxyAdmin ? ProxyAdmin : InternalUser;

    /// <summary>True for proxy_admin, false for internal_user; a 400 naming both for anything else.</summary>
    public static bool IsProxyAdmin(string role) => role switch
    {
        ProxyAdmin => true,
        InternalUser => false,
        _ => throw ProxyError.BadRequest($"user_role '{role}' is not supported: use {InternalUser} or {ProxyAdmin}.", "user_role"),
    };
}
