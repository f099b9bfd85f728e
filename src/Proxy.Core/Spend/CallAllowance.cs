using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace Proxy.Core.Spend;

/// <summary>
/// One admitted call: holds its place among the key's calls in flight, and takes what it used once it has ended.
/// Writes OpenAI's <c>x-ratelimit-*</c> headers, for the tightest of the key's and team's limits, on the answer.
/// </summary>
public sealed class CallAllowance : IDisposable
{
    internal static readonly CallAllowance Unlimited = new(null, null, null, null, null);

    private readonly SpendLedger? _ledger;
    private readonly SpendAccount? _key;
    private readonly SpendAccount? _team;
    private readonly SpendAccount? _user;
    private RateLimitLease? _parallel;

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

    /// <summary>What the call used: its tokens against the tpm limits, its cost against the budgets.</summary>
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
    }

    public void Dispose()
    {
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
