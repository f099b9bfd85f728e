using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Routing;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Proxy.Core.Access;

/// <summary>
/// The refusals the services throw, each asking <see cref="Rules"/> (or a visibility rule) and answering with the
/// status and message the caller sees. A team-owned row the caller may not see is a 404, never a 403, so another team's
/// objects stay invisible; a visible row the caller may not change is a 403.
/// </summary>
public static class Demand
{
    /// <summary>For what only the proxy admin may do; <paramref name="refusal"/> says what that is.</summary>
    public static void ProxyAdmin(Caller caller, string refusal)
    {
        if (!Rules.CanAdministerProxy(caller))
        {
            throw ProxyError.Forbidden(refusal);
        }
    }

    /// <summary>For the LLM routes and what lists or probes their models: a management key may not; <paramref name="refusal"/> says so for the route.</summary>
    public static void CallModels(Caller caller, string refusal)
    {
        if (!Rules.CanCallModels(caller))
        {
            throw ProxyError.Forbidden(refusal);
        }
    }

    public static void ReadTeam(Caller caller, string teamId)
    {
        if (!Rules.Can(caller, TeamPermission.Read, teamId))
        {
            throw ProxyError.Forbidden(caller.KeyTeamId is { } own
                ? $"This key belongs to team {own} and cannot access team {teamId}."
                : $"You are not a member of team {teamId}.");
        }
    }

    public static void AdministerTeam(Caller caller, string teamId)
    {
        if (!Rules.Can(caller, TeamPermission.Administer, teamId))
        {
            throw ProxyError.Forbidden($"Only the proxy admin or an admin of team {teamId} can do this.");
        }
    }

    /// <summary>A blocked team's keys are refused (<see cref="CallerResolver"/>), so only the proxy admin blocks or unblocks one.</summary>
    public static void BlockTeam(Caller caller, bool isBlocked, bool? blocked)
    {
        if (blocked is not null && blocked != isBlocked && !Rules.CanAdministerProxy(caller))
        {
            throw ProxyError.Forbidden("Only the proxy admin can block or unblock a team.");
        }
    }

    /// <summary>
    /// Keys of a team by the proxy admin or the team's admins, or by a member for themself when the team allows it
    /// (<see cref="Rules.MayHandleOwnKey"/>); keys of no team by the proxy admin. Returns the key's <c>user_id</c>: a
    /// member's own key is theirs even when the request names no user.
    /// </summary>
    public static string? CreateKey(Caller caller, string? teamId, string? userId, IReadOnlyList<string> teamMemberPermissions)
    {
        if (Rules.CanHandleKey(caller, teamId, userId, TeamMemberPermissions.Generate, teamMemberPermissions))
        {
            return userId;
        }
        var owner = userId ?? caller.UserId;
        if (teamId is not null && userId is null && Rules.MayHandleOwnKey(caller, teamId, owner, TeamMemberPermissions.Generate, teamMemberPermissions))
        {
            return owner;
        }
        throw teamId is null
            ? ProxyError.Forbidden("Only the proxy admin can create keys without a team. Pass team_id to create a key for your team.")
            : MemberRefusal(caller, teamId, owner, TeamMemberPermissions.Generate, teamMemberPermissions)
              ?? ProxyError.Forbidden($"Only the proxy admin or an admin of team {teamId} can create its keys.");
    }

    /// <summary>The key, if the caller may see it (<see cref="KeyVisibility"/>); otherwise the 404 of an unknown key.</summary>
    public static VirtualKey VisibleKey(Caller caller, VirtualKey? key) =>
        key is not null && KeyVisibility.Allows(caller, key) ? key : throw ProxyError.NotFound("Key not found, or not visible to you.", "key");

    /// <summary>
    /// A key the caller may change, regenerate or delete (<paramref name="route"/>, see <see cref="TeamMemberPermissions"/>):
    /// 404 when it may not see it, 403 when it may only see it.
    /// </summary>
    public static VirtualKey ManageableKey(Caller caller, VirtualKey? key, string route, IReadOnlyList<string> teamMemberPermissions)
    {
        var visible = VisibleKey(caller, key);
        if (!Rules.CanHandleKey(caller, visible.TeamId, visible.UserId, route, teamMemberPermissions))
        {
            throw visible.TeamId is { } teamId ? MemberRefusal(caller, teamId, visible.UserId, route, teamMemberPermissions)
                    ?? ProxyError.Forbidden($"Only the proxy admin or an admin of the key's team can change key {visible.KeyName}.")
                : ProxyError.Forbidden($"Only the proxy admin or an admin of the key's team can change key {visible.KeyName}.");
        }
        return visible;
    }

    /// <summary>Why a member of <paramref name="teamId"/> may not use <paramref name="route"/> on a key of <paramref name="owner"/>; null for a non-member.</summary>
    private static ProxyError? MemberRefusal(Caller caller, string teamId, string? owner, string route, IReadOnlyList<string> teamMemberPermissions)
    {
        if (caller.UserId is null || !caller.Roles.ContainsKey(teamId))
        {
            return null;
        }
        if (caller.Key?.KeyType == KeyType.LlmApi)
        {
            return ProxyError.Forbidden("llm_api keys can only call models; use a default or management key, or the portal, to manage keys.");
        }
        if (owner != caller.UserId)
        {
            return ProxyError.Forbidden($"A member of team {teamId} can only handle their own keys (user_id {caller.UserId}); a team admin handles the others.");
        }
        return ProxyError.Forbidden(
            $"Members of team {teamId} may not use {route} on their own keys: a team admin can allow it (team_member_permissions). Ask a team admin.");
    }

    /// <summary>The deployment, if the caller may see it (<see cref="ModelVisibility"/>); otherwise the 404 of an unknown model.</summary>
    public static ModelDeployment VisibleModel(Caller caller, TeamEntry? keyTeam, ModelDeployment? deployment, string modelId) =>
        deployment is not null && ModelVisibility.Allows(caller, keyTeam, deployment) ? deployment
            : throw ProxyError.NotFound($"Model id={modelId} does not exist or is not visible to you. List yours with /model/info.", "id");

    /// <summary>Adding, changing and deleting a model of <paramref name="teamId"/> (null: a global model).</summary>
    public static void ManageModel(Caller caller, string? teamId)
    {
        if (Rules.CanManageModel(caller, teamId))
        {
            return;
        }
        if (teamId is null)
        {
            throw ProxyError.Forbidden("Only the proxy admin can manage global models. To add a model for your team, set model_info.team_id.");
        }
        throw ProxyError.Forbidden(caller.KeyTeamId is { } own && own != teamId
            ? $"This key belongs to team {own} and cannot manage models of team {teamId}."
            : caller.Key?.KeyType == KeyType.LlmApi
                ? "llm_api keys can only call models; use a default or management key to manage them."
                : $"Only the proxy admin, an admin of team {teamId}, or a key of team {teamId} can manage its models.");
    }

    /// <summary>An invite link for <paramref name="user"/>, a member of <paramref name="userTeams"/> (<see cref="Rules.CanInvite"/>).</summary>
    public static void Invite(Caller caller, PortalUser user, IEnumerable<string> userTeams)
    {
        if (!Rules.CanInvite(caller, user.PasswordHash is not null, userTeams))
        {
            throw user.PasswordHash is not null
                ? ProxyError.BadRequest($"{user.Email ?? user.Id} already has a password: only accounts without one get an invite link.", "user_id")
                : ProxyError.Forbidden("Only the proxy admin or an admin of one of this user's teams can invite them.");
        }
    }
}
