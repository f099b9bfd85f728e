using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Reliability;

/// <summary>
/// Spend is stored by the background usage writer, in the same transaction as the usage rows. A SIGKILL loses only
/// what that writer had not stored yet (docs/budgets.md): never a call answered a second before the kill,
/// and never spend without its log row or the other way round. Needs a SQLite file: nothing to do on the PostgreSQL run.
/// </summary>
public sealed class SpendDurabilityTests
{
    [Fact]
    [Trait("Category", "Timing")]
    public async Task KillDashNine_KeepsTheSpendOfEveryCallAnsweredASecondBefore_AndSpendEqualsTheSpendLogs()
    {
        if (GatewayFactory.OnPostgres)
        {
            return;
        }
        var file = Path.Combine(Path.GetTempPath(), $"gateway-spend-kill9-{Guid.NewGuid():N}.db");
        await using var upstream = new StandInUpstream();
        try
        {
            var answeredAt = new List<TimeSpan>();
            var clock = Stopwatch.StartNew();
            string team, key;
            await using (var gateway = await GatewayProcess.StartAsync(databaseFile: file, settings: ReliabilityKit.WarningsOnly))
            {
                using var admin = gateway.Client();
                team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "kill9-spend" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
                key = (await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team, max_budget = 1000 })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>();
                (await admin.PostAsJsonAsync("/model/new", new
                {
                    model_name = "priced",
                    litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-kill9-spend-1", api_base = upstream.ApiBase("ok", out _), input_cost_per_token = 0.001, output_cost_per_token = 0.002 },
                    model_info = new { team_id = team },
                })).EnsureSuccessStatusCode();

                using var calls = gateway.Client(key);
                var until = clock.Elapsed + TimeSpan.FromSeconds(3);
                while (clock.Elapsed < until)
                {
                    (await calls.PostAsJsonAsync("/v1/chat/completions", ReliabilityKit.Chat("priced"))).EnsureSuccessStatusCode();
                    answeredAt.Add(clock.Elapsed);
                    await Task.Delay(20);
                }
                gateway.KillHard();
            }
            var killedAt = clock.Elapsed;

            await using var restarted = await GatewayProcess.StartAsync(databaseFile: file, settings: ReliabilityKit.WarningsOnly);
            using var reader = restarted.Client();
            var logs = new List<JsonObject>();
            for (var page = 1; ; page++)
            {
                var batch = (await reader.GetFromJsonAsync<JsonArray>($"/spend/logs?team_id={team}&size=100&page={page}"))!.Select(l => l!.AsObject()).ToList();
                logs.AddRange(batch);
                if (batch.Count < 100)
                {
                    break;
                }
            }
            var spend = (await (await reader.GetAsync($"/key/info?key={key}")).ReadJsonAsync(HttpStatusCode.OK))["info"]!["spend"]!.GetValue<double>();
            var teamSpend = (await (await reader.GetAsync($"/team/info?team_id={team}")).ReadJsonAsync(HttpStatusCode.OK))["team_info"]!["spend"]!.GetValue<double>();

            var answeredASecondBefore = answeredAt.Count(t => killedAt - t > TimeSpan.FromSeconds(1));
            Assert.True(answeredASecondBefore > 10, $"only {answeredASecondBefore} calls were answered a second before the kill: the test did not run long enough");
            Assert.InRange(logs.Count, answeredASecondBefore, answeredAt.Count);
            Assert.Equal(logs.Sum(l => l["spend"]!.GetValue<double>()), spend, 9);
            Assert.Equal(spend, teamSpend, 9);
            Assert.Equal(logs.Count * 0.025, spend, 9);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(file + suffix);
            }
        }
    }
}
