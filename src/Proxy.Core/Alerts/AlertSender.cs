using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proxy.Core.Audit;
using Proxy.Core.Forwarding;
using Proxy.Core.Persistence;
using Proxy.Core.Secrets;
using Proxy.Core.Spend;

namespace Proxy.Core.Alerts;

/// <summary>
/// Sends budget alerts in the background: the usage writer offers each alert it claimed to a bounded channel and never
/// waits. Each alert is recorded in the audit log (its team's Activity tab), then POSTed to the operator's webhook and
/// the team's own, each with its own retries (<see cref="AlertOptions.Attempts"/>, doubling waits), so a webhook that
/// is down delays nothing but its own alerts. A team's webhook is reached under <see cref="UpstreamPolicy"/>, as a
/// team's <c>api_base</c> is. Log lines name a webhook's host only: a webhook's path is often its secret.
/// </summary>
public sealed partial class AlertSender : BackgroundService
{
    private const int Capacity = 1000;

    private readonly IServiceScopeFactory _scopes;
    private readonly AlertOptions _options;
    private readonly SecretBox _secrets;
    private readonly WriteGate _gate;
    private readonly TimeProvider _time;
    private readonly ILogger<AlertSender> _log;
    private readonly HttpClient _operatorClient;
    private readonly HttpClient _teamClient;
    private readonly ConcurrentDictionary<Task, byte> _deliveries = new();

    private readonly Channel<BudgetAlert> _channel = Channel.CreateBounded<BudgetAlert>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });

    public AlertSender(IServiceScopeFactory scopes, IOptions<AlertOptions> options, SecretBox secrets, UpstreamPolicy policy, WriteGate gate,
        TimeProvider time, ILogger<AlertSender> log)
    {
        (_scopes, _options, _secrets, _gate, _time, _log) = (scopes, options.Value, secrets, gate, time, log);
        // The operator's webhook is configuration, trusted as such; a team's is checked like a team's model server.
        _operatorClient = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = _options.Timeout };
        _teamClient = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectCallback = policy.ConnectAsync })
        {
            Timeout = _options.Timeout,
        };
    }

    /// <summary>Never blocks. A full channel (thousands of alerts waiting on webhooks that are down) drops the alert with a log line.</summary>
    public void Enqueue(BudgetAlert alert)
    {
        if (!_channel.Writer.TryWrite(alert))
        {
            LogDropped(BudgetThresholds.EventName(alert.Threshold));
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var alert in _channel.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await SendAsync(alert, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LogFailed(BudgetThresholds.EventName(alert.Threshold), e.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(_deliveries.Keys);
    }

    private async Task SendAsync(BudgetAlert alert, CancellationToken ct)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
        if (await ComposeAsync(db, alert, ct) is not ({ } message, var teamWebhook))
        {
            return;
        }
        var destinations = new List<(HttpClient Client, Uri Url, string Name)>();
        if (_options.WebhookUrl is { Length: > 0 } operatorUrl)
        {
            destinations.Add((_operatorClient, new Uri(operatorUrl), "operator"));
        }
        if (teamWebhook is not null)
        {
            destinations.Add((_teamClient, teamWebhook, "team"));
        }
        await AuditAsync(db, message, destinations.Select(d => d.Name), ct);
        var body = message.Body();
        foreach (var (client, url, _) in destinations)
        {
            var delivery = DeliverAsync(client, url, body, message.Event, ct);
            _deliveries.TryAdd(delivery, 0);
            _ = delivery.ContinueWith(done => _deliveries.TryRemove(done, out _), TaskScheduler.Default);
        }
    }

    /// <summary>The alert's message and the team's webhook, read now; null when the key or team is gone.</summary>
    private async Task<(AlertMessage, Uri?)?> ComposeAsync(PortalDb db, BudgetAlert alert, CancellationToken ct)
    {
        string? teamId = alert.Id, keyAlias = null, maskedKey = null, duration, cipher = null, teamAlias = null;
        DateTime? resetAt;
        if (alert.Kind == AccountKind.Key)
        {
            var key = await db.Keys.AsNoTracking().Where(k => k.Token == alert.Id)
                .Select(k => new { k.KeyName, k.KeyAlias, k.TeamId, k.BudgetDuration, k.BudgetResetAt }).SingleOrDefaultAsync(ct);
            if (key is null)
            {
                return null;
            }
            (teamId, keyAlias, maskedKey, duration, resetAt) = (key.TeamId, key.KeyAlias, key.KeyName, key.BudgetDuration, key.BudgetResetAt);
        }
        else
        {
            (duration, resetAt) = (null, null);
        }
        if (teamId is not null)
        {
            var team = await db.Teams.AsNoTracking().Where(t => t.TeamId == teamId)
                .Select(t => new { t.TeamAlias, t.AlertWebhookCipher, t.BudgetDuration, t.BudgetResetAt }).SingleOrDefaultAsync(ct);
            if (team is null)
            {
                return null;
            }
            (teamAlias, cipher) = (team.TeamAlias, team.AlertWebhookCipher);
            if (alert.Kind == AccountKind.Team)
            {
                (duration, resetAt) = (team.BudgetDuration, team.BudgetResetAt);
            }
        }
        return (new AlertMessage(alert, teamId, teamAlias, keyAlias, maskedKey, duration, resetAt), OpenWebhook(cipher));
    }

    private Uri? OpenWebhook(string? cipher)
    {
        if (cipher is null)
        {
            return null;
        }
        try
        {
            return new Uri(_secrets.Open(cipher));
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or FormatException or UriFormatException)
        {
            LogUnreadableWebhook(e.GetType().Name);
            return null;
        }
    }

    /// <summary>One audit event per alert, in its team's log: what crossed, for whom, and where it is sent. No URL, no raw key.</summary>
    private async Task AuditAsync(PortalDb db, AlertMessage message, IEnumerable<string> sentTo, CancellationToken ct)
    {
        var details = message.ToJson();
        details.Remove("text");
        details["sent_to"] = new System.Text.Json.Nodes.JsonArray([.. sentTo.Select(s => System.Text.Json.Nodes.JsonValue.Create(s))]);
        db.AuditEvents.Add(new AuditEvent
        {
            At = _time.GetUtcNow().UtcDateTime,
            Actor = "gateway",
            Action = "budget.alert",
            TeamId = message.TeamId,
            TargetId = message.MaskedKey ?? message.TeamId,
            Details = details.ToJsonString(),
        });
        await _gate.WaitAsync(ct);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DeliverAsync(HttpClient client, Uri url, byte[] body, string eventName, CancellationToken ct)
    {
        var host = url.IsDefaultPort ? url.Host : $"{url.Host}:{url.Port}";
        var wait = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            string outcome;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                if (_options.Secret is { Length: > 0 } secret)
                {
                    request.Headers.TryAddWithoutValidation(AlertSignature.Header, AlertSignature.Of(body, secret));
                }
                using var response = await client.SendAsync(request, ct);
                if (response.IsSuccessStatusCode)
                {
                    LogSent(eventName, host);
                    return;
                }
                outcome = $"HTTP {(int)response.StatusCode}";
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                outcome = e is TaskCanceledException ? "timeout" : e.GetType().Name;
            }
            if (attempt >= _options.Attempts)
            {
                LogGaveUp(eventName, host, attempt, outcome);
                return;
            }
            LogRetry(eventName, host, attempt, outcome);
            try
            {
                await Task.Delay(wait, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            wait *= 2;
        }
    }

    public override void Dispose()
    {
        _operatorClient.Dispose();
        _teamClient.Dispose();
        base.Dispose();
    }

    [LoggerMessage(60, LogLevel.Information, "Budget alert {Event} sent to {Host}")]
    private partial void LogSent(string @event, string host);

    [LoggerMessage(61, LogLevel.Warning, "Budget alert {Event} to {Host} failed (attempt {Attempt}, {Outcome}); retrying")]
    private partial void LogRetry(string @event, string host, int attempt, string outcome);

    [LoggerMessage(62, LogLevel.Error, "Gave up sending budget alert {Event} to {Host} after {Attempts} attempts ({Outcome})")]
    private partial void LogGaveUp(string @event, string host, int attempts, string outcome);

    [LoggerMessage(63, LogLevel.Warning, "Budget alert channel full: alert {Event} dropped")]
    private partial void LogDropped(string @event);

    [LoggerMessage(64, LogLevel.Error, "Budget alert {Event} could not be prepared ({Error})")]
    private partial void LogFailed(string @event, string error);

    [LoggerMessage(65, LogLevel.Error, "A team's alert webhook cannot be opened with the configured encryption keys ({Error}); the alert goes to the operator's webhook only")]
    private partial void LogUnreadableWebhook(string error);
}
