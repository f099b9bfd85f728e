using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Proxy.Core.Keys;
using Proxy.Core.Routing;

namespace Proxy.Core.Access;

/// <summary>Turns a presented key or a signed-in user into a <see cref="Caller"/>, from the route snapshot alone.</summary>
public sealed class CallerResolver(RouteTable routes, IOptions<ProxyOptions> options, TimeProvider time)
{
    private readonly byte[] _masterKeyHash = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.MasterKey ?? ""));

    /// <summary>Resolves a raw key. Throws a 401 <see cref="ProxyError"/> for a missing, unknown, blocked or expired key.</summary>
    public Caller FromKey(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            throw ProxyError.Unauthorized(
                "No API key passed in. Send it as 'Authorization: Bearer sk-...' (or x-litellm-api-key, api-key, x-api-key).");
        }

        ReadOnlySpan<byte> hash = Hashes.GetValue(presented, HashKey);
        if (CryptographicOperations.FixedTimeEquals(hash, _masterKeyHash))
        {
            return Caller.MasterKey;
        }

        var snapshot = routes.Current;
        Span<char> hex = stackalloc char[64];
        Convert.TryToHexStringLower(hash, hex, out _);
        if (!snapshot.TryGetKey(hex, out var key))
        {
            throw ProxyError.Unauthorized($"Invalid API key {KeyMaterial.Mask(presented)}: it does not exist or was deleted. Create keys with /key/generate.");
        }
        if (key.Blocked)
        {
            throw ProxyError.Unauthorized($"API key {key.KeyName} is blocked. A team admin can unblock it with /key/update.");
        }
        if (key.ExpiresAt is { } expires && expires <= time.GetUtcNow().UtcDateTime)
        {
            throw ProxyError.Unauthorized($"API key {key.KeyName} expired at {expires:yyyy-MM-ddTHH:mm:ssZ}.");
        }
        var team = key.TeamId is null ? null : snapshot.Teams.GetValueOrDefault(key.TeamId);
        if (team?.Blocked == true)
        {
            throw ProxyError.Unauthorized($"Team {key.TeamId} is blocked; its keys are refused until a proxy admin unblocks it.");
        }

        var user = key.UserId is null ? null : snapshot.Users.GetValueOrDefault(key.UserId);
        if (user?.Disabled == true)
        {
            throw ProxyError.Unauthorized($"API key {key.KeyName} belongs to a disabled user.");
        }
        // A team key acts with its user's role in that team only, never in the user's other teams.
        var roles = snapshot.RolesOf(key.UserId);
        if (key.TeamId is not null)
        {
            roles = roles.TryGetValue(key.TeamId, out var role)
                ? new Dictionary<string, string> { [key.TeamId] = role }
                : System.Collections.Frozen.FrozenDictionary<string, string>.Empty;
        }
        return new Caller(CallerKind.VirtualKey, key.KeyName, key, key.UserId, isProxyAdmin: false, roles, team, user);
    }

    /// <summary>
    /// SHA-256 of presented keys, per string instance. Kestrel hands a keep-alive connection's repeated header values
    /// over as the same strings (and <see cref="PresentedKey"/> keeps the key within them the same string), so a
    /// connection's key is hashed once instead of on every call, where the hash was 1.4% of a forwarded call's CPU. Weak: an
    /// entry goes with its string.
    /// </summary>
    private static readonly ConditionalWeakTable<string, byte[]> Hashes = new();

    private static byte[] HashKey(string presented) => SHA256.HashData(Encoding.UTF8.GetBytes(presented));

    /// <summary>The caller for a signed-in portal user; a user the snapshot does not know, or a disabled one, has no rights.</summary>
    public Caller FromUser(string userId)
    {
        var snapshot = routes.Current;
        var user = snapshot.Users.GetValueOrDefault(userId);
        if (user is null || user.Disabled)
        {
            throw ProxyError.Unauthorized("Your account is disabled or no longer exists.");
        }
        return new Caller(CallerKind.PortalUser, $"user:{user.Email ?? userId}", key: null, userId, user.IsProxyAdmin, snapshot.RolesOf(userId));
    }
}
