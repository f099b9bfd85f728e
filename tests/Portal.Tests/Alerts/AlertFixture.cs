using Microsoft.Extensions.Time.Testing;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Alerts;

/// <summary>
/// A gateway whose operator webhook (<c>Proxy:Alerts:WebhookUrl</c>, signed with <see cref="Secret"/>) is a real listener,
/// on a fake clock so a test can end a budget period, and quick retries.
/// </summary>
public sealed class AlertFixture : LlmFixture, IAsyncLifetime
{
    public const string Secret = "test-alert-signing-secret";

    /// <summary>The operator's webhook path: as a Slack one, its path is the secret that must never be logged.</summary>
    public const string OperatorPath = "/services/T000/B000/operator-secret-path";

    public static readonly DateTimeOffset Start = new(2027, 3, 10, 12, 0, 0, TimeSpan.Zero);

    public AlertFixture()
        : this(new WebhookReceiver(), new FakeTimeProvider(Start))
    {
    }

    private AlertFixture(WebhookReceiver receiver, FakeTimeProvider clock)
        : base(new GatewayFactory
        {
            Clock = clock,
            Settings =
            {
                ["Proxy:Alerts:WebhookUrl"] = receiver.BaseAddress + OperatorPath,
                ["Proxy:Alerts:Secret"] = Secret,
                ["Proxy:Alerts:RetryDelay"] = "00:00:00.050",
            },
        })
    {
        Receiver = receiver;
        Clock = clock;
    }

    public WebhookReceiver Receiver { get; }
    public FakeTimeProvider Clock { get; }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await Receiver.DisposeAsync();
    }
}
