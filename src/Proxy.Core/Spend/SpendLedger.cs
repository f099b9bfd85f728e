using System.Collections.Concurrent;

namespace Proxy.Core.Spend;

/// <summary>
/// Every <see cref="SpendAccount"/> of this instance, by kind and id. The route snapshot binds its keys, teams, users
/// and deployments that have limits to their accounts when it is built; the usage writer and <see cref="SpendSync"/>
/// keep them in step with the database.
/// </summary>
public sealed class SpendLedger(TimeProvider time)
{
    private readonly ConcurrentDictionary<(AccountKind Kind, string Id), SpendAccount> _accounts = new();

    /// <summary>The current rate window: minutes since the Unix epoch on the gateway's clock.</summary>
    public long Minute => time.GetUtcNow().ToUnixTimeSeconds() / 60;

    /// <summary>When the current minute window ends, for <c>Retry-After</c>.</summary>
    public TimeSpan UntilNextMinute => TimeSpan.FromSeconds(60 - time.GetUtcNow().ToUnixTimeSeconds() % 60);

    public DateTime Now => time.GetUtcNow().UtcDateTime;

    public IEnumerable<SpendAccount> Accounts => _accounts.Values;

    /// <summary>A key has had a model budget here (never reset): until then the usage writer looks none up.</summary>
    public bool HasKeyModelBudgets { get; private set; }

    /// <summary>
    /// The account of an entity just loaded from the database, updated with its limits and stored spend; null (and
    /// forgotten) when it has no limits, so the hot path skips it.
    /// </summary>
    public SpendAccount? Bind(AccountKind kind, string id, Limits limits, double storedSpend = 0, DateTime? resetAt = null)
    {
        if (!limits.Any)
        {
            _accounts.TryRemove((kind, id), out _);
            return null;
        }
        if (kind == AccountKind.KeyModel)
        {
            HasKeyModelBudgets = true;
        }
        var account = _accounts.GetOrAdd((kind, id), static key => new SpendAccount(key.Kind, key.Id));
        account.Update(limits, storedSpend, resetAt, Minute);
        return account;
    }

    public SpendAccount? Find(AccountKind kind, string id) => _accounts.GetValueOrDefault((kind, id));

    /// <summary>Forgets accounts whose entity is gone (a full snapshot load lists every one that is still there).</summary>
    public void KeepOnly(IReadOnlySet<(AccountKind, string)> bound)
    {
        foreach (var key in _accounts.Keys)
        {
            if (!bound.Contains(key))
            {
                _accounts.TryRemove(key, out _);
            }
        }
    }
}
