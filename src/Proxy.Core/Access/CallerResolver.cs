using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Proxy.Core.Keys;
using Proxy.Core.Routing;

namespace Proxy.Core.Access;

/// <summary>Turns a presented key or a signed-in user into a <see cref="Caller"/>, from the route snapshot alone.</summary>
public sealed class CallerResolver(RouteTable routes, IOptions<ProxyOptions> options, TimeProvider time)
{
    private readonly byte[] _masterKeyHash = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.MasterKey ?? ""));

    /// <summary>Resolves a raw key. Throws a 401 <see cref="ProxyError"/> for a missing, unknown, blocked or expired key.</summary>
    public Caller FromKey(ReadOnlySpan<char> presented)
    {
        Span<byte> hash = stackalloc byte[32];
        if (!presented.IsEmpty)
        {
            HashKey(presented, hash);
        }
        return FromKey(presented, hash);
    }

    /// <summary>
    /// The caller of an LLM call. A keep-alive client presents the same key on call after call, so an HTTP/1.1
    /// connection keeps its last key and that key's hash (hashing is a visible share of a call's CPU). Only the last key
    /// is kept, in place and for the connection's life, as Kestrel keeps the header itself: a connection that changes
    /// keys on every call (the scale benchmark's traffic) costs a comparison, not an allocation. HTTP/2 streams share
    /// their connection concurrently: their keys are hashed per call.
    /// </summary>
    public Caller FromCall(HttpContext http)
    {
        var presented = PresentedKey.From(http.Request.Headers);
        if (presented.IsEmpty || presented.Length > LastKey.MaxLength || !HttpProtocol.IsHttp11(http.Request.Protocol)
            || http.Features.Get<IConnectionItemsFeature>()?.Items is not { } items)
        {
            return FromKey(presented);
        }
        if (!items.TryGetValue(typeof(LastKey), out var kept) || kept is not LastKey last)
        {
            items[typeof(LastKey)] = last = new LastKey();
        }
        if (!last.Is(presented))
        {
            last.Set(presented);
        }
        return FromKey(presented, last.Hash);
    }

    /// <summary>A connection's last presented key and its SHA-256, overwritten in place when the key changes.</summary>
    private sealed class LastKey
    {
        public const int MaxLength = 128;

        private readonly char[] _key = new char[MaxLength];
        private readonly byte[] _hash = new byte[32];
        private int _length;

        public ReadOnlySpan<byte> Hash => _hash;

        public bool Is(ReadOnlySpan<char> presented) => _length > 0 && presented.SequenceEqual(_key.AsSpan(0, _length));

        public void Set(ReadOnlySpan<char> presented)
        {
            HashKey(presented, _hash);
            presented.CopyTo(_key);
            _length = presented.Length;
        }
    }

    private Caller FromKey(ReadOnlySpan<char> presented, ReadOnlySpan<byte> hash)
    {
        if (presented.IsEmpty)
        {
            throw ProxyError.Unauthorized(
                "No API key passed in. Send it as 'Authorization: Bearer sk-...' (or x-litellm-api-key, api-key, x-api-key).");
        }
        if (CryptographicOperations.FixedTimeEquals(hash, _masterKeyHash))
        {
            return Caller.MasterKey;
        }

        var snapshot = routes.Current;
        Span<char> hex = stackalloc char[64];
        Convert.TryToHexStringLower(hash, hex, out _);
        if (!snapshot.TryGetKey(hex, out var key))
        {
            throw ProxyError.Unauthorized($"Invalid API key {KeyMaterial.Mask(presented.ToString())}: it does not exist or was deleted. Create keys with /key/generate.");
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

    /// <summary>SHA-256 of the key's UTF-8 bytes, without allocating for keys of ordinary length.</summary>
    private static void HashKey(ReadOnlySpan<char> presented, Span<byte> hash)
    {
        var length = Encoding.UTF8.GetMaxByteCount(presented.Length);
        if (length <= 512)
        {
            Span<byte> bytes = stackalloc byte[length];
            SHA256.HashData(bytes[..Encoding.UTF8.GetBytes(presented, bytes)], hash);
        }
        else
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(presented.ToString()), hash);
        }
    }

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
