namespace Proxy.Core.Teams;

/// <summary>
/// LiteLLM's <c>team_member_permissions</c>: the key routes a team's plain members (role <c>user</c>) may use on their
/// own keys of the team. A team that never set it gets <see cref="Default"/>: members create and handle keys of their
/// own (issue 30's self-service; LiteLLM's default is read-only, <see cref="ReadOnly"/>, which is what a team admin's
/// "off" stores). Only the values this gateway enforces are accepted: a value it would store and ignore is refused.
/// </summary>
public static class TeamMemberPermissions
{
    /// <summary>Create a key of the team for oneself.</summary>
    public const string Generate = "/key/generate";
    /// <summary>Change (and block or unblock) one's own key of the team.</summary>
    public const string Update = "/key/update";
    public const string Delete = "/key/delete";
    /// <summary>Regenerate one's own key of the team (also <c>/key/{key}/regenerate</c>).</summary>
    public const string Regenerate = "/key/regenerate";
    /// <summary>See the team's other keys, masked (name and alias only), beside one's own.</summary>
    public const string Info = "/key/info";

    /// <summary>Members create, change, regenerate and delete keys of their own, and see the team's others masked.</summary>
    public static readonly IReadOnlyList<string> SelfService = [Info, Generate, Update, Regenerate, Delete];

    /// <summary>A team that never set the list: self-service, as the portal's quick start promises members.</summary>
    public static readonly IReadOnlyList<string> Default = SelfService;

    /// <summary>LiteLLM's default (<c>/key/info</c>, and <c>/key/health</c>, a route this gateway does not have): the switch's "off".</summary>
    public static readonly IReadOnlyList<string> ReadOnly = [Info];

    public static readonly IReadOnlyList<string> Supported = [Generate, Update, Delete, Regenerate, Info];

    /// <summary>The team's list, or <see cref="Default"/> when it has none.</summary>
    public static IReadOnlyList<string> Of(Team team) => team.TeamMemberPermissions ?? Default;

    /// <summary>The list to store: distinct, each a supported value (a 400 names the first that is not).</summary>
    public static List<string> Checked(IEnumerable<string> permissions)
    {
        var list = new List<string>();
        foreach (var permission in permissions)
        {
            var known = permission == "/key/{key_id}/regenerate" ? Regenerate : permission;
            if (!Supported.Contains(known))
            {
                throw ProxyError.BadRequest(
                    $"team_member_permissions value '{permission}' is not supported. Supported: {string.Join(", ", Supported)}.", "team_member_permissions");
            }
            if (!list.Contains(known))
            {
                list.Add(known);
            }
        }
        return list;
    }

    /// <summary>True when the team's members may create their own keys.</summary>
    public static bool AllowsSelfService(Team team) => Of(team).Contains(Generate);
}
