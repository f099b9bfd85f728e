using System.Net;
using System.Net.Http.Json;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Teams;

[Trait("Category", "Database")]
public sealed class TeamTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Fact]
    public async Task DuplicateTeamId_Is400_AndChangesNothing()
    {
        var id = $"team-{Guid.NewGuid():N}";
        (await gateway.Client().PostAsJsonAsync("/team/new", new { team_id = id, team_alias = "first" })).EnsureSuccessStatusCode();
        var before = await gateway.DumpAsync();

        var again = await gateway.Client().PostAsJsonAsync("/team/new", new { team_id = id, team_alias = "second" });

        Assert.Contains("already exists", await again.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Equal(before, await gateway.DumpAsync());
    }

    [Fact]
    public async Task UnknownTeam_Is404ForTheAdmin()
    {
        var response = await gateway.Client().GetAsync("/team/info?team_id=no-such-team");

        Assert.Contains("no-such-team", await response.ReadErrorAsync(HttpStatusCode.NotFound, "not_found_error"));
    }

    [Fact]
    public async Task Update_ChangesFields_AndReturnsData()
    {
        var team = await gateway.CreateTeamAsync("before");

        var json = await (await gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, team_alias = "after", rpm_limit = 10, metadata = new { cost_center = "42" } }))
            .ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("after", json["data"]!["team_alias"]!.GetValue<string>());
        Assert.Equal(10, json["data"]!["rpm_limit"]!.GetValue<int>());
        Assert.Equal("42", json["data"]!["metadata"]!["cost_center"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_RemovesTeamWithItsKeysAndModels_AndTheKeyStopsWorking()
    {
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        var modelId = (await gateway.AddTeamModelAsync(key, team))["model_id"]!.GetValue<string>();

        var deleted = await (await gateway.Client().PostAsJsonAsync("/team/delete", new { team_ids = new[] { team } })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(team, deleted["deleted_teams"]![0]!.GetValue<string>());
        await (await gateway.Client(key).GetAsync("/team/info")).ReadErrorAsync(HttpStatusCode.Unauthorized, "auth_error");
        await (await gateway.Client().GetAsync($"/model/info?litellm_model_id={modelId}")).ReadErrorAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteWithOneUnknownTeam_DeletesNothing()
    {
        var team = await gateway.CreateTeamAsync();
        var before = await gateway.DumpAsync();

        var response = await gateway.Client().PostAsJsonAsync("/team/delete", new { team_ids = new[] { team, "missing-team" } });

        await response.ReadErrorAsync(HttpStatusCode.NotFound);
        Assert.Equal(before, await gateway.DumpAsync());
    }

    [Fact]
    public async Task List_AdminSeesAll_TeamKeySeesOnlyItsTeam()
    {
        var mine = await gateway.CreateTeamAsync("mine");
        var other = await gateway.CreateTeamAsync("other");
        var key = await gateway.GenerateKeyAsync(mine);

        var all = await gateway.Client().GetStringAsync("/team/list");
        var own = await gateway.Client(key).GetStringAsync("/team/list");

        Assert.Contains(mine, all);
        Assert.Contains(other, all);
        Assert.Contains(mine, own);
        Assert.DoesNotContain(other, own);
    }

    [Fact]
    public async Task Members_AddUpdateRemove_AndTeamAdminKeyManagesTheTeam()
    {
        var team = await gateway.CreateTeamAsync();
        var admin = gateway.Client();
        var added = await (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = "lead@example.com", role = "admin" } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var leadId = added["updated_team"]!["members_with_roles"]![0]!["user_id"]!.GetValue<string>();

        var duplicate = await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = "lead@example.com", role = "user" } });
        Assert.Contains("already a member", await duplicate.ReadErrorAsync(HttpStatusCode.BadRequest));

        // A key that belongs to the team admin acts as the team admin: it adds members and creates keys.
        var leadKey = await gateway.GenerateKeyAsync(team, new { user_id = leadId });
        var lead = gateway.Client(leadKey);
        var withDev = await (await lead.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new[] { new { user_email = "dev@example.com", role = "user" } } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(2, withDev["updated_team"]!["members_with_roles"]!.AsArray().Count);
        await (await lead.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = $"dev-{Guid.NewGuid():N}" })).ReadJsonAsync(HttpStatusCode.OK);

        // The last admin cannot demote or remove themselves.
        var demote = await lead.PostAsJsonAsync("/team/member_update", new { team_id = team, user_id = leadId, role = "user" });
        Assert.Contains("last admin", await demote.ReadErrorAsync(HttpStatusCode.BadRequest));

        var promoted = await (await lead.PostAsJsonAsync("/team/member_update", new { team_id = team, user_email = "dev@example.com", role = "admin" })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(2, promoted["updated_team"]!["members_with_roles"]!.AsArray().Count(m => m!["role"]!.GetValue<string>() == "admin"));

        var removed = await (await lead.PostAsJsonAsync("/team/member_delete", new { team_id = team, user_email = "dev@example.com" })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Single(removed["updated_team"]!["members_with_roles"]!.AsArray());
    }

    [Fact]
    public async Task TeamAdminKey_CannotManageAnotherTeam()
    {
        var team = await gateway.CreateTeamAsync();
        var other = await gateway.CreateTeamAsync();
        var added = await (await gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_email = $"{Guid.NewGuid():N}@example.com", role = "admin" } }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var leadKey = await gateway.GenerateKeyAsync(team, new { user_id = added["updated_team"]!["members_with_roles"]![0]!["user_id"]!.GetValue<string>() });

        var response = await gateway.Client(leadKey).PostAsJsonAsync("/team/member_add", new { team_id = other, member = new { user_email = "x@example.com", role = "admin" } });

        await response.ReadErrorAsync(HttpStatusCode.Forbidden, "permission_error");
    }
}
