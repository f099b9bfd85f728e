using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Portal.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Portal.Tests.Reliability;

/// <summary>
/// Issue 6, item 5 (the database half): the gateway process killed with SIGKILL in the middle of a burst of writes.
/// This needs a SQLite file, so it does nothing on the PostgreSQL run.
/// </summary>
public sealed class KilledGatewayTests(ITestOutputHelper output)
{
    private const string Upstream = "http://127.0.0.1:9/v1";

    [Fact]
    public async Task KillDashNine_DuringABurstOfWrites_KeepsEveryAnsweredWrite_AndLeavesNothingHalfWritten()
    {
        if (GatewayFactory.OnPostgres)
        {
            return;
        }
        var file = Path.Combine(Path.GetTempPath(), $"gateway-kill9-{Guid.NewGuid():N}.db");
        try
        {
            var outcomes = new ConcurrentDictionary<string, Outcome>();
            var teams = new[] { "kill9-team-a", "kill9-team-b", "kill9-team-c" };
            var ops = new List<(string Id, string Path, object Body)>();
            for (var i = 0; i < 200; i++)
            {
                if (i % 8 == 7)
                {
                    var team = teams[i % teams.Length];
                    var name = $"burst-model-{i % 5}";
                    ops.Add(($"model:{i}:{team}:{name}", "/model/new", GatewayFactory.TeamModel(team, name, apiKey: $"sk-provider-burst-{i:D4}-secret", apiBase: Upstream)));
                }
                else
                {
                    var teamId = $"burst-{i:D3}";
                    ops.Add(($"team:{teamId}", "/team/new", new
                    {
                        team_id = teamId,
                        team_alias = $"alias-{teamId}",
                        models = new[] { "gpt-4o" },
                        members_with_roles = new[] { new { user_email = $"owner-{teamId}@example.com", role = "admin" } },
                    }));
                }
            }

            var killedAfter = 0;
            var first = await GatewayProcess.StartAsync(databaseFile: file, settings: ReliabilityKit.WarningsOnly);
            await using (first)
            {
                using var admin = first.Client(timeout: TimeSpan.FromSeconds(20));
                foreach (var team in teams)
                {
                    Assert.True((await admin.PostAsync("/team/new", new { team_id = team })).Ok);
                }
                var queue = new ConcurrentQueue<(string Id, string Path, object Body)>(ops);
                var answered = 0;
                var killed = 0;
                var half = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
                {
                    while (Volatile.Read(ref killed) == 0 && queue.TryDequeue(out var op))
                    {
                        var outcome = await admin.PostAsync(op.Path, op.Body);
                        outcomes[op.Id] = outcome;
                        if (outcome.Status != 0 && Interlocked.Increment(ref answered) >= ops.Count / 2)
                        {
                            half.TrySetResult();
                        }
                    }
                })).ToArray();
                await Task.WhenAny(half.Task, Task.Delay(TimeSpan.FromSeconds(30)));
                killedAfter = Volatile.Read(ref answered);
                Volatile.Write(ref killed, 1);
                first.KillHard();
                await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(30));
            }

            var ok = outcomes.Where(o => o.Value.Ok).Select(o => o.Key).ToHashSet();
            var failed = outcomes.Where(o => !o.Value.Ok && o.Value.Status != 0).ToList();
            var cut = outcomes.Count(o => o.Value.Status == 0);
            output.WriteLine($"killed after {killedAfter} answers: {ok.Count} x 200, {failed.Count} other answers, {cut} cut off by the kill, {ops.Count - outcomes.Count} never sent");
            Assert.True(killedAfter >= ops.Count / 4, $"the burst was too slow to reach the kill point: {killedAfter} answers");
            Assert.True(failed.Count == 0, "answers other than 200 before the kill: " + string.Join("; ", failed.Take(5).Select(f => $"{f.Key}: {f.Value}")));

            await using (var second = await GatewayProcess.StartAsync(databaseFile: file, settings: ReliabilityKit.WarningsOnly))
            {
                using var admin = second.Client(timeout: TimeSpan.FromSeconds(20));
                var list = await admin.ReadAsync("/team/list");
                Assert.True(list.Ok, $"/team/list after the restart: {list}");
                var stored = JsonNode.Parse(list.Body)!.AsArray().Select(t => t!.AsObject()).ToDictionary(t => t["team_id"]!.GetValue<string>());
                foreach (var id in ok.Where(i => i.StartsWith("team:", StringComparison.Ordinal)).Select(i => i["team:".Length..]))
                {
                    Assert.True(stored.ContainsKey(id), $"team {id} got a 200 before the kill but is gone after the restart");
                }
                // Every burst team that exists is whole: its alias, models and admin member came with it.
                foreach (var (id, json) in stored.Where(s => s.Key.StartsWith("burst-", StringComparison.Ordinal)))
                {
                    Assert.Equal($"alias-{id}", json["team_alias"]?.GetValue<string>());
                    Assert.Equal(["gpt-4o"], json["models"]!.AsArray().Select(m => m!.GetValue<string>()));
                    var members = json["members_with_roles"]!.AsArray();
                    Assert.True(members.Count == 1 && members[0]!["user_email"]?.GetValue<string>() == $"owner-{id}@example.com" && members[0]!["role"]?.GetValue<string>() == "admin",
                        $"team {id} came back without its admin member: {json.ToJsonString()}");
                }

                var info = await admin.ReadAsync("/model/info");
                Assert.True(info.Ok, $"/model/info after the restart: {info}");
                var models = JsonNode.Parse(info.Body)!["data"]!.AsArray().Select(m => m!.AsObject())
                    .ToDictionary(m => m["model_info"]!["id"]!.GetValue<string>());
                foreach (var id in ok.Where(i => i.StartsWith("model:", StringComparison.Ordinal)))
                {
                    var parts = id.Split(':');
                    var modelId = outcomes[id].Json["model_id"]!.GetValue<string>();
                    Assert.True(models.TryGetValue(modelId, out var model), $"model {modelId} ({id}) got a 200 before the kill but is gone after the restart");
                    var aliases = stored[parts[2]]["litellm_model_table"]!["model_aliases"]!.AsObject();
                    Assert.True(aliases.TryGetPropertyValue(parts[3], out var internalName), $"team {parts[2]} has model {modelId} but no alias for {parts[3]}");
                    Assert.Equal(internalName!.GetValue<string>(), model["model_name"]!.GetValue<string>());
                    Assert.Contains(parts[3], stored[parts[2]]["models"]!.AsArray().Select(m => m!.GetValue<string>()));
                }
                output.WriteLine($"after the restart: {stored.Count(s => s.Key.StartsWith("burst-", StringComparison.Ordinal))} burst teams, {models.Count} models");
            }

            SqliteConnection.ClearAllPools();
            await using var db = new SqliteConnection($"Data Source={file};Pooling=False");
            await db.OpenAsync();
            var integrity = await db.ColumnAsync("PRAGMA integrity_check;");
            Assert.Equal(["ok"], integrity);
            Assert.Empty(await db.ColumnAsync("PRAGMA foreign_key_check;"));
            Assert.Equal(0, await db.ScalarAsync(
                "SELECT COUNT(*) FROM model_deployments d WHERE d.TeamId IS NOT NULL AND NOT EXISTS " +
                "(SELECT 1 FROM model_aliases a WHERE a.TeamId = d.TeamId AND a.PublicName = d.PublicName AND a.InternalName = d.ModelName)"));
            Assert.Equal(0, await db.ScalarAsync(
                "SELECT COUNT(*) FROM model_aliases a WHERE NOT EXISTS (SELECT 1 FROM model_deployments d WHERE d.ModelName = a.InternalName AND d.TeamId = a.TeamId)"));
            Assert.Equal(0, await db.ScalarAsync("SELECT COUNT(*) FROM teams t WHERE t.TeamId LIKE 'burst-%' AND NOT EXISTS (SELECT 1 FROM team_memberships m WHERE m.TeamId = t.TeamId)"));
            // Each write and its audit event are one transaction: the counts agree exactly.
            Assert.Equal(
                await db.ScalarAsync("SELECT COUNT(*) FROM teams WHERE TeamId LIKE 'burst-%'"),
                await db.ScalarAsync("SELECT COUNT(*) FROM audit_events WHERE Action = 'team.create' AND TargetId LIKE 'burst-%'"));
            Assert.Equal(
                await db.ScalarAsync("SELECT COUNT(*) FROM model_deployments"),
                await db.ScalarAsync("SELECT COUNT(*) FROM audit_events WHERE Action = 'model.create'"));
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
