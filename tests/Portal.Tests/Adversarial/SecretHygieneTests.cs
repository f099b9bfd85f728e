using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Proxy.Core.Persistence;

namespace Portal.Tests.Adversarial;

/// <summary>
/// Issue 6 item 2: after a scripted run through the whole API, an LLM call to a provider that refuses the connection and
/// one to a working provider, no raw provider key and no raw virtual key (nor the master key) appears in any response
/// body or header (except the one-time <c>key</c> of /key/generate and /key/regenerate), in the captured logs and the
/// exceptions they carry, in the audit or usage tables, or in the bytes of the SQLite file and its WAL.
/// </summary>
public sealed class SecretHygieneTests(LlmFixture fixture) : IClassFixture<LlmFixture>
{
    private GatewayFactory Gateway => fixture.Gateway;

    /// <summary>A secret and the part of it that must never show, even in pieces: all of it but the last 4 characters a mask may show.</summary>
    private sealed record Secret(string Label, string Raw, string Core)
    {
        /// <summary>The whole secret, and every 12-character window of its random part short of the last 4 characters.</summary>
        public IEnumerable<string> Fragments()
        {
            yield return Raw;
            var hidden = Core[..^4];
            for (var i = 0; i + 12 <= hidden.Length; i++)
            {
                yield return hidden.Substring(i, 12);
            }
        }

        public string? FoundIn(string text) => Fragments().FirstOrDefault(f => text.Contains(f, StringComparison.Ordinal));
    }

    private static Secret ProviderKey(string label)
    {
        var core = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', 'A').Replace('/', 'B').TrimEnd('=');
        return new Secret(label, "sk-prov-" + core, core);
    }

    private static Secret VirtualKey(string label, string raw) => new(label, raw, raw["sk-".Length..]);

    [Fact]
    public async Task NoRawSecret_AppearsInResponsesLogsAuditOrTheDatabaseFile()
    {
        var recorder = new RecordingHandler();
        using var http = new HttpClient(recorder) { BaseAddress = Gateway.BaseAddress };
        var secrets = new List<Secret> { new("master key", GatewayFactory.MasterKey, GatewayFactory.MasterKey["sk-".Length..]) };
        var globalKey = ProviderKey("global model's provider key");
        var teamKeyV1 = ProviderKey("team model's provider key");
        var teamKeyV2 = ProviderKey("team model's replacement provider key");
        var failingKey = ProviderKey("failing model's provider key");
        var team2Key = ProviderKey("deleted team's provider key");
        secrets.AddRange([globalKey, teamKeyV1, teamKeyV2, failingKey, team2Key]);

        async Task<JsonObject> Call(HttpMethod method, string path, string? key, object? body = null, HttpStatusCode expected = HttpStatusCode.OK)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) }.WithKey(key);
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expected, $"{method} {path}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
            return JsonNode.Parse(text) is JsonObject o ? o : new JsonObject { ["array"] = JsonNode.Parse(text) };
        }
        Task<JsonObject> Admin(string path, object body) => Call(HttpMethod.Post, path, GatewayFactory.MasterKey, body);
        async Task<string> Issue(string label, string path, string? by, object body)
        {
            var raw = (await Call(HttpMethod.Post, path, by, body))["key"]!.GetValue<string>();
            secrets.Add(VirtualKey(label, raw));
            return raw;
        }
        var master = GatewayFactory.MasterKey;

        // ---- teams and members ----
        var team = (await Admin("/team/new", new { team_alias = "hygiene", models = new[] { "all-proxy-models" }, metadata = new { owner = "secops" } }))["team_id"]!.GetValue<string>();
        var adminUser = $"hy-admin-{Guid.NewGuid():N}";
        await Admin("/team/member_add", new { team_id = team, member = new { user_id = adminUser, user_email = $"{adminUser}@example.com", role = "admin" } });
        await Admin("/team/member_add", new { team_id = team, member = new[] { new { user_email = "hy-dev@example.com", role = "user" } } });
        await Admin("/team/member_update", new { team_id = team, user_email = "hy-dev@example.com", role = "admin" });
        await Admin("/team/member_update", new { team_id = team, user_email = "hy-dev@example.com", role = "user" });
        await Admin("/team/update", new { team_id = team, team_alias = "hygiene-renamed", rpm_limit = 100 });

        // ---- keys ----
        var adminKey = await Issue("team admin's key", "/key/generate", master, new { team_id = team, user_id = adminUser, key_alias = $"hy-admin-{Guid.NewGuid():N}" });
        var teamKey = await Issue("team key", "/key/generate", adminKey, new { team_id = team, key_alias = $"hy-team-{Guid.NewGuid():N}" });
        var noTeamKey = await Issue("no-team key", "/key/generate", master, new { key_alias = $"hy-none-{Guid.NewGuid():N}" });
        var aliasToDelete = $"hy-doomed-{Guid.NewGuid():N}";
        await Issue("key deleted by alias", "/key/generate", adminKey, new { team_id = team, key_alias = aliasToDelete });

        // ---- models: global, team (by the team key), failing (by the team admin) ----
        var globalId = (await Admin("/model/new", new
        {
            model_name = "hy-global",
            litellm_params = new { model = "openai/gpt-4o-mini", api_key = globalKey.Raw, api_base = fixture.Upstream.ApiBase("ok", out var globalUpstream) },
        }))["model_id"]!.GetValue<string>();
        var teamModel = await Call(HttpMethod.Post, "/model/new", teamKey, new
        {
            model_name = "hy-team-model",
            litellm_params = new { model = "openai/gpt-4o", api_key = teamKeyV1.Raw, api_base = fixture.Upstream.ApiBase("ok", out _) },
            model_info = new { team_id = team },
        });
        var teamModelId = teamModel["model_id"]!.GetValue<string>();
        await Call(HttpMethod.Post, "/model/new", adminKey, new
        {
            model_name = "hy-failing-model",
            litellm_params = new { model = "openai/gpt-4o", api_key = failingKey.Raw, api_base = $"http://127.0.0.1:{Loopback.FreePort()}/v1" },
            model_info = new { team_id = team },
        });
        // A new api_key replaces the stored one; then a PATCH that leaves it alone.
        await Admin("/model/update", new { model_info = new { id = teamModelId }, litellm_params = new { api_key = teamKeyV2.Raw } });
        var okBase = fixture.Upstream.ApiBase("ok", out var teamUpstream);
        await Call(HttpMethod.Patch, $"/model/{teamModelId}/update", teamKey, new { litellm_params = new { api_base = okBase, timeout = 30 } });

        // ---- reads, by every kind of caller ----
        foreach (var (key, path) in new (string, string)[]
        {
            (master, $"/team/info?team_id={team}"), (teamKey, "/team/info"), (adminKey, $"/team/info?team_id={team}"),
            (master, "/team/list"), (teamKey, "/team/list"),
            (master, "/model/info"), (teamKey, "/model/info"), (teamKey, "/v1/model/info"), (adminKey, "/v2/model/info"),
            (teamKey, $"/model/info?litellm_model_id={teamModelId}"), (noTeamKey, $"/v2/model/info?litellm_model_id={globalId}"),
            (teamKey, "/v1/models"), (noTeamKey, "/models"),
            (teamKey, "/key/info"), (master, $"/key/info?key={Uri.EscapeDataString(teamKey)}"),
            (adminKey, $"/key/info?key={Proxy.Core.Keys.KeyMaterial.Hash(teamKey)}"),
            (master, "/key/list"), (adminKey, $"/key/list?team_id={team}"), (teamKey, "/key/list"),
        })
        {
            await Call(HttpMethod.Get, path, key);
        }

        // ---- key changes ----
        await Call(HttpMethod.Post, "/key/update", adminKey, new { key = teamKey, key_alias = $"hy-team-renamed-{Guid.NewGuid():N}", metadata = new { purpose = "ci" } });
        var teamKey2 = await Issue("team key, regenerated via body", "/key/regenerate", adminKey, new { key = teamKey });
        var teamKey3 = (await Call(HttpMethod.Post, $"/key/{Uri.EscapeDataString(teamKey2)}/regenerate", master))["key"]!.GetValue<string>();
        secrets.Add(VirtualKey("team key, regenerated via path", teamKey3));

        // ---- LLM calls: a working provider, a refusing one, and refused callers ----
        var chat = new { model = "hy-team-model", messages = new[] { new { role = "user", content = "hello" } } };
        await Call(HttpMethod.Post, "/v1/chat/completions", teamKey3, chat);
        await Call(HttpMethod.Post, "/v1/chat/completions", teamKey3, chat with { model = "hy-failing-model" }, HttpStatusCode.BadGateway);
        await Call(HttpMethod.Post, "/chat/completions", noTeamKey, chat with { model = "hy-global" });
        await Call(HttpMethod.Post, "/v1/embeddings", teamKey3, new { model = "hy-global", input = "hello" });
        await Call(HttpMethod.Post, "/v1/chat/completions", teamKey, chat, HttpStatusCode.Unauthorized);
        await Call(HttpMethod.Post, "/v1/chat/completions", "sk-garbage-" + teamKey3[3..], chat, HttpStatusCode.Unauthorized);
        await Call(HttpMethod.Post, "/v1/chat/completions", teamKey3, chat with { model = "no-such-model" }, HttpStatusCode.BadRequest);

        // ---- a second team with a key and a model, deleted whole ----
        var team2 = (await Admin("/team/new", new { team_alias = "hygiene-2" }))["team_id"]!.GetValue<string>();
        var team2Vk = await Issue("deleted team's key", "/key/generate", master, new { team_id = team2 });
        await Call(HttpMethod.Post, "/model/new", team2Vk, new
        {
            model_name = "hy-doomed-model",
            litellm_params = new { model = "openai/gpt-4o", api_key = team2Key.Raw, api_base = "https://doomed.example.com/v1" },
            model_info = new { team_id = team2 },
        });
        await Admin("/team/delete", new { team_ids = new[] { team2 } });

        // ---- deletions ----
        await Call(HttpMethod.Post, "/key/delete", adminKey, new { key_aliases = new[] { aliasToDelete } });
        await Admin("/key/delete", new { keys = new[] { noTeamKey } });
        await Admin("/model/delete", new { id = globalId });

        // ---- audit and spend, once the usage writer has caught up ----
        for (var i = 0; i < 100 && (await Call(HttpMethod.Get, $"/spend/logs?team_id={team}", master))["array"]!.AsArray().Count < 3; i++)
        {
            await Task.Delay(100);
        }
        await Call(HttpMethod.Get, "/audit", master);
        await Call(HttpMethod.Get, $"/audit?team_id={team}&size=100", adminKey);
        await Call(HttpMethod.Get, "/spend/logs", master);
        await Call(HttpMethod.Get, $"/spend/logs?team_id={team}", adminKey);

        // Sanity: the secrets really flowed. The provider got its key, and never the caller's.
        var received = fixture.Upstream.ReceivedBy(teamUpstream);
        Assert.NotEmpty(received);
        Assert.All(received, r => Assert.Equal($"Bearer {teamKeyV2.Raw}", r.Header("authorization")));
        Assert.All(fixture.Upstream.ReceivedBy(teamUpstream).Concat(fixture.Upstream.ReceivedBy(globalUpstream)),
            r => Assert.Null(secrets.Where(s => s.Label != "master key" && !s.Label.Contains("provider", StringComparison.Ordinal))
                .Select(s => s.FoundIn(string.Join("\n", r.Headers.Select(h => $"{h.Key}: {h.Value}")) + r.Body)).FirstOrDefault(f => f is not null)));

        var findings = new List<string>();
        void Search(string where, string text)
        {
            foreach (var secret in secrets)
            {
                if (secret.FoundIn(text) is { } fragment)
                {
                    findings.Add($"{where}: contains the {secret.Label} ({(fragment == secret.Raw ? "whole" : $"fragment '{fragment}'")}): {Around(text, fragment)}");
                }
            }
        }

        // Responses: every body and header, with the one-time "key" of generate/regenerate taken out.
        foreach (var exchange in recorder.Exchanges)
        {
            var where = $"response to {exchange.Method} {Redact(exchange.PathAndQuery, secrets)} ({exchange.Status})";
            var body = exchange.Body;
            if (exchange.Status == 200 && IsIssuingRoute(exchange.PathAndQuery) && JsonNode.Parse(body) is JsonObject issued)
            {
                issued.Remove("key");
                body = issued.ToJsonString();
            }
            Search($"{where} body", body);
            Search($"{where} headers", exchange.Headers);
        }

        // Logs, and the exceptions they carry.
        foreach (var line in Gateway.Logs)
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            Search($"log line [{(colon > 0 ? line[..colon] : "?")}]", line);
        }

        // The audit and usage tables, read directly.
        await using (var scope = Gateway.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDb>();
            foreach (var e in await db.AuditEvents.AsNoTracking().ToListAsync())
            {
                Search($"audit event {e.Id} ({e.Action})", $"{e.Actor} {e.Action} {e.TeamId} {e.TargetId} {e.Details}");
            }
            foreach (var u in await db.Usage.AsNoTracking().ToListAsync())
            {
                Search($"usage record {u.CallId}", JsonSerializer.Serialize(u));
            }
        }

        // The database file and its write-ahead log, byte for byte.
        if (!GatewayFactory.OnPostgres)
        {
            foreach (var suffix in new[] { "", "-wal" })
            {
                if (File.Exists(Gateway.DatabaseFile + suffix))
                {
                    await using var stream = new FileStream(Gateway.DatabaseFile + suffix, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                    using var copy = new MemoryStream();
                    await stream.CopyToAsync(copy);
                    var bytes = copy.ToArray();
                    Search($"database file{suffix}", Encoding.Latin1.GetString(bytes));
                    Search($"database file{suffix} (as UTF-16)", Encoding.Unicode.GetString(bytes));
                }
            }
        }

        Assert.True(recorder.Exchanges.Count > 50, $"the script made only {recorder.Exchanges.Count} requests");
        Assert.True(findings.Count == 0, $"{findings.Count} secret leaks:\n" + string.Join("\n", findings.Distinct()));
    }

    private static bool IsIssuingRoute(string pathAndQuery)
    {
        var path = pathAndQuery.Split('?')[0];
        return path is "/key/generate" or "/key/regenerate" || (path.StartsWith("/key/", StringComparison.Ordinal) && path.EndsWith("/regenerate", StringComparison.Ordinal));
    }

    private static string Redact(string text, IEnumerable<Secret> secrets) =>
        secrets.Aggregate(text, (t, s) => t.Replace(s.Raw, $"<{s.Label}>", StringComparison.Ordinal).Replace(Uri.EscapeDataString(s.Raw), $"<{s.Label}>", StringComparison.Ordinal));

    private static string Around(string text, string fragment)
    {
        var at = text.IndexOf(fragment, StringComparison.Ordinal);
        var start = Math.Max(0, at - 60);
        var end = Math.Min(text.Length, at + fragment.Length + 60);
        return "…" + new string(text[start..end].Select(c => char.IsControl(c) ? '·' : c).ToArray()) + "…";
    }
}
