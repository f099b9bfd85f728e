using System.Net;
using System.Net.Http.Json;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Spend;

/// <summary>
/// docs/api.md: a limit of 0 means zero, on keys, teams and users alike. The first call is refused (429 for the rate
/// limits, 400 budget_exceeded for budgets, as LiteLLM) and nothing reaches the provider.
/// </summary>
[Trait("Category", "Database")]
public sealed class ZeroLimitTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    [Theory]
    [InlineData("key", "max_parallel_requests", HttpStatusCode.TooManyRequests, "rate_limit_error")]
    [InlineData("key", "rpm_limit", HttpStatusCode.TooManyRequests, "rate_limit_error")]
    [InlineData("key", "tpm_limit", HttpStatusCode.TooManyRequests, "rate_limit_error")]
    [InlineData("key", "max_budget", HttpStatusCode.BadRequest, "budget_exceeded")]
    [InlineData("team", "rpm_limit", HttpStatusCode.TooManyRequests, "rate_limit_error")]
    [InlineData("team", "tpm_limit", HttpStatusCode.TooManyRequests, "rate_limit_error")]
    [InlineData("team", "max_budget", HttpStatusCode.BadRequest, "budget_exceeded")]
    [InlineData("user", "max_budget", HttpStatusCode.BadRequest, "budget_exceeded")]
    public async Task AZeroLimit_RefusesTheFirstCall_AndNothingReachesTheProvider(string on, string limit, HttpStatusCode status, string type)
    {
        var setup = await fixture.TeamWithModelAsync();
        var gateway = fixture.Gateway;
        string key;
        switch (on)
        {
            case "key":
                key = await gateway.GenerateKeyAsync(setup.TeamId, new Dictionary<string, object> { [limit] = 0 });
                break;
            case "team":
                (await gateway.Client().PostAsJsonAsync("/team/update", new Dictionary<string, object> { ["team_id"] = setup.TeamId, [limit] = 0 })).EnsureSuccessStatusCode();
                key = setup.Key;
                break;
            default:
                var user = "zero-" + Guid.NewGuid().ToString("N")[..8];
                (await gateway.Client().PostAsJsonAsync("/user/new", new Dictionary<string, object> { ["user_id"] = user, ["auto_create_key"] = false, [limit] = 0 })).EnsureSuccessStatusCode();
                (await gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = setup.TeamId, member = new { user_id = user, role = "user" } })).EnsureSuccessStatusCode();
                key = await gateway.GenerateKeyAsync(setup.TeamId, new { user_id = user });
                break;
        }

        var first = await gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", Spend.Chat("my-team-model"));

        Assert.Contains(limit == "max_budget" ? "Budget has been exceeded" : $"{limit}=0", await first.ReadErrorAsync(status, type));
        Assert.Empty(fixture.Upstream.ReceivedBy(setup.UpstreamId));
    }
}
