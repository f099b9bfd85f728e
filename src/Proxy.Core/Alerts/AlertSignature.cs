using System.Security.Cryptography;
using System.Text;

namespace Proxy.Core.Alerts;

/// <summary>
/// <c>X-Gateway-Signature: sha256=&lt;hex&gt;</c>: the HMAC-SHA256 of the exact body bytes with <c>Proxy:Alerts:Secret</c>,
/// so a receiver can tell an alert of this gateway from a forged one.
/// </summary>
public static class AlertSignature
{
    public const string Header = "X-Gateway-Signature";

    public static string Of(ReadOnlySpan<byte> body, string secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}
