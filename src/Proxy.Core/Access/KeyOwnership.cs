using Microsoft.EntityFrameworkCore;
using Proxy.Core.Keys;
using Proxy.Core.Teams;

namespace Proxy.Core.Access;

/// <summary>Who a key may belong to (its <c>user_id</c>), since a key acts with its user's rights in its team.</summary>
public static class KeyOwnership
{
    /// <summary>
    /// Only the proxy admin may name any user; a team admin may name only members of the key's team; a member handling
    /// their own key (<see cref="Rules.MayHandleOwnKey"/>) only themself. Throws the 403 the caller sees. True when the
    /// proxy admin named a user, who is then created if unknown, as LiteLLM does.
    /// </summary>
    public static async Task<bool> DemandValidOwnerAsync(Caller caller, VirtualKey key, IQueryable<TeamMembership> memberships, CancellationToken ct)
    {
        if (key.UserId is null)
        {
            return false;
        }
        if (Rules.CanAdministerProxy(caller))
        {
            return true;
        }
        if (key.TeamId is not null && !Rules.Can(caller, TeamPermission.Administer, key.TeamId) && key.UserId != caller.UserId)
        {
            throw ProxyError.Forbidden($"A member of team {key.TeamId} can only own their own keys: user_id must be {caller.UserId}.");
        }
        var isMember = key.TeamId is not null && await memberships.AnyAsync(m => m.TeamId == key.TeamId && m.UserId == key.UserId, ct);
        if (!isMember)
        {
            throw ProxyError.Forbidden($"user_id {key.UserId} is not a member of team {key.TeamId}; a team admin can only create keys for the team's members.");
        }
        return false;
    }
}
