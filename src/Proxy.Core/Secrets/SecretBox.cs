using System.Security.Cryptography;
using System.Text;

namespace Proxy.Core.Secrets;

/// <summary>
/// Seals provider keys for storage with AES-256-GCM. The AES key is derived (HKDF-SHA256) from
/// <c>Proxy:EncryptionKey</c>, which lives in configuration, never in the database. A sealed value reads
/// <c>v1.{key id}.{base64(nonce | ciphertext | tag)}</c>; the key id lets older rows be opened with
/// <c>Proxy:PreviousEncryptionKeys</c> during a rotation.
/// </summary>
public sealed class SecretBox
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] Purpose = "llm-gateway provider keys v1"u8.ToArray();

    private readonly Key _current;
    private readonly Dictionary<string, Key> _byId;

    public SecretBox(string encryptionKey, IEnumerable<string>? previousKeys = null)
    {
        _current = Key.Derive(encryptionKey);
        _byId = new Dictionary<string, Key>(StringComparer.Ordinal) { [_current.Id] = _current };
        foreach (var old in previousKeys ?? [])
        {
            var key = Key.Derive(old);
            _byId.TryAdd(key.Id, key);
        }
    }

    public string Seal(string plaintext)
    {
        var data = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + data.Length + TagSize];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_current.Bytes, TagSize);
        aes.Encrypt(nonce, data, output.AsSpan(NonceSize, data.Length), output.AsSpan(NonceSize + data.Length), _current.IdBytes);
        return $"v1.{_current.Id}.{Convert.ToBase64String(output)}";
    }

    /// <summary>Opens a sealed value. Throws <see cref="CryptographicException"/> (with no secret in it) when no configured key fits.</summary>
    public string Open(string sealedValue)
    {
        var parts = sealedValue.Split('.');
        if (parts.Length != 3 || parts[0] != "v1")
        {
            throw new CryptographicException("Stored provider key has an unknown format.");
        }
        if (!_byId.TryGetValue(parts[1], out var key))
        {
            throw new CryptographicException(
                $"Stored provider key was sealed with encryption key id {parts[1]}, which is neither Proxy:EncryptionKey nor one of Proxy:PreviousEncryptionKeys.");
        }
        var input = Convert.FromBase64String(parts[2]);
        var cipherLength = input.Length - NonceSize - TagSize;
        var output = new byte[cipherLength];
        using var aes = new AesGcm(key.Bytes, TagSize);
        aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize, cipherLength), input.AsSpan(NonceSize + cipherLength), output, key.IdBytes);
        return Encoding.UTF8.GetString(output);
    }

    /// <summary>True when the value was sealed with an older key and should be sealed again.</summary>
    public bool NeedsResealing(string sealedValue) => !sealedValue.StartsWith($"v1.{_current.Id}.", StringComparison.Ordinal);

    private sealed record Key(byte[] Bytes, string Id, byte[] IdBytes)
    {
        public static Key Derive(string secret)
        {
            var bytes = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: Purpose);
            // The id names the key without revealing it: a hash of the derived key, truncated.
            var id = Convert.ToHexStringLower(SHA256.HashData(bytes))[..8];
            return new Key(bytes, id, Encoding.ASCII.GetBytes(id));
        }
    }
}
