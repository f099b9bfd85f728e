namespace Proxy.Core.Spend;

/// <summary>How a key's model budget is named: the key's hash (hex, never a slash), then the model (which may hold slashes).</summary>
public static class KeyModelAccount
{
    public static string Id(string keyHash, string model) => string.Concat(keyHash, "/", model);

    public static (string KeyHash, string Model) Split(string id)
    {
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        return (id[..slash], id[(slash + 1)..]);
    }
}
