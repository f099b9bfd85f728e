using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Proxy.Core.Persistence;

namespace Portal.Tests.Infrastructure;

/// <summary>
/// The whole gateway on a real Kestrel port with a real database: a fresh SQLite file by default, or a fresh
/// PostgreSQL database when GATEWAY_TEST_POSTGRES holds a server connection string (test.sh starts one).
/// Everything the gateway logs is captured so tests can prove no secret is ever written.
/// </summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    public const string MasterKey = "sk-test-master-key-0123456789";
    public const string EncryptionKey = "test-encryption-key";
    public const string AdminEmail = "root@example.com";
    public const string AdminPassword = "Root-Password-1";

    private static readonly string? PostgresServer = Environment.GetEnvironmentVariable("GATEWAY_TEST_POSTGRES");
    private readonly Dictionary<string, string?> _settings;

    public GatewayFactory()
    {
        DatabaseFile = Path.Combine(Path.GetTempPath(), $"gateway-test-{Guid.NewGuid():N}.db");
        ConnectionString = PostgresServer is null
            ? $"Data Source={DatabaseFile}"
            : $"{PostgresServer};Database=gw_{Guid.NewGuid():N}";
        _settings = new Dictionary<string, string?>
        {
            ["Proxy:MasterKey"] = MasterKey,
            ["Proxy:EncryptionKey"] = EncryptionKey,
            ["Portal:AdminEmail"] = AdminEmail,
            ["Portal:AdminPassword"] = AdminPassword,
            ["ConnectionStrings:Portal"] = ConnectionString,
        };
        UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
    }

    public static bool OnPostgres => PostgresServer is not null;

    public string DatabaseFile { get; }
    public string ConnectionString { get; }
    public FakeTimeProvider? Clock { get; init; }

    /// <summary>Leave the SQLite file behind on dispose, for a test that reads it after the gateway stopped.</summary>
    public bool KeepDatabaseFile { get; init; }

    /// <summary>Settings that override the test defaults (a null value removes one).</summary>
    public Dictionary<string, string?> Settings { get; init; } = [];
    public ConcurrentQueue<string> Logs { get; } = new();

    /// <summary>Services a test adds to the gateway's own (after the factory's).</summary>
    public Action<IServiceCollection>? ExtraServices { get; init; }

    /// <summary>Paths of the requests during which the gateway ran a database command.</summary>
    public IEnumerable<string> DatabaseCommandPaths => Services.GetRequiredService<RequestPathCommands>().Paths;

    public Uri BaseAddress
    {
        get
        {
            StartServer();
            return new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // Outside Development, package assets (MudBlazor, blazor.web.js) come from the runtime manifest only when asked.
        builder.UseStaticWebAssets();
        foreach (var (key, value) in _settings.Concat(Settings))
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Debug);
            logging.AddProvider(new CapturingLoggerProvider(Logs));
        });
        builder.ConfigureServices(services =>
        {
            services.AddHttpContextAccessor();
            services.AddSingleton<RequestPathCommands>();
            services.ConfigureDbContext<SqlitePortalDb>((sp, options) => options.AddInterceptors(sp.GetRequiredService<RequestPathCommands>()));
            services.ConfigureDbContext<PostgresPortalDb>((sp, options) => options.AddInterceptors(sp.GetRequiredService<RequestPathCommands>()));
            if (Clock is not null)
            {
                services.AddSingleton<TimeProvider>(Clock);
            }
            ExtraServices?.Invoke(services);
        });
    }

    /// <summary>An HttpClient on the real port, sending <paramref name="key"/> as a Bearer token (none if null).</summary>
    public HttpClient Client(string? key = MasterKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    /// <summary>The team's one <c>/spend/logs</c> row, once the usage writer has stored it (within 10 s).</summary>
    public async Task<System.Text.Json.Nodes.JsonNode> SingleSpendLogAsync(string teamId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var json = System.Text.Json.Nodes.JsonNode.Parse(await Client().GetStringAsync($"/spend/logs?team_id={teamId}"))!.AsArray();
            if (json.Count > 0 || DateTime.UtcNow > deadline)
            {
                return Assert.Single(json)!;
            }
            await Task.Delay(50);
        }
    }

    public async Task<string> CreateTeamAsync(string? alias = null)
    {
        var response = await Client().PostAsJsonAsync("/team/new", new { team_alias = alias ?? "team" });
        return (await response.ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
    }

    public async Task<string> GenerateKeyAsync(string? teamId, object? extra = null, string? by = MasterKey)
    {
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(extra ?? new { }))!.AsObject();
        if (teamId is not null)
        {
            body["team_id"] = teamId;
        }
        var response = await Client(by).PostAsJsonAsync("/key/generate", body);
        return (await response.ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
    }

    public static object TeamModel(string teamId, string name = "my-team-model", string apiKey = "sk-provider-team-secret-ccb07", string apiBase = "https://my-endpoint-sweden-berri992.openai.azure.com") => new
    {
        model_name = name,
        litellm_params = new
        {
            model = "openai/gpt-4o",
            custom_llm_provider = "openai",
            api_key = apiKey,
            api_base = apiBase,
            api_version = "2023-12-01-preview",
        },
        model_info = new { team_id = teamId },
    };

    public async Task<JsonObject> AddTeamModelAsync(string key, string teamId, string name = "my-team-model", string apiKey = "sk-provider-team-secret-ccb07", string apiBase = "https://my-endpoint-sweden-berri992.openai.azure.com")
    {
        var response = await Client(key).PostAsJsonAsync("/model/new", TeamModel(teamId, name, apiKey, apiBase));
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (KeepDatabaseFile)
        {
            return;
        }
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(DatabaseFile + suffix);
        }
    }
}

public static class HttpAssertions
{
    /// <summary>Asserts the status and returns the JSON object body, showing the body when the status is wrong.</summary>
    public static async Task<JsonObject> ReadJsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Asserts an OpenAI-shaped error envelope with the given status and returns its message.</summary>
    public static async Task<string> ReadErrorAsync(this HttpResponseMessage response, HttpStatusCode expected, string? type = null)
    {
        var json = await response.ReadJsonAsync(expected);
        var error = json["error"]!.AsObject();
        Assert.Equal(((int)expected).ToString(), error["code"]!.GetValue<string>());
        if (type is not null)
        {
            Assert.Equal(type, error["type"]!.GetValue<string>());
        }
        var message = error["message"]!.GetValue<string>();
        Assert.False(string.IsNullOrWhiteSpace(message));
        Assert.DoesNotContain("   at ", message);
        return message;
    }
}

internal sealed class CapturingLoggerProvider(ConcurrentQueue<string> sink) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, sink);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<string> sink) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
    }
}
