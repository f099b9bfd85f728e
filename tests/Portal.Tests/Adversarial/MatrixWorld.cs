using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Portal.Tests.Infrastructure;
using Proxy.Core.Access;
using Proxy.Core.Users;
using static Portal.Tests.Adversarial.Target;

namespace Portal.Tests.Adversarial;

/// <summary>
/// The data every cell runs against, set up once: teams A and B, a member and an admin of A, one key per caller kind,
/// a model in A, one in B and a global one (all pointing at the stand-in's "ok" scenario), and keys to act on.
/// </summary>
public sealed class MatrixWorld : IAsyncLifetime
{
    public const string ModelA = "matrix-model-a";
    public const string ModelB = "matrix-model-b";
    public const string GlobalModel = "matrix-global-model";
    public const string GarbageKey = "sk-garbage-0000000000000000000000000000000000000000";

    public MatrixWorld() => Gateway = new GatewayFactory { Clock = Clock };

    /// <summary>The gateway's clock: the expired key's lifetime passes by advancing it, not by waiting.</summary>
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
    public GatewayFactory Gateway { get; }
    public StandInUpstream Upstream { get; } = new();
    public HttpClient Http { get; private set; } = null!;

    public string TeamA { get; private set; } = "";
    public string TeamB { get; private set; } = "";
    public Dictionary<Who, string?> Keys { get; } = [];
    public Dictionary<Target, string> ModelIds { get; } = [];
    public Dictionary<Target, string> TargetKeys { get; } = [];
    public string ModelBInternal { get; private set; } = "";
    public string OkApiBase { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = Gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        OkApiBase = Upstream.ApiBase("ok", out _);

        TeamA = await TeamAsync("matrix-a");
        TeamB = await TeamAsync("matrix-b");
        // Valid for a minute of the gateway's clock, which is moved past it once the set-up is done.
        Keys[Who.ExpiredKey] = await KeyAsync(new { team_id = TeamA, duration = "1m" });

        var adminA = $"mx-admin-a-{Guid.NewGuid():N}";
        var memberA = $"mx-member-a-{Guid.NewGuid():N}";
        await AdminAsync("/team/member_add", new { team_id = TeamA, member = new object[] { new { user_id = adminA, role = "admin" }, new { user_id = memberA, role = "user" } } });
        await AdminAsync("/team/member_add", new { team_id = TeamB, member = new { user_id = $"mx-admin-b-{Guid.NewGuid():N}", role = "admin" } });

        Keys[Who.MasterKey] = GatewayFactory.MasterKey;
        Keys[Who.TeamAdmin] = await KeyAsync(new { team_id = TeamA, user_id = adminA });
        Keys[Who.TeamMember] = await KeyAsync(new { team_id = TeamA, user_id = memberA });
        Keys[Who.TeamKey] = await KeyAsync(new { team_id = TeamA });
        Keys[Who.LlmApiKey] = await KeyAsync(new { team_id = TeamA, key_type = "llm_api" });
        Keys[Who.ManagementKey] = await KeyAsync(new { team_id = TeamA, key_type = "management" });
        Keys[Who.NoTeamKey] = await KeyAsync(new { });
        await using (var scope = Gateway.Services.CreateAsyncScope())
        {
            var proxyAdmin = await scope.ServiceProvider.GetRequiredService<UserService>()
                .CreateAsync(Caller.MasterKey, $"mx-proxy-admin-{Guid.NewGuid():N}@example.com", "Proxy-Admin-Passw0rd", isProxyAdmin: true);
            Keys[Who.ProxyAdminUserKey] = await KeyAsync(new { user_id = proxyAdmin.Id });
        }
        Keys[Who.BlockedKey] = await KeyAsync(new { team_id = TeamA, blocked = true });
        var deleted = await KeyAsync(new { team_id = TeamA });
        await AdminAsync("/key/delete", new { keys = new[] { deleted } });
        Keys[Who.DeletedKey] = deleted;
        Keys[Who.Garbage] = GarbageKey;
        Keys[Who.NoKey] = null;

        ModelIds[OwnTeam] = (await AdminAsync("/model/new", ModelBody(ModelA, TeamA)))["model_id"]!.GetValue<string>();
        var b = await AdminAsync("/model/new", ModelBody(ModelB, TeamB));
        ModelIds[OtherTeam] = b["model_id"]!.GetValue<string>();
        ModelBInternal = b["model_name"]!.GetValue<string>();
        ModelIds[Global] = (await AdminAsync("/model/new", ModelBody(GlobalModel, teamId: null)))["model_id"]!.GetValue<string>();

        TargetKeys[OwnTeam] = await KeyAsync(new { team_id = TeamA });
        TargetKeys[OtherTeam] = await KeyAsync(new { team_id = TeamB });
        TargetKeys[Global] = await KeyAsync(new { });

        Clock.Advance(TimeSpan.FromMinutes(2));
    }

    public string TeamOf(Target target) => target switch
    {
        OwnTeam => TeamA,
        OtherTeam => TeamB,
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "this route needs a team target"),
    };

    public string PublicModel(Target target) => target switch
    {
        OwnTeam => ModelA,
        OtherTeam => ModelB,
        Global => GlobalModel,
        _ => throw new ArgumentOutOfRangeException(nameof(target)),
    };

    public object ModelBody(string name, string? teamId) => teamId is null
        ? new { model_name = name, litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-matrix-global-0001", api_base = OkApiBase } }
        : new
        {
            model_name = name,
            litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-matrix-team-0002", api_base = OkApiBase },
            model_info = new { team_id = teamId },
        };

    /// <summary>A fresh model in the target's team (or a global one) for a cell that changes or deletes it.</summary>
    public async Task<string> NewModelAsync(Target target) =>
        (await AdminAsync("/model/new", ModelBody($"mx-{Guid.NewGuid():N}", target == Global ? null : TeamOf(target))))["model_id"]!.GetValue<string>();

    /// <summary>A fresh key in the target's team (or without a team) for a cell that changes, regenerates or deletes it.</summary>
    public Task<string> NewKeyAsync(Target target) => target == Global ? KeyAsync(new { }) : KeyAsync(new { team_id = TeamOf(target) });

    /// <summary>A fresh <c>user</c> member of the target's team.</summary>
    public async Task<string> NewMemberAsync(Target target)
    {
        var userId = $"mx-user-{Guid.NewGuid():N}";
        await AdminAsync("/team/member_add", new { team_id = TeamOf(target), member = new { user_id = userId, role = "user" } });
        return userId;
    }

    private async Task<string> TeamAsync(string alias) =>
        (await AdminAsync("/team/new", new { team_alias = alias, models = new[] { "all-proxy-models" } }))["team_id"]!.GetValue<string>();

    private async Task<string> KeyAsync(object body) => (await AdminAsync("/key/generate", body))["key"]!.GetValue<string>();

    public async Task<JsonObject> AdminAsync(string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) }.WithKey(GatewayFactory.MasterKey);
        using var response = await Http.SendAsync(request);
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
