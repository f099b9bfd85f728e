using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Proxy.Core.Routing;

/// <summary>
/// An immutable string-keyed map split into 256 shards. A change copies only the shards it touches, so replacing one
/// team among 100,000 keys allocates a few kilobytes instead of copying (and later collecting) the whole table.
/// </summary>
public sealed class ShardedMap<T> : IReadOnlyDictionary<string, T>
{
    private const int ShardCount = 256;

    public static readonly ShardedMap<T> Empty = new(Enumerable.Range(0, ShardCount).Select(_ => new Dictionary<string, T>(StringComparer.Ordinal)).ToArray(), 0);

    private readonly Dictionary<string, T>[] _shards;

    private ShardedMap(Dictionary<string, T>[] shards, int count)
    {
        _shards = shards;
        Count = count;
    }

    public int Count { get; }

    public T this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    public IEnumerable<string> Keys => _shards.SelectMany(s => s.Keys);

    public IEnumerable<T> Values => _shards.SelectMany(s => s.Values);

    public static ShardedMap<T> From(IEnumerable<KeyValuePair<string, T>> items) => Empty.With([], items);

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out T value) => _shards[ShardOf(key)].TryGetValue(key, out value);

    /// <summary>Looks up without allocating a string for the key.</summary>
    public bool TryGetValue(ReadOnlySpan<char> key, [MaybeNullWhen(false)] out T value) =>
        _shards[ShardOf(key)].GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out value);

    /// <summary>A new map without <paramref name="removals"/> and with <paramref name="additions"/> (added after removing).</summary>
    public ShardedMap<T> With(IEnumerable<string> removals, IEnumerable<KeyValuePair<string, T>> additions)
    {
        var shards = (Dictionary<string, T>[])_shards.Clone();
        var copied = new bool[ShardCount];
        var count = Count;
        Dictionary<string, T> Writable(int shard)
        {
            if (!copied[shard])
            {
                shards[shard] = new Dictionary<string, T>(shards[shard], StringComparer.Ordinal);
                copied[shard] = true;
            }
            return shards[shard];
        }
        foreach (var key in removals)
        {
            var shard = ShardOf(key);
            if (shards[shard].ContainsKey(key) && Writable(shard).Remove(key))
            {
                count--;
            }
        }
        foreach (var (key, value) in additions)
        {
            var map = Writable(ShardOf(key));
            if (!map.ContainsKey(key))
            {
                count++;
            }
            map[key] = value;
        }
        return new ShardedMap<T>(shards, count);
    }

    public IEnumerator<KeyValuePair<string, T>> GetEnumerator() => _shards.SelectMany(s => s).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static int ShardOf(ReadOnlySpan<char> key) => string.GetHashCode(key) & (ShardCount - 1);
}
