using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Usage;

public sealed class UsageShutdownTests
{
    [Fact]
    public async Task UsageRecords_AreNotLost_OnOrderlyShutdown()
    {
        await using var upstream = new StandInUpstream();
        var gateway = new GatewayFactory { KeepDatabaseFile = true };
        var file = gateway.DatabaseFile;
        var team = await gateway.CreateTeamAsync();
        var key = await gateway.GenerateKeyAsync(team);
        (await gateway.Client(key).PostAsJsonAsync("/model/new", new
        {
            model_name = "counted",
            litellm_params = new { model = "openai/gpt-4o", api_base = upstream.ApiBase("ok", out _), api_key = "sk-provider-counted-1234" },
            model_info = new { team_id = team },
        })).EnsureSuccessStatusCode();
        var client = gateway.Client(key);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
            (await client.PostAsJsonAsync("/v1/chat/completions", new { model = "counted", messages = Array.Empty<object>() })).EnsureSuccessStatusCode()));
        // Shut down at once: whatever is still in the channel must be written before the process would exit.
        await gateway.DisposeAsync();

        await using var connection = new SqliteConnection($"Data Source={file}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*), SUM(TotalTokens) FROM usage_records";
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(40, reader.GetInt32(0));
        Assert.Equal(40 * 18, reader.GetInt32(1));
        await connection.CloseAsync();
        SqliteConnection.ClearAllPools();
        File.Delete(file);
    }
}
