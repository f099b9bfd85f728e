namespace Proxy.Core;

/// <summary>
/// A field of a partial update that may be absent (leave the stored value) or given, possibly as null (clear it).
/// Limits use it: <c>"rpm_limit": null</c> removes a key's limit, while leaving the field out keeps it.
/// </summary>
public readonly record struct Optional<T>(T Value)
{
    /// <summary>False for <c>default</c>: the field was not in the request.</summary>
    public bool IsGiven { get; } = true;

    public static implicit operator Optional<T>(T value) => new(value);
}
