using System.Threading.RateLimiting;

namespace Proxy.Core.Spend;

/// <summary>
/// The live state of one key, team, user or deployment that has limits: its spend in the current budget period and
/// its windows for the current minute. One object per account for the life of the process, shared by every route
/// snapshot, so a snapshot swap neither resets a window nor loses spend. Read lock-free on the hot path.
/// </summary>
public sealed class SpendAccount(AccountKind kind, string id)
{
    /// <summary>The spend the database holds, as last written or read.</summary>
    private double _stored;

    /// <summary>Spend of calls answered here whose usage records are not written yet.</summary>
    private double _pending;

    /// <summary>USD held by this instance's calls in flight: each reserved its worst case before it was forwarded.</summary>
    private double _reserved;

    private long _resetAtTicks;
    private Limits _limits = Limits.None;
    private MinuteWindow? _requests;
    private MinuteWindow? _tokens;
    private ConcurrencyLimiter? _parallel;
    private RateLimitLease? _othersInFlight;
    private int _inFlight;

    public AccountKind Kind { get; } = kind;
    public string Id { get; } = id;
    public Limits Limits => Volatile.Read(ref _limits);

    /// <summary>USD in the current period, including calls not yet written.</summary>
    public double Spend => Volatile.Read(ref _stored) + Volatile.Read(ref _pending);

    public DateTime? ResetAt => Interlocked.Read(ref _resetAtTicks) is var t and > 0 ? new DateTime(t, DateTimeKind.Utc) : null;

    /// <summary>USD reserved by calls in flight here (their worst cases), not yet spent or given back.</summary>
    public double Reserved => Volatile.Read(ref _reserved);

    /// <summary>A call is refused at once when spend has reached max_budget, whatever it would cost.</summary>
    public bool IsOverBudget => Limits.MaxBudget is { } max && Spend >= max;

    /// <summary>
    /// Holds <paramref name="amount"/> for a call about to be forwarded, unless spend, what the calls in flight hold and
    /// this amount together would pass max_budget: the budget rule under concurrency (docs/budgets.md). Lock-free: one
    /// compare-and-swap on this account, so calls of other accounts never wait. True, and nothing held, without a budget.
    /// </summary>
    public bool TryReserve(double amount, out bool held)
    {
        held = false;
        if (Limits.MaxBudget is not { } max)
        {
            return true;
        }
        var current = Volatile.Read(ref _reserved);
        while (true)
        {
            if (Spend + current + amount > max)
            {
                return false;
            }
            var seen = Interlocked.CompareExchange(ref _reserved, current + amount, current);
            if (seen.Equals(current))
            {
                held = true;
                return true;
            }
            current = seen;
        }
    }

    /// <summary>Gives back what <see cref="TryReserve"/> held, once the call's actual cost is in <see cref="Spend"/> (or it cost nothing).</summary>
    public void Release(double amount) => Add(ref _reserved, -amount);

    internal int InFlight => Volatile.Read(ref _inFlight);

    internal bool HasRateLimits => _requests is not null || _tokens is not null || _parallel is not null;

    /// <summary>Takes the limits and stored spend of a freshly loaded snapshot. A changed limit starts a fresh window.</summary>
    internal void Update(Limits limits, double storedSpend, DateTime? resetAt, long minute)
    {
        var old = Limits;
        if (old.RpmLimit != limits.RpmLimit)
        {
            Volatile.Write(ref _requests, limits.RpmLimit is { } rpm ? new MinuteWindow(rpm, minute) : null);
        }
        if (old.TpmLimit != limits.TpmLimit)
        {
            Volatile.Write(ref _tokens, limits.TpmLimit is { } tpm ? new MinuteWindow(tpm, minute) : null);
        }
        if (old.MaxParallelRequests != limits.MaxParallelRequests)
        {
            Volatile.Write(ref _parallel, limits.MaxParallelRequests is { } parallel
                ? new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = Math.Max(parallel, 1), QueueLimit = 0 })
                : null);
            Interlocked.Exchange(ref _othersInFlight, null)?.Dispose();
        }
        Volatile.Write(ref _limits, limits);
        Volatile.Write(ref _stored, storedSpend);
        Interlocked.Exchange(ref _resetAtTicks, resetAt?.Ticks ?? 0);
    }

    /// <summary>A call's cost, counted at once here and written to the database by the usage writer.</summary>
    public void AddPending(double cost)
    {
        if (cost > 0)
        {
            Add(ref _pending, cost);
        }
    }

    /// <summary>
    /// The usage writer stored <paramref name="written"/> of the pending spend; the database now holds
    /// <paramref name="storedSpend"/> (null: the row is gone, e.g. the key was regenerated meanwhile).
    /// </summary>
    internal void Settle(double written, double? storedSpend)
    {
        Add(ref _pending, -written);
        if (storedSpend is { } stored)
        {
            Volatile.Write(ref _stored, stored);
        }
    }

    /// <summary>The database's spend and reset time, read again (another instance may have reset or added to it).</summary>
    internal void Reload(double storedSpend, DateTime? resetAt)
    {
        Volatile.Write(ref _stored, storedSpend);
        Interlocked.Exchange(ref _resetAtTicks, resetAt?.Ticks ?? 0);
    }

    /// <summary>Requests: one per call.</summary>
    public bool TryTakeRequest(long minute) => _requests?.TryTake(minute, 1) ?? true;

    /// <summary>Tokens: a call is admitted while the minute has any left, and charged what it used afterwards.</summary>
    public bool HasTokens(long minute) => _tokens?.HasRoom(minute) ?? true;

    public void ChargeTokens(long minute, long tokens) => _tokens?.Charge(minute, tokens);

    /// <summary>
    /// A place among the key's calls in flight: false when max_parallel_requests are already in flight. The lease (null
    /// without a limit) goes back with <see cref="LeaveParallel"/>.
    /// </summary>
    public bool TryEnterParallel(out RateLimitLease? lease)
    {
        lease = null;
        if (Volatile.Read(ref _parallel) is not { } parallel)
        {
            return true;
        }
        if (Limits.MaxParallelRequests == 0)
        {
            // A limit of 0 admits nothing (as in LiteLLM); the limiter itself cannot have fewer than one permit.
            return false;
        }
        lease = parallel.AttemptAcquire(1);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            lease = null;
            return false;
        }
        Interlocked.Increment(ref _inFlight);
        return true;
    }

    public void LeaveParallel(RateLimitLease? lease)
    {
        if (lease is not null)
        {
            Interlocked.Decrement(ref _inFlight);
            lease.Dispose();
        }
    }

    public long? RemainingRequests(long minute) => _requests?.Remaining(minute);
    public long? RemainingTokens(long minute) => _tokens?.Remaining(minute);

    internal long LocalRequests(long minute) => _requests?.LocalCount(minute) ?? 0;
    internal long LocalTokens(long minute) => _tokens?.LocalCount(minute) ?? 0;

    /// <summary>What the other instances have taken this minute, and how many calls they have in flight now.</summary>
    internal void Absorb(long minute, long requests, long tokens, int inFlight)
    {
        _requests?.Absorb(minute, requests);
        _tokens?.Absorb(minute, tokens);
        if (Volatile.Read(ref _parallel) is { } parallel)
        {
            // The others' calls hold places here too: the old hold is given back and the current number taken.
            Interlocked.Exchange(ref _othersInFlight, null)?.Dispose();
            var free = (int)parallel.GetStatistics()!.CurrentAvailablePermits;
            var hold = Math.Min(inFlight, free);
            if (hold > 0)
            {
                var lease = parallel.AttemptAcquire(hold);
                if (lease.IsAcquired)
                {
                    Interlocked.Exchange(ref _othersInFlight, lease)?.Dispose();
                }
            }
        }
    }

    /// <summary>Adds to a running USD total that other threads add to as well.</summary>
    internal static void Add(ref double target, double amount)
    {
        var current = Volatile.Read(ref target);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref target, current + amount, current);
            if (seen.Equals(current))
            {
                return;
            }
            current = seen;
        }
    }
}
