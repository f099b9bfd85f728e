using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Portal.Tests.Infrastructure;
using Portal.Tests.Reliability;
using Xunit.Abstractions;

namespace Portal.Tests.Usage;

/// <summary>
/// The daily aggregates are written in the usage rows' own transaction: a gateway killed with SIGKILL while calls run
/// leaves rows and aggregates that agree exactly (a batch is in both or in neither). Needs a SQLite file: nothing to do
/// on the PostgreSQL run.
/// </summary>
public sealed class DailyActivityCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task KillDashNine_WhileCallsRun_LeavesTheAggregatesEqualToTheRawRows()
    {
        if (GatewayFactory.OnPostgres)
        {
            return;
        }
        var file = Path.Combine(Path.GetTempPath(), $"gateway-aggregates-kill9-{Guid.NewGuid():N}.db");
        await using var upstream = new StandInUpstream();
        try
        {
            var answered = 0;
            await using (var gateway = await GatewayProcess.StartAsync(databaseFile: file, settings: ReliabilityKit.WarningsOnly))
            {
                using var admin = gateway.Client();
                var team = (await (await admin.PostAsJsonAsync("/team/new", new { team_alias = "kill9-aggregates" })).ReadJsonAsync(HttpStatusCode.OK))["team_id"]!.GetValue<string>();
                var keys = new List<string>();
                for (var i = 0; i < 3; i++)
                {
                    keys.Add((await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team })).ReadJsonAsync(HttpStatusCode.OK))["key"]!.GetValue<string>());
                }
                foreach (var (name, scenario) in new[] { ("priced", "ok"), ("failing", "error400") })
                {
                    (await admin.PostAsJsonAsync("/model/new", new
                    {
                        model_name = name,
                        litellm_params = new { model = "openai/gpt-4o", api_key = "sk-provider-kill9-aggregates-1", api_base = upstream.ApiBase(scenario, out _), input_cost_per_token = 0.001, output_cost_per_token = 0.002 },
                        model_info = new { team_id = team },
                    })).EnsureSuccessStatusCode();
                }

                using var stop = new CancellationTokenSource();
                var workers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
                {
                    using var calls = gateway.Client(keys[w % keys.Count]);
                    for (var i = 0; !stop.IsCancellationRequested; i++)
                    {
                        var outcome = await calls.SendAsync(HttpMethod.Post, "/v1/chat/completions", ReliabilityKit.Chat(i % 5 == 0 ? "failing" : "priced"));
                        if (outcome.Status != 0)
                        {
                            Interlocked.Increment(ref answered);
                        }
                    }
                })).ToArray();
                // Several of the writer's batches (one each half second) are stored; the kill comes while calls keep coming.
                await Task.Delay(TimeSpan.FromSeconds(2.5));
                gateway.KillHard();
                stop.Cancel();
                await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));
            }

            SqliteConnection.ClearAllPools();
            await using var db = new SqliteConnection($"Data Source={file};Pooling=False");
            await db.OpenAsync();
            Assert.Equal(["ok"], await db.ColumnAsync("PRAGMA integrity_check;"));
            var rows = await DailyActivityAgreement.AssertAsync(db);
            output.WriteLine($"{answered} calls answered before the kill; {rows} usage rows stored, and their aggregates agree");
            Assert.True(rows > 20, $"only {rows} usage rows were stored before the kill: the test did not run long enough");
            Assert.True(await db.ScalarAsync("SELECT COUNT(*) FROM usage_records WHERE Status >= 400") > 0, "no failed call was stored");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(file + suffix);
            }
        }
    }
}
