using Proxy.Core.Teams;

namespace Proxy.Core.Access;

/// <summary>Rules about a team's admins as a group, beyond what one caller may do.</summary>
public static class TeamAdmins
{
    /// <summary>
    /// A team admin cannot remove or demote the team's last admin (the team would be left unmanaged); the proxy admin can.
    /// Throws the 400 the caller sees.
    /// </summary>
    public static void DemandAnotherAdmin(Caller caller, Team team, TeamMembership leaving)
    {
        if (!Rules.CanAdministerProxy(caller) && leaving.Role == TeamRole.Admin && team.Members.Count(m => m.Role == TeamRole.Admin) == 1)
        {
            throw ProxyError.BadRequest($"User {leaving.User?.Email ?? leaving.UserId} is the last admin of team {team.TeamId}. Make another member admin first.", "user_id");
        }
    }
}
