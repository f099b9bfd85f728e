using System.Threading.RateLimiting;

namespace Proxy.Core.Spend;

/// <summary>
/// One per-minute allowance of one account (its requests or its tokens), counted by a
/// <see cref="FixedWindowRateLimiter"/>. The limiter replenishes only when told to: this class starts each window
/// at a minute of the gateway's clock, so every instance's windows line up (they are shared through the database)
/// and tests can move time with a fake clock.
/// </summary>
internal sealed class MinuteWindow
{
    private readonly FixedWindowRateLimiter _limiter;
    private readonly Lock _rolling = new();
    private long _minute;

    /// <summary>Taken by calls on this instance in the current minute (published to the other instances).</summary>
    private long _local;

    /// <summary>What the other instances had taken in the current minute when this one last read it.</summary>
    private long _others;

    public MinuteWindow(long limit, long minute)
    {
        Limit = (int)Math.Min(limit, int.MaxValue);
        _minute = minute;
        // PermitLimit must be positive: a limit of 0 refuses everything, which a window with no permit left does.
        _limiter = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(Limit, 1),
            QueueLimit = 0,
            AutoReplenishment = false,
            // Replenishment is this class's decision (TryReplenish at each new minute): the limiter's own elapsed-time
            // check must never hold it back, so its window is the shortest there is.
            Window = TimeSpan.FromTicks(1),
        });
        if (Limit == 0)
        {
            _limiter.AttemptAcquire(1).Dispose();
        }
    }

    public int Limit { get; }

    /// <summary>Takes <paramref name="count"/> if the window has them all.</summary>
    public bool TryTake(long minute, int count)
    {
        Roll(minute);
        if (count > Limit)
        {
            return false;
        }
        using var lease = _limiter.AttemptAcquire(count);
        if (lease.IsAcquired)
        {
            Interlocked.Add(ref _local, count);
        }
        return lease.IsAcquired;
    }

    /// <summary>True while the window has anything left (a token limit admits a call while one token is left).</summary>
    public bool HasRoom(long minute)
    {
        Roll(minute);
        using var lease = _limiter.AttemptAcquire(0);
        return lease.IsAcquired;
    }

    /// <summary>Counts what a call used after the fact: up to what is left is taken, all of it is published.</summary>
    public void Charge(long minute, long count)
    {
        if (count <= 0)
        {
            return;
        }
        Roll(minute);
        Interlocked.Add(ref _local, count);
        Consume(count);
    }

    /// <summary>What is left this minute: the limit less what this and the other instances took (without asking the limiter, which allocates).</summary>
    public long Remaining(long minute)
    {
        Roll(minute);
        return Math.Max(0, Limit - Interlocked.Read(ref _local) - Interlocked.Read(ref _others));
    }

    /// <summary>This instance's count in <paramref name="minute"/>, for the other instances.</summary>
    public long LocalCount(long minute) => Volatile.Read(ref _minute) == minute ? Interlocked.Read(ref _local) : 0;

    /// <summary>The other instances had taken <paramref name="othersTotal"/> in <paramref name="minute"/>: takes what is new of it here too.</summary>
    public void Absorb(long minute, long othersTotal)
    {
        Roll(minute);
        if (Volatile.Read(ref _minute) != minute)
        {
            return;
        }
        var added = othersTotal - Interlocked.Exchange(ref _others, othersTotal);
        Consume(added);
    }

    /// <summary>Takes up to <paramref name="count"/> permits, fewer when fewer are left.</summary>
    private void Consume(long count)
    {
        while (count > 0 && Limit > 0)
        {
            var take = (int)Math.Min(count, Limit);
            using (var lease = _limiter.AttemptAcquire(take))
            {
                if (lease.IsAcquired)
                {
                    count -= take;
                    continue;
                }
            }
            var left = (int)_limiter.GetStatistics()!.CurrentAvailablePermits;
            if (left == 0)
            {
                return;
            }
            count = Math.Min(count, left);
        }
    }

    private void Roll(long minute)
    {
        if (Volatile.Read(ref _minute) >= minute)
        {
            return;
        }
        lock (_rolling)
        {
            if (_minute >= minute)
            {
                return;
            }
            _limiter.TryReplenish();
            if (Limit == 0)
            {
                _limiter.AttemptAcquire(1).Dispose();
            }
            Interlocked.Exchange(ref _local, 0);
            Interlocked.Exchange(ref _others, 0);
            Volatile.Write(ref _minute, minute);
        }
    }
}
