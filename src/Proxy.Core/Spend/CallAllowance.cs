using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Proxy.Core.Spend;

/// <summary>
/// One admitted call: holds its place among the key's calls in flight and, for the attempt under way, its worst-case
/// cost on each of its budgets; takes what it used once it has ended. Writes OpenAI's <c>x-ratelimit-*</c> headers, for
/// the tightest of the key's and team's limits, on the answer.
/// </summary>
public sealed class CallAllowance : IDisposable
{
    internal static readonly CallAllowance Unlimited = new(null, null, null, null, null);

    private readonly SpendLedger? _ledger;
    private readonly SpendAccount? _key;
    private readonly SpendAccount? _team;
    private readonly SpendAccount? _user;
    private RateLimitLease? _parallel;

    /// <summary>The attempt's reservation, held on the accounts whose bit is set (0 key, 1 team, 2 user, 3 member, 4 model budget).</summary>
    private double _reserved;
    private int _heldOn;

    /// <summary>The key's budget for the attempt's model (<c>model_max_budget</c>): a fallback's attempt has its own model's.</summary>
    private SpendAccount? _model;

    /// <summary>The key's user's spend in the key's team, when that member has a budget in it.</summary>
    internal SpendAccount? Member { get; init; }

    internal CallAllowance(SpendLedger? ledger, SpendAccount? key, SpendAccount? team, SpendAccount? user, RateLimitLease? parallel)
    {
        _ledger = ledger;
        _key = key;
        _team = team;
        _user = user;
        _parallel = parallel;
    }

    private HttpResponse? _response;

    /// <summary>Registers the <c>x-ratelimit-*</c> headers on the answer, whatever it turns out to be, when a rate limit applies.</summary>
    public void AnnounceOn(HttpResponse response)
    {
        if (_ledger is not null && ((_key?.HasRateLimits ?? false) || (_team?.HasRateLimits ?? false)))
        {
            _response = response;
            response.OnStarting(static state =>
            {
                var allowance = (CallAllowance)state;
                WriteRateHeaders(allowance._response!.Headers, allowance._ledger!, allowance._key, allowance._team);
                return Task.CompletedTask;
            }, this);
        }
    }

    /// <summary>One of the call's accounts has a budget: its attempts reserve their worst case.</summary>
    internal bool HasBudget => Budgeted(_key) || Budgeted(_team) || Budgeted(_user) || Budgeted(Member);

    /// <summary>
    /// Reserves <paramref name="amount"/> on every account of the call that has a budget, and on the key's budget for the
    /// attempt's model (after giving back what an earlier attempt held); the account that has no room for it, with
    /// nothing held, or null.
    /// </summary>
    internal SpendAccount? Reserve(double amount, SpendAccount? modelBudget)
    {
        Release();
        _model = modelBudget;
        for (var i = 0; i < 5; i++)
        {
            if (Account(i) is not { } account)
            {
                continue;
            }
            if (!account.TryReserve(amount, out var held))
            {
                Release();
                return account;
            }
            if (held)
            {
                _heldOn |= 1 << i;
                _reserved = amount;
            }
        }
        return null;
    }

    /// <summary>An attempt that reserves nothing: what an earlier one held goes back, and its model budget is not this one's.</summary>
    internal void ReserveNothing()
    {
        if (_ledger is not null)
        {
            Release();
            _model = null;
        }
    }

    /// <summary>Gives back the attempt's reservation: its cost, if any, is already in the accounts' spend.</summary>
    private void Release()
    {
        for (var i = 0; i < 5 && _heldOn != 0; i++)
        {
            if ((_heldOn & (1 << i)) != 0)
            {
                Account(i)!.Release(_reserved);
                _heldOn &= ~(1 << i);
            }
        }
        _reserved = 0;
    }

    private SpendAccount? Account(int i) => i switch { 0 => _key, 1 => _team, 2 => _user, 3 => Member, _ => _model };

    private static bool Budgeted(SpendAccount? account) => account?.Limits.MaxBudget is not null;

    /// <summary>What the call used: its tokens against the tpm limits, its cost against the budgets, which then let go of its reservation.</summary>
    public void Spent(long tokens, double cost)
    {
        if (_ledger is null)
        {
            return;
        }
        var minute = _ledger.Minute;
        _key?.ChargeTokens(minute, tokens);
        _team?.ChargeTokens(minute, tokens);
        _user?.ChargeTokens(minute, tokens);
        _key?.AddPending(cost);
        _team?.AddPending(cost);
        _user?.AddPending(cost);
        Member?.AddPending(cost);
        _model?.AddPending(cost);
        // Only now: spend and reservations together never dip below what the call may still cost.
        Release();
    }

    public void Dispose()
    {
        Release();
        if (Interlocked.Exchange(ref _parallel, null) is { } lease)
        {
            _key!.LeaveParallel(lease);
        }
    }

    /// <summary>OpenAI's <c>x-ratelimit-*</c> headers for the tighter of the key's and the team's request and token limits.</summary>
    internal static IEnumerable<KeyValuePair<string, string>> RateHeaders(SpendLedger ledger, SpendAccount? key, SpendAccount? team)
    {
        var headers = new HeaderDictionary();
        WriteRateHeaders(headers, ledger, key, team);
        return headers.Select(h => KeyValuePair.Create(h.Key, h.Value.ToString()));
    }

    private static void WriteRateHeaders(IHeaderDictionary headers, SpendLedger ledger, SpendAccount? key, SpendAccount? team)
    {
        var minute = ledger.Minute;
        var reset = SpendControl.Seconds(ledger.UntilNextMinute) + "s";
        if (Tightest(key?.RemainingRequests(minute), team?.RemainingRequests(minute), key, team) is ({ } requests, var remaining))
        {
            headers["x-ratelimit-limit-requests"] = Text(requests.Limits.RpmLimit ?? 0);
            headers["x-ratelimit-remaining-requests"] = Text(remaining);
            headers["x-ratelimit-reset-requests"] = reset;
        }
        if (Tightest(key?.RemainingTokens(minute), team?.RemainingTokens(minute), key, team) is ({ } tokens, var left))
        {
            headers["x-ratelimit-limit-tokens"] = Text(tokens.Limits.TpmLimit ?? 0);
            headers["x-ratelimit-remaining-tokens"] = Text(left);
            headers["x-ratelimit-reset-tokens"] = reset;
        }
    }

    /// <summary>The account with less left (the key on a tie), and what it has left; null when neither has the limit.</summary>
    private static (SpendAccount Account, long Remaining)? Tightest(long? keyRemaining, long? teamRemaining, SpendAccount? key, SpendAccount? team) =>
        keyRemaining is { } k && (teamRemaining is not { } t || k <= t) ? (key!, k)
        : teamRemaining is { } onlyTeam ? (team!, onlyTeam)
        : null;

    private static string Text(long n) => n.ToString(CultureInfo.InvariantCulture);
}
