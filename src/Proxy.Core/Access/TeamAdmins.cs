using Proxy.Core.Teams;

namespace Proxy.Core.Access;

/// <summary>Rules about a team's admins as a group, beyond what one caller may do.</summary>
public static class TeamAdmins
{
    /// <summary>Why <see cref="MustStay"/> holds, in words a page can show beside the refused button.</summary>
    public const string Reason = "The team needs at least one admin.";

    /// <summary>
    /// A team admin cannot remove or demote the team's last admin (the team would be left unmanaged); the proxy admin can.
    /// The portal asks this to disable what the core would refuse.
    /// </summary>
    public static bool MustStay(Caller caller, Team team, TeamMembership member) =>
        !Rules.CanAdministerProxy(caller) && member.Role == TeamRole.Admin && team.Members.Count(m => m.Role == TeamRole.Admin) == 1;

    /// <summary>Throws the 400 the caller sees when <see cref="MustStay"/> holds.</summary>
    public static void DemandAnotherAdmin(Caller caller, Team team, TeamMembership leaving)
    {
        if (MustStay(caller, team, leaving))
        {
            throw ProxyError.BadRequest($"User {leaving.User?.Email ?? leaving.UserId} is the last admin of team {team.TeamId}. Make another member admin first.", "user_id");
        }
    }
}
