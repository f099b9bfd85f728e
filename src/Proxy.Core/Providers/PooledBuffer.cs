using System.Buffers;

namespace Proxy.Core.Providers;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}"/>, for a <see cref="System.Text.Json.Utf8JsonWriter"/>
/// or for bytes held between writes: translating an answer allocates no buffer per chunk.
/// </summary>
internal sealed class PooledBuffer(int initialSize = 4096) : IBufferWriter<byte>, IDisposable
{
    private byte[] _array = ArrayPool<byte>.Shared.Rent(initialSize);

    public int Count { get; private set; }

    public ReadOnlySpan<byte> Written => _array.AsSpan(0, Count);

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, Count);

    public void Advance(int count) => Count += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(Count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(Count);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_array.AsSpan(Count));
        Count += bytes.Length;
    }

    public void Clear() => Count = 0;

    /// <summary>Drops the first <paramref name="count"/> bytes, keeping the rest at the start.</summary>
    public void Consume(int count)
    {
        _array.AsSpan(count, Count - count).CopyTo(_array);
        Count -= count;
    }

    /// <summary>Hands the array over; the caller returns it to the pool.</summary>
    public byte[] Detach()
    {
        var array = _array;
        _array = [];
        Count = 0;
        return array;
    }

    public void Dispose()
    {
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }
        _array = [];
    }

    private void Ensure(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (_array.Length - Count >= sizeHint)
        {
            return;
        }
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, Count + sizeHint));
        _array.AsSpan(0, Count).CopyTo(larger);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }
        _array = larger;
    }
}
