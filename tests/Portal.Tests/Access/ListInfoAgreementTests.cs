using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Adversarial;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;

namespace Portal.Tests.Access;

/// <summary>
/// One rule serves a list and its single read: for every caller kind of the authorization matrix, every key (team,
/// model) it can read through <c>/key/info</c> (<c>/team/info</c>, <c>/model/info?litellm_model_id=</c>) is in its
/// <c>/key/list</c> (<c>/team/list</c>, <c>/model/info</c>), and nothing else is.
/// </summary>
public sealed class ListInfoAgreementTests(MatrixWorld world) : IClassFixture<MatrixWorld>, IAsyncLifetime
{
    /// <summary>
    /// Keys owned by the users behind the matrix's keys, beyond the keys themselves: a second team key and a key of no
    /// team of the team member's user, and one of the team admin's user. A user's keys are where list and info once disagreed.
    /// </summary>
    public async Task InitializeAsync()
    {
        foreach (var who in new[] { Who.TeamMember, Who.TeamAdmin })
        {
            var userId = (await GetAsync(who, "/key/info"))!["info"]!["user_id"]!.GetValue<string>();
            // xUnit runs this once per test case against the one shared world: seed once.
            if (await WithDbAsync(db => db.Keys.AnyAsync(k => k.UserId == userId && k.TeamId == null)))
            {
                continue;
            }
            await world.AdminAsync("/key/generate", new { team_id = world.TeamA, user_id = userId });
            await world.AdminAsync("/key/generate", new { user_id = userId });
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<Who> Callers => [.. Enum.GetValues<Who>()];

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task KeyList_HoldsExactlyTheKeysKeyInfoShows(Who who)
    {
        var tokens = await WithDbAsync(db => db.Keys.Select(k => k.Token).ToListAsync());
        var readable = new List<string>();
        foreach (var token in tokens)
        {
            if (await GetAsync(who, $"/key/info?key={token}") is { } info)
            {
                readable.Add(info["info"]!["key_name"]!.GetValue<string>());
            }
        }

        var listed = await ListAllAsync(who, "/key/list", "keys", "key_name");

        AssertSame(who, "/key/info", readable, "/key/list", listed);
        if (who is Who.TeamMember or Who.TeamAdmin)
        {
            Assert.True(listed.Count >= 3, $"{who} lists its own key and its user's two other keys: {string.Join(", ", listed)}");
        }
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task TeamList_HoldsExactlyTheTeamsTeamInfoShows(Who who)
    {
        var teamIds = await WithDbAsync(db => db.Teams.Select(t => t.TeamId).ToListAsync());
        var readable = new List<string>();
        foreach (var teamId in teamIds)
        {
            if (await GetAsync(who, $"/team/info?team_id={teamId}") is not null)
            {
                readable.Add(teamId);
            }
        }

        var listed = (await GetAsync(who, "/team/list")) is JsonArray teams ? teams.Select(t => t!["team_id"]!.GetValue<string>()).ToList() : [];

        AssertSame(who, "/team/info", readable, "/team/list", listed);
    }

    [Theory]
    [MemberData(nameof(Callers))]
    public async Task ModelInfoList_HoldsExactlyTheModelsASingleModelInfoShows(Who who)
    {
        var modelIds = await WithDbAsync(db => db.Deployments.Select(d => d.ModelId).ToListAsync());
        var readable = new List<string>();
        foreach (var modelId in modelIds)
        {
            if (await GetAsync(who, $"/model/info?litellm_model_id={modelId}") is { } one)
            {
                readable.Add(one["data"]![0]!["model_info"]!["id"]!.GetValue<string>());
            }
        }

        var listed = (await GetAsync(who, "/model/info"))?["data"] is JsonArray data
            ? data.Select(m => m!["model_info"]!["id"]!.GetValue<string>()).ToList()
            : [];

        AssertSame(who, "single /model/info", readable, "/model/info", listed);
    }

    private static void AssertSame(Who who, string singleRoute, List<string> single, string listRoute, List<string> listed)
    {
        var onlySingle = single.Except(listed).Order(StringComparer.Ordinal).ToList();
        var onlyListed = listed.Except(single).Order(StringComparer.Ordinal).ToList();
        Assert.True(onlySingle.Count == 0 && onlyListed.Count == 0,
            $"{who}: {singleRoute} and {listRoute} disagree.\n  readable through {singleRoute} but not in {listRoute}: [{string.Join(", ", onlySingle)}]"
            + $"\n  in {listRoute} but not readable through {singleRoute}: [{string.Join(", ", onlyListed)}]");
    }

    /// <summary>Every page of a paged list, as the values of <paramref name="field"/>; empty when the caller is refused the list.</summary>
    private async Task<List<string>> ListAllAsync(Who who, string route, string items, string field)
    {
        var found = new List<string>();
        for (var page = 1; ; page++)
        {
            if (await GetAsync(who, $"{route}?page={page}&size=100") is not { } body)
            {
                return found;
            }
            found.AddRange(body[items]!.AsArray().Select(k => k![field]!.GetValue<string>()));
            if (page >= body["total_pages"]!.GetValue<int>())
            {
                return found;
            }
        }
    }

    /// <summary>The body of a 200; null for a refusal (401, 403, 404), which reads as "not visible".</summary>
    private async Task<JsonNode?> GetAsync(Who who, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path).WithKey(world.Keys[who]);
        using var response = await world.Http.SendAsync(request);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
        {
            return null;
        }
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonNode>();
    }

    private async Task<T> WithDbAsync<T>(Func<PortalDb, Task<T>> read)
    {
        await using var scope = world.Gateway.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<PortalDb>());
    }
}
