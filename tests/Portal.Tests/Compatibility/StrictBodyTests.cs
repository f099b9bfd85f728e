using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Compatibility;

/// <summary>
/// docs/api.md section 2, strict bodies: every field LiteLLM's API reference lists for a management route is either
/// implemented (200, and the value read back) or refused by name (400 naming it), never answered 200 and dropped.
/// The field lists are LiteLLM's request models (/work/research/litellm-fields.md section 1, BerriAI/litellm 69ee2c2).
/// </summary>
[Trait("Category", "Database")]
public sealed class StrictBodyTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    private static readonly string[] GenerateBase =
    [
        "key_alias", "duration", "models", "spend", "max_budget", "user_id", "team_id", "max_parallel_requests", "metadata",
        "tpm_limit", "rpm_limit", "budget_duration", "allowed_cache_controls", "config", "permissions", "model_max_budget",
        "model_rpm_limit", "model_tpm_limit", "guardrails", "policies", "prompts", "blocked", "aliases", "object_permission",
    ];

    private static readonly string[] KeyBase =
    [
        "key", "budget_id", "tags", "enforced_params", "allowed_routes", "allowed_passthrough_routes",
        "allowed_vector_store_indexes", "rpm_limit_type", "tpm_limit_type", "router_settings", "access_group_ids",
    ];

    private static readonly string[] GenerateOnly = ["soft_budget", "send_invite_email", "key_type", "auto_rotate", "rotation_interval", "organization_id"];

    private static readonly string[] TeamBase =
    [
        "team_alias", "team_id", "organization_id", "metadata", "tpm_limit", "rpm_limit", "max_budget", "soft_budget",
        "budget_duration", "models", "blocked", "router_settings", "access_group_ids", "model_aliases", "tags", "guardrails",
        "policies", "prompts", "object_permission", "allowed_passthrough_routes", "secret_manager_settings", "model_rpm_limit",
        "model_tpm_limit", "team_member_budget", "team_member_rpm_limit", "team_member_tpm_limit", "team_member_key_duration",
        "allowed_vector_store_indexes",
    ];

    /// <summary>LiteLLM's fields per route (section 1 of the research notes).</summary>
    public static readonly Dictionary<string, string[]> LiteLlm = new()
    {
        ["/key/generate"] = [.. GenerateBase, .. KeyBase, .. GenerateOnly],
        ["/key/update"] = [.. GenerateBase, .. KeyBase, "temp_budget_increase", "temp_budget_expiry", "auto_rotate", "rotation_interval"],
        ["/key/regenerate"] = [.. GenerateBase, .. KeyBase, .. GenerateOnly, "new_key", "new_master_key", "grace_period"],
        ["/key/delete"] = ["keys", "key_aliases"],
        ["/team/new"] = [.. TeamBase, "admins", "members", "members_with_roles", "team_member_permissions", "rpm_limit_type", "tpm_limit_type"],
        ["/team/update"] = [.. TeamBase, "team_member_budget_duration"],
        ["/team/delete"] = ["team_ids"],
        ["/team/member_add"] = ["team_id", "member", "max_budget_in_team"],
        ["/team/member_update"] = ["team_id", "user_id", "user_email", "max_budget_in_team", "role", "tpm_limit", "rpm_limit"],
        ["/team/member_delete"] = ["team_id", "user_id", "user_email"],
        ["/user/new"] = [.. GenerateBase, "user_email", "user_alias", "user_role", "teams", "auto_create_key", "send_invite_email", "sso_user_id", "organizations"],
        ["/user/update"] = [.. GenerateBase, "password", "user_alias", "user_role", "user_email"],
        ["/model/new"] = ["model_name", "litellm_params", "model_info"],
        ["/model/update"] = ["model_name", "litellm_params", "model_info"],
        ["/model/delete"] = ["id"],
    };

    private static readonly string[] KeyFields =
    [
        "key_alias", "duration", "models", "max_budget", "user_id", "team_id", "max_parallel_requests", "metadata", "tpm_limit", "rpm_limit", "budget_duration", "blocked", "tags",
        "model_max_budget",
    ];

    private static readonly string[] TeamFields =
        ["team_alias", "metadata", "tpm_limit", "rpm_limit", "max_budget", "soft_budget", "budget_duration", "models", "blocked", "router_settings", "tags"];

    /// <summary>The fields the gateway implements, per route: each must be read back after a 200.</summary>
    public static readonly Dictionary<string, string[]> Implemented = new()
    {
        ["/key/generate"] = [.. KeyFields, "key_type", "aliases", "soft_budget"],
        // team_id on /key/update and /key/regenerate: only the key's own team (a 400 naming team_id for another).
        ["/key/update"] = ["key", .. KeyFields.Except(["team_id"]), "aliases"],
        ["/key/regenerate"] = ["key", .. KeyFields.Except(["team_id"]), "key_type", "aliases", "soft_budget"],
        ["/key/delete"] = ["keys", "key_aliases"],
        ["/team/new"] = ["team_id", "members_with_roles", "model_aliases", "team_member_permissions", .. TeamFields],
        ["/team/update"] = ["team_id", "model_aliases", .. TeamFields],
        ["/team/delete"] = ["team_ids"],
        ["/team/member_add"] = ["team_id", "member", "max_budget_in_team"],
        ["/team/member_update"] = ["team_id", "user_id", "user_email", "role", "max_budget_in_team"],
        ["/team/member_delete"] = ["team_id", "user_id", "user_email"],
        ["/user/new"] = ["user_id", "user_email", "user_role", "max_budget", "budget_duration", "auto_create_key", "team_id", "models", "tpm_limit", "rpm_limit", "duration"],
        ["/user/update"] = ["user_id", "user_email", "user_role", "max_budget", "budget_duration", "models", "tpm_limit", "rpm_limit"],
        ["/model/new"] = ["model_name", "litellm_params", "model_info"],
        ["/model/update"] = ["model_info", "litellm_params", "model_name"],
        ["/model/delete"] = ["id"],
    };

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var (route, fields) in LiteLlm)
        {
            foreach (var field in fields.Distinct())
            {
                cases.Add(route, field);
            }
        }
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EveryLiteLlmField_IsImplementedAndReadBack_OrRefusedByName(string route, string field)
    {
        var world = await WorldAsync(route);
        var implemented = Implemented[route].Contains(field);
        if (world.Body.ContainsKey(field))
        {
            // The route cannot work without it: the call itself is the read-back (and every other case sends it).
            Assert.True(implemented, $"{route} needs {field} but it is not listed as implemented.");
            return;
        }
        var body = (JsonObject)world.Body.DeepClone();
        var sent = Sample(route, field, world);
        body[field] = sent.DeepClone();

        var response = await gateway.Client().PostAsync(route, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        if (implemented)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route} {field} is listed as implemented but answered {(int)response.StatusCode}: {text}");
            var answer = JsonNode.Parse(text)!.AsObject();
            var info = await world.ReadBack(answer);
            Assert.True(ReadBack(route, field, answer, info, sent, world), $"{route} {field}={sent.ToJsonString()} answered 200 but reads back as: {info.ToJsonString()}");
        }
        else
        {
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{route} {field} is not implemented, so it must be refused by name; answered {(int)response.StatusCode}: {text}");
            var error = JsonNode.Parse(text)!["error"]!;
            Assert.Equal(field, error["param"]?.GetValue<string>());
            Assert.Contains(field, error["message"]!.GetValue<string>());
        }
    }

    public static TheoryData<string> ManagementPosts() =>
    [
        "/key/generate", "/key/update", "/key/regenerate", "/key/delete", "/team/new", "/team/update", "/team/delete",
        "/team/member_add", "/team/member_update", "/team/member_delete", "/user/new", "/user/update", "/model/new",
        "/model/update", "/model/delete",
    ];

    [Theory]
    [MemberData(nameof(ManagementPosts))]
    public async Task AnUnknownField_IsA400NamingIt_AndChangesNothing(string route)
    {
        var world = await WorldAsync(route);
        var body = (JsonObject)world.Body.DeepClone();
        body["no_such_field_xyz"] = 1;
        var before = await gateway.DumpAsync();

        var response = await gateway.Client().PostAsync(route, new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

        var message = await response.ReadErrorAsync(HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.StartsWith($"no_such_field_xyz is not a field of {route}.", message);
        Assert.Equal(before, await gateway.DumpAsync());
    }

    [Fact]
    public async Task AnUnknownField_OnThePatchRouteAndInAMember_IsRefusedToo()
    {
        var world = await WorldAsync("/model/update");
        var modelId = world.Body["model_info"]!["id"]!.GetValue<string>();
        var patch = await gateway.Client().PatchAsJsonAsync($"/model/{modelId}/update", new { no_such_field_xyz = 1 });
        Assert.StartsWith("no_such_field_xyz is not a field of /model/{model_id}/update.", await patch.ReadErrorAsync(HttpStatusCode.BadRequest));

        var team = await gateway.CreateTeamAsync();
        var member = await gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_id = "m-" + Guid.NewGuid(), role = "user", max_budget = 5 } });
        var json = await member.ReadJsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal("member.max_budget", json["error"]!["param"]!.GetValue<string>());
        var created = await gateway.Client().PostAsJsonAsync("/team/new", new { members_with_roles = new[] { new { user_id = "m-" + Guid.NewGuid(), role = "user", nickname = "x" } } });
        Assert.Equal("member.nickname", (await created.ReadJsonAsync(HttpStatusCode.BadRequest))["error"]!["param"]!.GetValue<string>());
    }

    /// <summary>LiteLLM's scripts send explicit nulls for optional fields (the tests' KG-default body), including ones the gateway does not act on.</summary>
    [Fact]
    public async Task ExplicitNulls_AreAccepted_ForLiteLlmFields()
    {
        var key = await gateway.Client().PostAsync("/key/generate", new StringContent(
            """{"models": [], "duration": null, "max_budget": null, "budget_duration": null, "max_parallel_requests": null, "user_id": null, "team_id": null, "metadata": null, "soft_budget": null, "aliases": null, "tags": null, "guardrails": null}""",
            Encoding.UTF8, "application/json"));
        await key.ReadJsonAsync(HttpStatusCode.OK);
        var team = await gateway.Client().PostAsync("/team/new", new StringContent(
            """{"team_alias": "nulls", "organization_id": null, "model_aliases": null, "tags": null, "max_budget": null, "soft_budget": null}""", Encoding.UTF8, "application/json"));
        await team.ReadJsonAsync(HttpStatusCode.OK);

        // A null for a name LiteLLM does not know is still a typo worth reporting.
        var typo = await gateway.Client().PostAsync("/key/generate", new StringContent("""{"max_budgte": null}""", Encoding.UTF8, "application/json"));
        Assert.StartsWith("max_budgte is not a field of /key/generate.", await typo.ReadErrorAsync(HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task Tags_AreKeptInMetadata_WithTheRestOfIt()
    {
        var team = await gateway.CreateTeamAsync();
        await (await gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, metadata = new { owner = "ops" } })).ReadJsonAsync(HttpStatusCode.OK);

        var updated = await (await gateway.Client().PostAsJsonAsync("/team/update", new { team_id = team, tags = new[] { "prod" } })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("""{"owner":"ops","tags":["prod"]}""", updated["data"]!["metadata"]!.ToJsonString());
    }

    private sealed record World(JsonObject Body, Func<JsonObject, Task<JsonObject>> ReadBack, Dictionary<string, string> Names);

    private async Task<World> WorldAsync(string route)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var names = new Dictionary<string, string>();
        if (route.StartsWith("/key/", StringComparison.Ordinal) || route == "/user/new")
        {
            names["team"] = await gateway.CreateTeamAsync();
        }
        switch (route)
        {
            case "/key/generate":
                return new World([], a => KeyInfoAsync(a["token"]!.GetValue<string>()), names);
            case "/key/update":
            {
                var key = await gateway.GenerateKeyAsync(null);
                return new World(new JsonObject { ["key"] = key }, _ => KeyInfoAsync(key), names);
            }
            case "/key/regenerate":
            {
                var key = await gateway.GenerateKeyAsync(null);
                return new World(new JsonObject { ["key"] = key }, a => KeyInfoAsync(a["key"]!.GetValue<string>()), names);
            }
            case "/key/delete":
            {
                var key = await gateway.GenerateKeyAsync(null);
                names["alias"] = "strict-alias-" + id;
                await gateway.GenerateKeyAsync(null, new { key_alias = names["alias"] });
                return new World(new JsonObject { ["keys"] = new JsonArray(key) }, a => Task.FromResult(a), names);
            }
            case "/team/new":
                return new World([], a => TeamInfoAsync(a["team_id"]!.GetValue<string>()), names);
            case "/team/update":
            {
                var team = await gateway.CreateTeamAsync();
                return new World(new JsonObject { ["team_id"] = team }, _ => TeamInfoAsync(team), names);
            }
            case "/team/delete":
                return new World(new JsonObject { ["team_ids"] = new JsonArray(await gateway.CreateTeamAsync()) }, a => Task.FromResult(a), names);
            case "/team/member_add":
            {
                var team = await gateway.CreateTeamAsync();
                names["user"] = "strict-m-" + id;
                return new World(new JsonObject { ["team_id"] = team, ["member"] = new JsonObject { ["user_id"] = names["user"], ["role"] = "user" } },
                    _ => TeamInfoAsync(team), names);
            }
            case "/team/member_update":
            case "/team/member_delete":
            {
                var team = await gateway.CreateTeamAsync();
                names["user"] = "strict-m-" + id;
                names["email"] = $"strict-{id}@example.com";
                await (await gateway.Client().PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_id = names["user"], user_email = names["email"], role = "user" } }))
                    .ReadJsonAsync(HttpStatusCode.OK);
                var body = new JsonObject { ["team_id"] = team, ["user_id"] = names["user"] };
                if (route == "/team/member_update")
                {
                    body["role"] = "admin";
                }
                return new World(body, _ => TeamInfoAsync(team), names);
            }
            case "/user/new":
                return new World([], async a =>
                {
                    var info = await UserInfoAsync(a["user_id"]!.GetValue<string>(), withTeams: true);
                    // duration is the lifetime of the key /user/new creates.
                    info["expires"] = a["key"] is { } key ? (await KeyInfoAsync(key.GetValue<string>()))["expires"]?.DeepClone() : null;
                    return info;
                }, names);
            case "/user/update":
            {
                var user = "strict-u-" + id;
                names["email"] = $"strict-{id}@example.com";
                await (await gateway.Client().PostAsJsonAsync("/user/new", new { user_id = user, user_email = names["email"], auto_create_key = false })).ReadJsonAsync(HttpStatusCode.OK);
                return new World(new JsonObject { ["user_id"] = user }, _ => UserInfoAsync(user), names);
            }
            case "/model/new":
                return new World(new JsonObject { ["model_name"] = "strict-" + id, ["litellm_params"] = new JsonObject { ["model"] = "openai/gpt-4o" } },
                    a => ModelInfoAsync(a["model_id"]!.GetValue<string>()), names);
            case "/model/update":
            case "/model/delete":
            {
                var model = await (await gateway.Client().PostAsJsonAsync("/model/new", new { model_name = "strict-" + id, litellm_params = new { model = "openai/gpt-4o" } }))
                    .ReadJsonAsync(HttpStatusCode.OK);
                var modelId = model["model_id"]!.GetValue<string>();
                return route == "/model/delete"
                    ? new World(new JsonObject { ["id"] = modelId }, a => Task.FromResult(a), names)
                    : new World(new JsonObject { ["model_info"] = new JsonObject { ["id"] = modelId } }, _ => ModelInfoAsync(modelId), names);
            }
            default:
                throw new ArgumentException(route);
        }
    }

    private async Task<JsonObject> KeyInfoAsync(string key) =>
        (await (await gateway.Client().GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK))["info"]!.AsObject();

    /// <summary>The team's <c>team_info</c>, with the answer's <c>team_memberships</c> (members' budgets) beside its fields.</summary>
    private async Task<JsonObject> TeamInfoAsync(string team)
    {
        var answer = await (await gateway.Client().GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK);
        var info = answer["team_info"]!.AsObject();
        info["team_memberships"] = answer["team_memberships"]!.DeepClone();
        return info;
    }

    /// <summary>The user's <c>user_info</c>; with <paramref name="withTeams"/>, the answer's <c>teams</c> beside its fields.</summary>
    private async Task<JsonObject> UserInfoAsync(string user, bool withTeams = false)
    {
        var answer = await (await gateway.Client().GetAsync($"/user/info?user_id={user}")).ReadJsonAsync(HttpStatusCode.OK);
        var info = answer["user_info"]!.AsObject();
        if (withTeams)
        {
            info["teams_joined"] = answer["teams"]!.DeepClone();
        }
        return info;
    }

    private async Task<JsonObject> ModelInfoAsync(string model) =>
        (await (await gateway.Client().GetAsync($"/model/info?litellm_model_id={model}")).ReadJsonAsync(HttpStatusCode.OK))["data"]![0]!.AsObject();

    /// <summary>A plausible value for a field (LiteLLM's type and an example of its docs).</summary>
    private static JsonNode Sample(string route, string field, World world)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        return field switch
        {
            "team_id" => route == "/team/new" ? $"strict-team-{id}" : world.Names.GetValueOrDefault("team", "strict-no-team"),
            "user_id" => $"strict-user-{id}",
            "user_email" => world.Names.TryGetValue("email", out var email) ? email : $"strict-{id}@example.com",
            "key_alias" or "team_alias" or "user_alias" => $"strict-alias-{id}",
            "key_aliases" => new JsonArray(world.Names["alias"]),
            "members_with_roles" => new JsonArray(new JsonObject { ["user_id"] = $"strict-m-{id}", ["role"] = "user" }),
            "model_name" => $"strict-renamed-{id}",
            "model_info" => new JsonObject { ["id"] = $"strict-model-{id}" },
            "litellm_params" => new JsonObject { ["api_version"] = "2024-10-21" },
            "key" or "new_key" or "new_master_key" => "sk-chosen-0123456789abcdefghijklmnopqrstuv",
            _ => JsonNode.Parse(Samples[field])!,
        };
    }

    private static readonly Dictionary<string, string> Samples = new()
    {
        ["duration"] = "\"30d\"", ["models"] = "[\"gpt-4o\"]", ["spend"] = "0", ["max_budget"] = "10", ["max_parallel_requests"] = "5",
        ["metadata"] = "{\"owner\": \"ops\"}", ["tpm_limit"] = "1000", ["rpm_limit"] = "100", ["budget_duration"] = "\"30d\"",
        ["allowed_cache_controls"] = "[\"no-cache\"]", ["config"] = "{\"model_list\": []}", ["permissions"] = "{\"pii\": false}",
        ["model_max_budget"] = "{\"gpt-4o\": {\"budget_limit\": 1, \"time_period\": \"1d\"}}", ["model_rpm_limit"] = "{\"gpt-4o\": 10}",
        ["model_tpm_limit"] = "{\"gpt-4o\": 1000}", ["guardrails"] = "[\"pii-mask\"]", ["policies"] = "[\"p1\"]", ["prompts"] = "[\"p1\"]",
        ["blocked"] = "true", ["aliases"] = "{\"cheap\": \"gpt-4o\"}", ["object_permission"] = "{\"vector_stores\": [\"vs1\"]}",
        ["budget_id"] = "\"budget-1\"", ["tags"] = "[\"prod\", \"team-a\"]", ["enforced_params"] = "[\"user\"]",
        ["allowed_routes"] = "[\"/chat/completions\"]", ["allowed_passthrough_routes"] = "[\"/vertex_ai\"]",
        ["allowed_vector_store_indexes"] = "[{\"index_name\": \"i\", \"index_permissions\": [\"read\"]}]",
        ["rpm_limit_type"] = "\"best_effort_throughput\"", ["tpm_limit_type"] = "\"best_effort_throughput\"",
        ["router_settings"] = "{\"num_retries\": 2}", ["access_group_ids"] = "[\"group-1\"]", ["soft_budget"] = "5",
        ["send_invite_email"] = "false", ["key_type"] = "\"management\"", ["auto_rotate"] = "true", ["rotation_interval"] = "\"30d\"",
        ["organization_id"] = "\"org-1\"", ["temp_budget_increase"] = "10", ["temp_budget_expiry"] = "\"2030-01-01T00:00:00Z\"",
        ["grace_period"] = "\"24h\"", ["admins"] = "[\"u1\"]", ["members"] = "[\"u1\"]", ["team_member_permissions"] = "[\"/key/generate\"]",
        ["model_aliases"] = "{\"cheap\": \"gpt-4o\"}", ["secret_manager_settings"] = "{\"namespace\": \"x\"}", ["team_member_budget"] = "5",
        ["team_member_rpm_limit"] = "10", ["team_member_tpm_limit"] = "1000", ["team_member_key_duration"] = "\"1d\"",
        ["team_member_budget_duration"] = "\"30d\"", ["max_budget_in_team"] = "1.5", ["role"] = "\"admin\"",
        ["user_role"] = "\"proxy_admin\"", ["teams"] = "[\"t1\"]", ["auto_create_key"] = "false", ["sso_user_id"] = "\"sso-1\"",
        ["organizations"] = "[\"org-1\"]", ["password"] = "\"correct-horse-battery\"", ["member"] = "{\"user_id\": \"x\", \"role\": \"user\"}",
    };

    /// <summary>How an implemented field shows in the read-back (by default: the info object has it, equal to what was sent).</summary>
    private static bool ReadBack(string route, string field, JsonObject answer, JsonObject info, JsonNode sent, World world) => field switch
    {
        "duration" => info["expires"] is not null,
        "tags" => JsonNode.DeepEquals(info["metadata"]?["tags"], sent),
        "router_settings" => info["router_settings"]?["num_retries"]?.GetValue<int>() == 2,
        "model_aliases" => JsonNode.DeepEquals(info["litellm_model_table"]?["model_aliases"]?["cheap"], sent["cheap"]),
        "team_id" when route == "/user/new" => info["teams_joined"]!.AsArray().Any(t => t!["team_id"]!.GetValue<string>() == sent.GetValue<string>()),
        "max_budget_in_team" => info["team_memberships"]!.AsArray()
            .Any(m => m!["user_id"]!.GetValue<string>() == world.Names["user"] && m["litellm_budget_table"]?["max_budget"]?.GetValue<double>() == sent.GetValue<double>()),
        "members_with_roles" => info["members_with_roles"]!.AsArray().Any(m => m!["user_id"]!.GetValue<string>() == sent[0]!["user_id"]!.GetValue<string>()),
        "key_aliases" => answer["deleted_keys"]!.AsArray().Any(k => k!.GetValue<string>() == world.Names["alias"]),
        "auto_create_key" => answer["key"] is null,
        "model_info" => answer["model_id"]!.GetValue<string>() == sent["id"]!.GetValue<string>(),
        "litellm_params" => info["litellm_params"]?["api_version"]?.GetValue<string>() == "2024-10-21",
        // Names the member the call acts on (alongside user_id): the call finding that member is its read-back.
        "user_email" when route.StartsWith("/team/member_", StringComparison.Ordinal) => info["members_with_roles"]!.AsArray()
            .Any(m => m!["user_email"]?.GetValue<string>() == world.Names["email"]) == (route == "/team/member_update"),
        _ => JsonNode.DeepEquals(info[field], sent),
    };
}
