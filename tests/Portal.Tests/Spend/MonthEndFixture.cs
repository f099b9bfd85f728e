using Microsoft.Extensions.Time.Testing;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Spend;

/// <summary>
/// A gateway whose clock starts ten minutes before a month ends, on Sunday 31 January 2027 at 23:50 UTC: the next
/// midnight is at once a day's, a week's (Monday) and a month's boundary. The clock moves only when a test moves it.
/// </summary>
public sealed class MonthEndFixture : LlmFixture
{
    public static readonly DateTimeOffset Start = new(2027, 1, 31, 23, 50, 0, TimeSpan.Zero);

    public MonthEndFixture()
        : this(new FakeTimeProvider(Start))
    {
    }

    private MonthEndFixture(FakeTimeProvider clock)
        : base(new GatewayFactory { Clock = clock }) => Clock = clock;

    public FakeTimeProvider Clock { get; }
}
