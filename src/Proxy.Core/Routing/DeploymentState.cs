namespace Proxy.Core.Routing;

/// <summary>
/// How one deployment has been doing on this instance: calls in flight, recent time to first byte, recent failures,
/// whether it is cooling down, and how its last call and last connection test went. Kept per instance, in memory only (no database): one object per deployment for the life
/// of the process, shared by every route snapshot.
/// </summary>
public sealed class DeploymentState
{
    /// <summary>Failures older than this no longer count towards a cooldown.</summary>
    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly Queue<DateTime> _failures = new();
    private long _cooldownUntilTicks;
    private int _inFlight;
    private double _ttfbMs = double.NaN;

    // The last call: a success writes only its time (the hot path allocates nothing), a failure its record; the newer wins.
    private long _lastAnsweredTicks;
    private DeploymentResult? _lastCallFailure;
    private DeploymentResult? _lastTest;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Smoothed time to first byte in ms; NaN until the first answer (an unmeasured deployment is tried first).</summary>
    public double TimeToFirstByteMs => Volatile.Read(ref _ttfbMs);

    public DateTime? CooldownUntil => Interlocked.Read(ref _cooldownUntilTicks) is var t and > 0 ? new DateTime(t, DateTimeKind.Utc) : null;

    public bool IsCoolingDown(DateTime now) => Interlocked.Read(ref _cooldownUntilTicks) > now.Ticks;

    /// <summary>Failures within the last minute.</summary>
    public int RecentFailures(DateTime now)
    {
        lock (_lock)
        {
            Forget(now);
            return _failures.Count;
        }
    }

    /// <summary>How the last call through the gateway went on this instance; null before the first.</summary>
    public DeploymentResult? LastCall
    {
        get
        {
            var failure = Volatile.Read(ref _lastCallFailure);
            var answered = Volatile.Read(ref _lastAnsweredTicks);
            return answered > (failure?.At.Ticks ?? 0) ? DeploymentResult.Answered(new DateTime(answered, DateTimeKind.Utc)) : failure;
        }
    }

    /// <summary>How the last connection test (the portal's Test connection, <c>GET /health</c>) went on this instance.</summary>
    public DeploymentResult? LastTest => Volatile.Read(ref _lastTest);

    /// <summary>The newer of <see cref="LastCall"/> and <see cref="LastTest"/>: what is known of the deployment now.</summary>
    public DeploymentResult? LastResult => (LastCall, LastTest) switch
    {
        (null, var test) => test,
        (var call, null) => call,
        var (call, test) => call.At > test.At ? call : test,
    };

    /// <summary>A call was answered: one write, no allocation.</summary>
    public void CallAnswered(DateTime now) => Volatile.Write(ref _lastAnsweredTicks, now.Ticks);

    public void CallFailed(DeploymentResult result) => Volatile.Write(ref _lastCallFailure, result);

    public void Tested(DeploymentResult result) => Volatile.Write(ref _lastTest, result);

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Leave() => Interlocked.Decrement(ref _inFlight);

    /// <summary>The provider's answer started arriving after <paramref name="elapsed"/>.</summary>
    public void Answered(TimeSpan elapsed)
    {
        var ms = elapsed.TotalMilliseconds;
        var old = Volatile.Read(ref _ttfbMs);
        // An exponential average over roughly the last ten answers: recent enough to follow a slow-down, not jittery.
        Volatile.Write(ref _ttfbMs, double.IsNaN(old) ? ms : old + (ms - old) / 10);
    }

    /// <summary>
    /// A failed attempt. The deployment cools down for <paramref name="cooldown"/> once <paramref name="allowedFails"/>
    /// failures fall within a minute, or at once when <paramref name="immediately"/> (the provider refused its key or model).
    /// </summary>
    public void Failed(DateTime now, int allowedFails, TimeSpan cooldown, bool immediately)
    {
        lock (_lock)
        {
            Forget(now);
            _failures.Enqueue(now);
            if (immediately || _failures.Count >= allowedFails)
            {
                // The failures stay counted: one more within the minute after the cooldown starts the next one.
                Interlocked.Exchange(ref _cooldownUntilTicks, (now + cooldown).Ticks);
            }
        }
    }

    private void Forget(DateTime now)
    {
        while (_failures.Count > 0 && now - _failures.Peek() > FailureWindow)
        {
            _failures.Dequeue();
        }
    }
}
