using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Configuration;

/// <summary>Start-up behaviour operators rely on: missing secrets stop the gateway, the SQLite file is in WAL mode, encryption keys rotate.</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Proxy:MasterKey")]
    [InlineData("Proxy:EncryptionKey")]
    public async Task OutsideDevelopment_AMissingSecretStopsStartUp_NamingTheSetting(string setting)
    {
        await using var gateway = new GatewayFactory { Settings = { [setting] = "" } };

        var error = Assert.ThrowsAny<Exception>(() => gateway.BaseAddress);

        Assert.Contains(setting, error.ToString());
    }

    [Fact]
    public void FromACheckout_TheRepositoryRootsAppsettingsIsTheOneRead()
    {
        var root = Portal.Configuration.GatewayConfiguration.ContentRoot([]);

        Assert.True(File.Exists(Path.Combine(root, "Portal.sln")));
        Assert.True(File.Exists(Path.Combine(root, "appsettings.json")));
        Assert.False(File.Exists(Path.Combine(root, "src", "Portal", "appsettings.json")), "a second appsettings.json would silently compete with the root one");
        Assert.Equal("/srv/gateway", Portal.Configuration.GatewayConfiguration.ContentRoot(["--contentRoot", "/srv/gateway"]));
    }

    [Fact]
    public async Task SqliteFile_IsInWalMode()
    {
        await using var gateway = new GatewayFactory();
        _ = gateway.BaseAddress;
        await using var connection = new SqliteConnection($"Data Source={gateway.DatabaseFile}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";

        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task EncryptionKeyRotation_OldRowsOpenWithPreviousKeys_AndFailClearlyWithout()
    {
        var file = Path.Combine(Path.GetTempPath(), $"rotation-{Guid.NewGuid():N}.db");
        var connection = $"Data Source={file}";
        string modelId;
        await using (var first = new GatewayFactory { Settings = { ["ConnectionStrings:Portal"] = connection, ["Proxy:EncryptionKey"] = "old-key" } })
        {
            var team = await first.CreateTeamAsync();
            modelId = (await first.AddTeamModelAsync(await first.GenerateKeyAsync(team), team, apiKey: "sk-provider-rotated-key-7777"))["model_id"]!.GetValue<string>();
        }

        await using (var withoutOld = new GatewayFactory { Settings = { ["ConnectionStrings:Portal"] = connection, ["Proxy:EncryptionKey"] = "new-key" } })
        {
            var error = Assert.ThrowsAny<Exception>(() => withoutOld.BaseAddress);
            Assert.Contains("PreviousEncryptionKeys", error.ToString());
            Assert.DoesNotContain("sk-provider-rotated-key-7777", error.ToString());
        }

        await using (var rotated = new GatewayFactory
        {
            Settings = { ["ConnectionStrings:Portal"] = connection, ["Proxy:EncryptionKey"] = "new-key", ["Proxy:PreviousEncryptionKeys:0"] = "old-key" },
        })
        {
            var json = await (await rotated.Client().GetAsync($"/model/info?litellm_model_id={modelId}")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal("****7777", json["data"]![0]!["litellm_params"]!["api_key"]!.GetValue<string>());
            Assert.Contains("Re-sealed 1 provider keys", string.Join("\n", rotated.Logs));
        }

        // After the re-seal, the new key alone is enough.
        await using var afterwards = new GatewayFactory { Settings = { ["ConnectionStrings:Portal"] = connection, ["Proxy:EncryptionKey"] = "new-key" } };
        await (await afterwards.Client().GetAsync("/health/readiness")).ReadJsonAsync(HttpStatusCode.OK);
        SqliteConnection.ClearAllPools();
        File.Delete(file);
    }
}
