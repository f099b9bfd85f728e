using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proxy.Core.Persistence;

namespace Proxy.Core.Spend;

/// <summary>
/// Once every <see cref="ProxyOptions.SpendSyncInterval"/>: starts new budget periods whose time has come, picks up
/// resets another instance made, and shares the rate windows: this instance writes what it admitted per rate-limited
/// account in the current minute, reads what the others admitted, and takes that from its own windows too. So a limit
/// holds across instances, give or take what the others admit within one interval.
/// </summary>
public sealed partial class SpendSync(
    IServiceScopeFactory scopes, SpendLedger ledger, WriteGate gate, IOptions<ProxyOptions> options, ILogger<SpendSync> log) : BackgroundService
{
    /// <summary>This process among the instances sharing the database.</summary>
    public string Instance { get; } = Guid.NewGuid().ToString("N");

    /// <summary>What was last written per account, so that unchanged counts are not written again.</summary>
    private readonly Dictionary<(AccountKind, string), (long Window, long Requests, long Tokens, int InFlight)> _published = [];
    private long _prunedWindow;

    /// <summary>Accounts the other instances had counts for last round: one that drops out is taken as 0 again.</summary>
    private HashSet<(AccountKind, string)> _absorbed = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Ticks in real time, while "now" is the gateway's clock: a test's fake clock moves budgets and windows, not the loop.
        using var timer = new PeriodicTimer(options.Value.SpendSyncInterval);
        while (await WaitAsync(timer, stoppingToken))
        {
            try
            {
                await SyncAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSyncFailed(e.GetType().Name);
            }
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One round: budget resets, then the rate windows.</summary>
    public async Task SyncAsync(CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync(ct);
        await ResetBudgetsAsync(connection);
        await ShareWindowsAsync(connection);
    }

    private async Task ResetBudgetsAsync(System.Data.Common.DbConnection connection)
    {
        var now = ledger.Now;
        foreach (var kind in SpendStore.Budgeted)
        {
            foreach (var (id, duration) in await SpendStore.DueAsync(connection, kind, now))
            {
                var next = duration is null ? (DateTime?)null : Budget.NextReset(duration, now);
                bool reset;
                await gate.WaitAsync();
                try
                {
                    reset = await SpendStore.ResetAsync(connection, kind, id, now, next);
                }
                finally
                {
                    gate.Release();
                }
                if (reset)
                {
                    LogReset(kind);
                }
            }
        }
        // Every watched account whose period has ended here takes the database's word: reset now, by this instance or another.
        foreach (var account in ledger.Accounts.Where(a => a.Kind != AccountKind.Deployment && a.ResetAt <= now).ToList())
        {
            if (await SpendStore.ReadAsync(connection, account.Kind, account.Id) is { } stored)
            {
                account.Reload(stored.Spend, stored.ResetAt);
            }
        }
    }

    private async Task ShareWindowsAsync(System.Data.Common.DbConnection connection)
    {
        var minute = ledger.Minute;
        var now = ledger.Now;
        var changed = new List<(AccountKind, string, long, long, int)>();
        foreach (var account in ledger.Accounts.Where(a => a.HasRateLimits))
        {
            var counts = (Window: minute, Requests: account.LocalRequests(minute), Tokens: account.LocalTokens(minute), account.InFlight);
            var key = (account.Kind, account.Id);
            var last = _published.GetValueOrDefault(key);
            // Calls in flight are written every round, as a heartbeat: the others stop counting them when it stops.
            if (counts != last || counts.InFlight > 0)
            {
                changed.Add((account.Kind, account.Id, counts.Requests, counts.Tokens, counts.InFlight));
                _published[key] = counts;
            }
        }
        await gate.WaitAsync();
        try
        {
            if (changed.Count > 0)
            {
                await using var tx = await connection.BeginTransactionAsync();
                await SpendStore.PublishAsync(connection, tx, Instance, minute, now, changed);
                await tx.CommitAsync();
            }
            if (_prunedWindow < minute)
            {
                await SpendStore.PruneAsync(connection, minute);
                _prunedWindow = minute;
                foreach (var stale in _published.Where(p => p.Value.Window < minute - 1).Select(p => p.Key).ToList())
                {
                    _published.Remove(stale);
                }
            }
        }
        finally
        {
            gate.Release();
        }
        var freshSince = now - 3 * options.Value.SpendSyncInterval - TimeSpan.FromSeconds(1);
        var absorbed = new HashSet<(AccountKind, string)>();
        foreach (var (kind, id, requests, tokens, inFlight) in await SpendStore.OthersAsync(connection, Instance, minute, freshSince))
        {
            ledger.Find(kind, id)?.Absorb(minute, requests, tokens, inFlight);
            absorbed.Add((kind, id));
        }
        foreach (var (kind, id) in _absorbed.Except(absorbed))
        {
            ledger.Find(kind, id)?.Absorb(minute, 0, 0, 0);
        }
        _absorbed = absorbed;
    }

    [LoggerMessage(50, LogLevel.Warning, "Spend sync failed ({Error}); budgets and rate windows are retried next round")]
    private partial void LogSyncFailed(string error);

    [LoggerMessage(51, LogLevel.Debug, "A {Kind}'s budget period ended: spend reset to 0")]
    private partial void LogReset(AccountKind kind);
}
