using System.Security.Cryptography;
using System.Text;

namespace Proxy.Core.Keys;

/// <summary>How virtual keys look: <c>sk-</c> + 43 URL-safe random characters; stored as SHA-256 hex; shown masked.</summary>
public static class KeyMaterial
{
    public static string NewKey()
    {
        Span<byte> bytes = stackalloc byte[32];
        RandomNumberGenerator.Fill(bytes);
        return "sk-" + Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static string Hash(string rawKey)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(rawKey), hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary><c>sk-...abcd</c>: recognisable, never usable.</summary>
    public static string Mask(string rawKey) => rawKey.Length <= 8 ? "sk-..." : $"sk-...{rawKey[^4..]}";

    /// <summary>True for a 64-character lowercase or uppercase hex string, i.e. a stored key hash.</summary>
    public static bool LooksLikeHash(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigit);

    /// <summary>Accepts what admin endpoints accept for a key: the raw key or its hash.</summary>
    public static string ToHash(string rawOrHash) => LooksLikeHash(rawOrHash) ? rawOrHash.ToLowerInvariant() : Hash(rawOrHash);
}
