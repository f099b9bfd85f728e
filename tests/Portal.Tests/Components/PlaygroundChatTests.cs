using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Portal.Components.Pages.Teams;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Components;

/// <summary>
/// The playground's client against the real gateway over HTTP: a streamed answer arrives piece by piece, and the
/// gateway's refusals (a budget, a rate limit, an unreachable provider) come back in a person's words.
/// </summary>
public sealed class PlaygroundChatTests : IAsyncLifetime
{
    private readonly GatewayFactory _gateway = new();
    private readonly StandInUpstream _upstream = new();
    private string _team = "";

    public async Task InitializeAsync()
    {
        _team = await _gateway.CreateTeamAsync("Chat");
        var owner = await _gateway.GenerateKeyAsync(_team);
        await _gateway.AddTeamModelAsync(owner, _team, "streamed", apiBase: _upstream.ApiBase("sse", out _));
        await _gateway.AddTeamModelAsync(owner, _team, "unreachable", apiBase: "http://127.0.0.1:9/v1");
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private PlaygroundChat Chat() => new(new HttpClient(), _gateway.Services.GetRequiredService<IServer>());

    private async Task<List<string>> AskAsync(string key, string model)
    {
        var pieces = new List<string>();
        await foreach (var piece in Chat().StreamAsync(key, model, "Be brief.", 0.2, [new PlaygroundChat.Turn("user", "hi")], CancellationToken.None))
        {
            pieces.Add(piece);
        }
        return pieces;
    }

    [Fact]
    public async Task AStreamedAnswer_ArrivesPieceByPiece()
    {
        var key = await _gateway.GenerateKeyAsync(_team);
        Assert.Equal(["Sunny", " in", " Boston."], await AskAsync(key, "streamed"));
    }

    [Fact]
    public async Task Refusals_ReadAsAPersonWouldSayThem()
    {
        var broke = await _gateway.GenerateKeyAsync(_team, new { max_budget = 0 });
        var budget = await Assert.ThrowsAsync<GatewayRefusal>(() => AskAsync(broke, "streamed"));
        Assert.StartsWith("Budget exceeded: ", budget.Message);

        var limited = await _gateway.GenerateKeyAsync(_team, new { rpm_limit = 1 });
        await AskAsync(limited, "streamed");
        var limit = await Assert.ThrowsAsync<GatewayRefusal>(() => AskAsync(limited, "streamed"));
        Assert.Equal(429, limit.Status);
        Assert.Matches(@"^Too many requests, a rate limit was reached \(try again in \d+ s\): ", limit.Message);

        var key = await _gateway.GenerateKeyAsync(_team);
        var down = await Assert.ThrowsAsync<GatewayRefusal>(() => AskAsync(key, "unreachable"));
        Assert.StartsWith("The provider could not answer (502): ", down.Message);

        var unknown = await Assert.ThrowsAsync<GatewayRefusal>(() => AskAsync("sk-not-a-key-at-all", "streamed"));
        Assert.StartsWith("The gateway did not accept this key: ", unknown.Message);
    }
}
