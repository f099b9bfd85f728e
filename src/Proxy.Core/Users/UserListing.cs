namespace Proxy.Core.Users;

/// <summary>A portal user as the admin page lists them: the account and the teams they are in, by name, with their role.</summary>
public sealed record UserListing(PortalUser User, IReadOnlyList<UserListing.Team> Teams)
{
    /// <summary>A team the user is in: its id (for a link), its alias (what people read) and the user's role there.</summary>
    public sealed record Team(string TeamId, string? TeamAlias, string Role);
}
