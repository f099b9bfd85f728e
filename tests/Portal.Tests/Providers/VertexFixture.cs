using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Providers;

/// <summary>A gateway, Google's token endpoint and Vertex AI, each on a real port, shared by one test class.</summary>
public sealed class VertexFixture : IAsyncLifetime
{
    public const string Project = "standin-project";
    public const string Location = "us-east5";
    public const string Claude = "claude-sonnet-4-5@20250929";
    public const string Gemini = "gemini-2.5-flash";

    public VertexFixture()
    {
        Vertex = new VertexStandIn(Google);
    }

    public GatewayFactory Gateway { get; } = new();
    public GoogleTokenStandIn Google { get; } = new();
    public VertexStandIn Vertex { get; }

    /// <summary>A team, its key, and a team model on Vertex AI (a new service account of <see cref="Project"/>).</summary>
    public async Task<VertexSetup> TeamWithModelAsync(string model = Claude, string scenario = "vertex", string name = "vmodel", int? order = null)
    {
        var team = await Gateway.CreateTeamAsync();
        var key = await Gateway.GenerateKeyAsync(team);
        var (keyFile, email) = Google.NewAccount(Project);
        var body = Registration(team, name, model, keyFile, Vertex.ApiBase(scenario, out var upstream));
        if (order is { } o)
        {
            body["litellm_params"]!["order"] = o;
        }
        var response = await Gateway.Client(key).PostAsJsonAsync("/model/new", body);
        var created = await response.ReadJsonAsync(HttpStatusCode.OK);
        return new VertexSetup(team, key, upstream, created["model_id"]!.GetValue<string>(), keyFile, email);
    }

    /// <summary>Another deployment of the same model name, on another Vertex scenario.</summary>
    public async Task<string> AddDeploymentAsync(VertexSetup setup, string scenario, string name = "vmodel", string model = Claude, int? order = null)
    {
        var body = Registration(setup.TeamId, name, model, setup.KeyFile, Vertex.ApiBase(scenario, out var upstream));
        if (order is { } o)
        {
            body["litellm_params"]!["order"] = o;
        }
        (await Gateway.Client(setup.Key).PostAsJsonAsync("/model/new", body)).EnsureSuccessStatusCode();
        return upstream;
    }

    public static JsonObject Registration(string team, string name, string model, string keyFile, string? apiBase) => new()
    {
        ["model_name"] = name,
        ["litellm_params"] = new JsonObject
        {
            ["model"] = $"vertex_ai/{model}",
            ["vertex_project"] = Project,
            ["vertex_location"] = Location,
            ["vertex_credentials"] = keyFile,
            ["api_base"] = apiBase,
        },
        ["model_info"] = new JsonObject { ["team_id"] = team },
    };

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Vertex.DisposeAsync();
        await Google.DisposeAsync();
    }
}

public sealed record VertexSetup(string TeamId, string Key, string UpstreamId, string ModelId, string KeyFile, string Email)
{
    /// <summary>A piece of the private key, to look for where it must never be.</summary>
    public string KeyFragment => JsonNode.Parse(KeyFile)!["private_key"]!.GetValue<string>().Split('\n')[1][..32];
}
