using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace LoadGen;

/// <summary>Talks to the gateway's REST API the way an operator would (docs/api.md sections 3–6).</summary>
public static class Seeding
{
    /// <summary>
    /// Creates (or reuses) the bench team, a team key and a team model pointing at the stand-in, checks that a chat and a
    /// streamed chat call go through, and writes <c>BENCH_KEY=…</c>/<c>BENCH_MODEL=…</c> lines for run.sh to source.
    /// </summary>
    public static async Task<int> SeedAsync(Args args)
    {
        using var http = Client(args.Get("gateway"), args.Get("master"));
        var team = args.Opt("team") ?? "bench-team";
        var model = args.Opt("model") ?? "bench-model";
        var timings = new JsonObject { ["kind"] = "seed", ["run"] = args.Get("run") };

        var sw = Stopwatch.StartNew();
        var created = await http.PostAsJsonAsync("/team/new", new { team_id = team, team_alias = "benchmark" });
        timings["team_new_ms"] = Ms(sw);
        if (created.StatusCode != HttpStatusCode.BadRequest)
        {
            await Ensure(created, "POST /team/new");
        }

        sw.Restart();
        var key = (await Ensure(await http.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "benchmark" }), "POST /key/generate"))["key"]!.GetValue<string>();
        timings["key_generate_ms"] = Ms(sw);

        sw.Restart();
        await Ensure(await http.PostAsJsonAsync("/model/new", ModelBody(model, team, args.Get("api-base"))), "POST /model/new");
        timings["model_new_ms"] = Ms(sw);

        using var caller = Client(args.Get("gateway"), key);
        var chat = await caller.PostAsync("/v1/chat/completions", ChatBody(model, stream: false));
        var chatBody = await chat.Content.ReadAsStringAsync();
        if (chat.StatusCode != HttpStatusCode.OK || !chatBody.Contains("chat.completion", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"chat call through the gateway failed: {(int)chat.StatusCode} {chatBody}");
        }
        var streamed = await caller.PostAsync("/v1/chat/completions", ChatBody(model, stream: true));
        var streamBody = await streamed.Content.ReadAsStringAsync();
        if (streamed.StatusCode != HttpStatusCode.OK || !streamBody.Contains("data: [DONE]", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"streamed chat call through the gateway failed: {(int)streamed.StatusCode} {streamBody}");
        }

        var env = $"BENCH_KEY={key}\nBENCH_MODEL={model}\nBENCH_TEAM={team}\n";
        if (args.Opt("limits-team") is { } limitsTeam)
        {
            env += $"BENCH_LIMITS_KEY={await SeedLimitedAsync(http, args.Get("gateway"), limitsTeam, model, args.Get("api-base"))}\n";
        }
        if (args.Opt("budgets-team") is { } budgetsTeam)
        {
            env += $"BENCH_BUDGETS_KEY={await SeedBudgetedAsync(http, args.Get("gateway"), budgetsTeam, model, args.Get("api-base"))}\n";
        }
        if (args.Opt("anthropic-team") is { } anthropicTeam)
        {
            env += $"BENCH_ANTHROPIC_KEY={await SeedAnthropicAsync(http, args.Get("gateway"), anthropicTeam, model, args.Get("api-base"))}\n";
        }
        if (args.Opt("bedrock-team") is { } bedrockTeam)
        {
            env += $"BENCH_BEDROCK_KEY={await SeedBedrockAsync(http, args.Get("gateway"), bedrockTeam, model, args.Get("api-base"))}\n";
        }
        if (args.Opt("gemini-team") is { } geminiTeam)
        {
            env += $"BENCH_GEMINI_KEY={await SeedGeminiAsync(http, args.Get("gateway"), geminiTeam, model, args.Get("api-base"))}\n";
        }
        if (args.Opt("vertex-team") is { } vertexTeam)
        {
            env += $"BENCH_VERTEX_KEY={await SeedVertexAsync(http, args.Get("gateway"), vertexTeam, model, args.Get("api-base"))}\n";
        }
        if (args.Opt("compatible-team") is { } compatibleTeam)
        {
            env += $"BENCH_COMPATIBLE_KEY={await SeedCompatibleAsync(http, args.Get("gateway"), compatibleTeam, model, args.Get("api-base"))}\n";
        }
        await File.WriteAllTextAsync(args.Get("env-out"), env);
        if (args.Opt("out") is { } output)
        {
            await File.AppendAllTextAsync(output, timings.ToJsonString() + "\n");
        }
        Console.WriteLine($"  seeded team {team}, key {key[..6]}…, model {model}: chat and streamed chat answer 200 "
            + $"(team/new {timings["team_new_ms"]} ms, key/generate {timings["key_generate_ms"]} ms, model/new {timings["model_new_ms"]} ms)");
        return 0;
    }

    /// <summary>
    /// The same team model in a second team where everything has a budget and limits (issues 9 and 26): the team and its
    /// key a max_budget with a budget_duration, an rpm and a tpm limit, the key max_parallel_requests and a budget on the
    /// model. The limits are far above the load, so every call is admitted and pays the full price of being checked,
    /// reserved for, counted and shared.
    /// </summary>
    private static async Task<string> SeedLimitedAsync(HttpClient http, string gateway, string team, string model, string apiBase)
    {
        var limits = new { max_budget = 1e9, budget_duration = "30d", rpm_limit = 1_000_000_000, tpm_limit = 1_000_000_000_000 };
        await CreateTeamAsync(http, new { team_id = team, team_alias = "benchmark with limits", limits.max_budget, limits.budget_duration, limits.rpm_limit, limits.tpm_limit }, "limits");
        // The key's budget on the model too (issue 26): every call then reserves on four budgets (key, team, model), as a
        // fully limited key does. A gateway from before model budgets (--rev) refuses the field: the key goes without it.
        var withModelBudget = await http.PostAsJsonAsync("/key/generate", new
        {
            team_id = team, key_alias = "benchmark-limits", limits.max_budget, limits.budget_duration, limits.rpm_limit, limits.tpm_limit, max_parallel_requests = 100_000,
            model_max_budget = new Dictionary<string, object> { [model] = new { budget_limit = limits.max_budget, time_period = limits.budget_duration } },
        });
        var generated = withModelBudget.StatusCode == HttpStatusCode.BadRequest
            ? await http.PostAsJsonAsync("/key/generate", new
            {
                team_id = team, key_alias = "benchmark-limits", limits.max_budget, limits.budget_duration, limits.rpm_limit, limits.tpm_limit, max_parallel_requests = 100_000,
            })
            : withModelBudget;
        var key = (await Ensure(generated, "POST /key/generate (limits)"))["key"]!.GetValue<string>();
        await Ensure(await http.PostAsJsonAsync("/model/new", ModelBody(model, team, apiBase)), "POST /model/new (limits)");
        using var chat = await FirstChatAsync(gateway, key, model, "with the limited key");
        if (!chat.Headers.Contains("x-ratelimit-remaining-requests"))
        {
            // A gateway from before spend control (--rev of an older commit) takes the fields but enforces nothing.
            Console.WriteLine("  this gateway does not enforce rate limits (no x-ratelimit headers): the gateway-limits target is left out");
            return "";
        }
        Console.WriteLine($"  seeded team {team} with budgets and limits on the team and its key {key[..6]}…");
        return key;
    }

    /// <summary>
    /// The same team model in a team where only budgets apply (issue 26): the team and its key a max_budget with a
    /// budget_duration and the key a budget on the model, far above the load, and no rate limit: what budgets alone cost a
    /// call (every attempt reserves its worst case on three budgets and gives it back when charged).
    /// </summary>
    private static async Task<string> SeedBudgetedAsync(HttpClient http, string gateway, string team, string model, string apiBase)
    {
        await CreateTeamAsync(http, new { team_id = team, team_alias = "benchmark with budgets", max_budget = 1e9, budget_duration = "1mo" }, "budgets");
        var key = (await Ensure(await http.PostAsJsonAsync("/key/generate", new
        {
            team_id = team, key_alias = "benchmark-budgets", max_budget = 1e9, budget_duration = "1mo",
            model_max_budget = new Dictionary<string, object> { [model] = new { budget_limit = 1e9, time_period = "1mo" } },
        }), "POST /key/generate (budgets)"))["key"]!.GetValue<string>();
        await Ensure(await http.PostAsJsonAsync("/model/new", ModelBody(model, team, apiBase)), "POST /model/new (budgets)");
        (await FirstChatAsync(gateway, key, model, "with the budgeted key")).Dispose();
        Console.WriteLine($"  seeded team {team} with budgets (team, key, model) and its key {key[..6]}…");
        return key;
    }

    /// <summary>
    /// The same public model name in a third team, served by an Anthropic deployment (the stand-in answers Anthropic's
    /// shapes at /v1/messages): the cost of translating requests and answers, JSON and SSE (issue 11).
    /// </summary>
    private static async Task<string> SeedAnthropicAsync(HttpClient http, string gateway, string team, string model, string apiBase)
    {
        await CreateTeamAsync(http, new { team_id = team, team_alias = "benchmark on anthropic" }, "anthropic");
        var key = (await Ensure(await http.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "benchmark-anthropic" }), "POST /key/generate (anthropic)"))["key"]!.GetValue<string>();
        // The stand-in's root: Anthropic's path is {api_base}/v1/messages.
        var root = apiBase.EndsWith("/v1", StringComparison.Ordinal) ? apiBase[..^3] : apiBase;
        var response = await http.PostAsJsonAsync("/model/new", new
        {
            model_name = model,
            litellm_params = new { model = "anthropic/claude-sonnet-4-5", api_base = root, api_key = "sk-ant-fake-upstream-key-0000" },
            model_info = new { team_id = team },
        });
        if (!response.IsSuccessStatusCode)
        {
            // A gateway from before the Anthropic translation (--rev of an older commit) does not know the provider.
            Console.WriteLine("  this gateway has no anthropic provider: the gateway-anthropic target is left out");
            return "";
        }
        using var caller = Client(gateway, key);
        foreach (var stream in new[] { false, true })
        {
            var chat = await caller.PostAsync("/v1/chat/completions", ChatBody(model, stream));
            var body = await chat.Content.ReadAsStringAsync();
            if (chat.StatusCode != HttpStatusCode.OK || !body.Contains(stream ? "chat.completion.chunk" : "\"chat.completion\"", StringComparison.Ordinal))
            {
                // A gateway from before the translation may take the model yet send OpenAI's shapes to /chat/completions.
                Console.WriteLine($"  chat call (stream={stream}) through the anthropic model failed ({(int)chat.StatusCode}): the gateway-anthropic target is left out");
                return "";
            }
        }
        Console.WriteLine($"  seeded team {team} whose {model} is an Anthropic deployment, key {key[..6]}…");
        return key;
    }

    /// <summary>
    /// The same public model name in a team of its own, served by a Gemini deployment (the stand-in answers Gemini's
    /// shapes at :generateContent and :streamGenerateContent): the cost of the Gemini translation (issue 28).
    /// </summary>
    private static async Task<string> SeedGeminiAsync(HttpClient http, string gateway, string team, string model, string apiBase)
    {
        await CreateTeamAsync(http, new { team_id = team, team_alias = "benchmark on gemini" }, "gemini");
        var key = (await Ensure(await http.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "benchmark-gemini" }), "POST /key/generate (gemini)"))["key"]!.GetValue<string>();
        // The stand-in's root: Gemini's path is {api_base}/v1beta/models/{model}:generateContent.
        var root = apiBase.EndsWith("/v1", StringComparison.Ordinal) ? apiBase[..^3] : apiBase;
        var response = await http.PostAsJsonAsync("/model/new", new
        {
            model_name = model,
            litellm_params = new { model = "gemini/gemini-2.5-flash", api_base = root, api_key = "AIza-fake-upstream-key-0000" },
            model_info = new { team_id = team },
        });
        if (!response.IsSuccessStatusCode)
        {
            // A gateway from before the Gemini translation does not know the provider.
            Console.WriteLine("  this gateway has no gemini provider: the gemini targets are left out");
            return "";
        }
        (await FirstChatAsync(gateway, key, model, "through the gemini model")).Dispose();
        Console.WriteLine($"  seeded team {team} whose {model} is a Gemini deployment, key {key[..6]}…");
        return key;
    }

    /// <summary>
    /// The same public model name in a team of its own, served by Claude on Vertex AI (the stand-in answers Messages at
    /// :rawPredict and :streamRawPredict, and issues the access token at {api_base}/token): the cost of Vertex's body
    /// and of its cached bearer token beside the Anthropic rows (issue 28). The service account's RSA key is made here.
    /// </summary>
    private static async Task<string> SeedVertexAsync(HttpClient http, string gateway, string team, string model, string apiBase)
    {
        await CreateTeamAsync(http, new { team_id = team, team_alias = "benchmark on vertex ai" }, "vertex");
        var key = (await Ensure(await http.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "benchmark-vertex" }), "POST /key/generate (vertex)"))["key"]!.GetValue<string>();
        var root = apiBase.EndsWith("/v1", StringComparison.Ordinal) ? apiBase[..^3] : apiBase;
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var keyFile = new
        {
            type = "service_account", project_id = "bench-project", private_key_id = "bench-key-1", private_key = rsa.ExportPkcs8PrivateKeyPem(),
            client_email = "bench@bench-project.iam.gserviceaccount.com", token_uri = $"{root}/token",
        };
        var response = await http.PostAsJsonAsync("/model/new", new
        {
            model_name = model,
            litellm_params = new
            {
                model = "vertex_ai/claude-sonnet-4-5@20250929", api_base = root, vertex_project = "bench-project", vertex_location = "us-east5", vertex_credentials = keyFile,
            },
            model_info = new { team_id = team },
        });
        if (!response.IsSuccessStatusCode)
        {
            // A gateway from before issue 28 does not know the provider.
            Console.WriteLine("  this gateway has no vertex_ai provider: the vertex targets are left out");
            return "";
        }
        (await FirstChatAsync(gateway, key, model, "through the vertex model")).Dispose();
        Console.WriteLine($"  seeded team {team} whose {model} is Claude on Vertex AI, key {key[..6]}…");
        return key;
    }

    /// <summary>
    /// The same public model name in a team of its own, served by an Amazon Bedrock deployment (the stand-in answers
    /// Converse at {api_base}/model/{id}/converse): the cost of the Converse translation and of SigV4 signing (issue 28).
    /// </summary>
    private static async Task<string> SeedBedrockAsync(HttpClient http, string gateway, string team, string model, string apiBase)
    {
        await CreateTeamAsync(http, new { team_id = team, team_alias = "benchmark on bedrock" }, "bedrock");
        var key = (await Ensure(await http.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "benchmark-bedrock" }), "POST /key/generate (bedrock)"))["key"]!.GetValue<string>();
        var root = apiBase.EndsWith("/v1", StringComparison.Ordinal) ? apiBase[..^3] : apiBase;
        var response = await http.PostAsJsonAsync("/model/new", new
        {
            model_name = model,
            litellm_params = new
            {
                model = "bedrock/anthropic.claude-3-haiku-20240307-v1:0", api_base = root, aws_region_name = "us-east-1",
                aws_access_key_id = "AKIAIOSFODNN7EXAMPLE", aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            },
            model_info = new { team_id = team },
        });
        if (!response.IsSuccessStatusCode)
        {
            // A gateway from before issue 28 does not know the provider.
            Console.WriteLine("  this gateway has no bedrock provider: the chat-bedrock target is left out");
            return "";
        }
        using var caller = Client(gateway, key);
        var chat = await caller.PostAsync("/v1/chat/completions", ChatBody(model, stream: false));
        var body = await chat.Content.ReadAsStringAsync();
        if (chat.StatusCode != HttpStatusCode.OK || !body.Contains("\"chat.completion\"", StringComparison.Ordinal))
        {
            Console.WriteLine($"  chat call through the bedrock model failed ({(int)chat.StatusCode}): the chat-bedrock target is left out");
            return "";
        }
        Console.WriteLine($"  seeded team {team} whose {model} is a Bedrock deployment, key {key[..6]}…");
        return key;
    }

    /// <summary>
    /// The same public model name in a fourth team, served by an OpenAI-compatible deployment (<c>hosted_vllm/</c>, chat
    /// completions only): Responses callers reach it translated through chat completions (issue 25), where an
    /// <c>openai/</c> deployment would take Responses as they are.
    /// </summary>
    private static async Task<string> SeedCompatibleAsync(HttpClient http, string gateway, string team, string model, string apiBase)
    {
        await CreateTeamAsync(http, new { team_id = team, team_alias = "benchmark on an openai-compatible deployment" }, "compatible");
        var key = (await Ensure(await http.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "benchmark-compatible" }), "POST /key/generate (compatible)"))["key"]!.GetValue<string>();
        await Ensure(await http.PostAsJsonAsync("/model/new", new
        {
            model_name = model,
            litellm_params = new { model = "hosted_vllm/bench-model", api_base = apiBase, api_key = "sk-fake-upstream-key-0000" },
            model_info = new { team_id = team },
        }), "POST /model/new (compatible)");
        (await FirstChatAsync(gateway, key, model, "through the openai-compatible model")).Dispose();
        Console.WriteLine($"  seeded team {team} whose {model} is an OpenAI-compatible (hosted_vllm) deployment, key {key[..6]}…");
        return key;
    }

    /// <summary>
    /// For <c>--count</c> new team models: the time from sending <c>POST /model/new</c> until the first chat call naming
    /// the new model answers 200 (polled back to back), and the same for a new key (<c>POST /key/generate</c>).
    /// </summary>
    public static async Task<int> CallableAsync(Args args)
    {
        var gateway = args.Get("gateway");
        using var admin = Client(gateway, args.Get("master"));
        using var caller = Client(gateway, args.Get("key"));
        var team = args.Get("team");
        var count = args.Int("count", 5);
        var post = new List<double>();
        var callable = new List<double>();
        var polls = new List<double>();
        var keyCallable = new List<double>();
        var deadline = TimeSpan.FromSeconds(30);

        // This process is new: without a warm-up, the first change timed this client's JIT and connection set-up
        // (150–230 ms) rather than the gateway.
        await Ensure(await admin.GetAsync("/health/liveliness"), "GET /health/liveliness");
        await Ensure(await caller.PostAsync("/v1/chat/completions", ChatBody(args.Get("model"), stream: false)), "warm-up chat");
        _ = await JsonContent.Create(ModelBody("warm-up", team, args.Get("api-base"))).ReadAsStringAsync();

        for (var i = 0; i < count; i++)
        {
            var name = $"callable-{Guid.NewGuid():N}"[..20];
            var sw = Stopwatch.StartNew();
            var request = admin.PostAsJsonAsync("/model/new", ModelBody(name, team, args.Get("api-base")));
            var n = 0;
            // Poll from the moment the change is sent: the model must become callable no later than the 200.
            while (true)
            {
                n++;
                using var chat = await caller.PostAsync("/v1/chat/completions", ChatBody(name, stream: false));
                if (chat.StatusCode == HttpStatusCode.OK)
                {
                    break;
                }
                if (sw.Elapsed > deadline)
                {
                    throw new InvalidOperationException($"model {name} not callable {deadline.TotalSeconds} s after POST /model/new: {(int)chat.StatusCode}");
                }
            }
            callable.Add(Ms(sw));
            polls.Add(n);
            await Ensure(await request, "POST /model/new");
            post.Add(Ms(sw));

            sw.Restart();
            var key = (await Ensure(await admin.PostAsJsonAsync("/key/generate", new { team_id = team }), "POST /key/generate"))["key"]!.GetValue<string>();
            using var withNewKey = Client(gateway, key);
            while (true)
            {
                using var chat = await withNewKey.PostAsync("/v1/chat/completions", ChatBody(args.Get("model"), stream: false));
                if (chat.StatusCode == HttpStatusCode.OK)
                {
                    break;
                }
                if (sw.Elapsed > deadline)
                {
                    throw new InvalidOperationException($"new key not callable {deadline.TotalSeconds} s after POST /key/generate: {(int)chat.StatusCode}");
                }
            }
            keyCallable.Add(Ms(sw));
        }

        var record = new JsonObject
        {
            ["kind"] = "callable",
            ["run"] = args.Get("run"),
            ["model_callable_ms"] = Array(callable),
            ["model_post_ms"] = Array(post),
            ["polls"] = Array(polls),
            ["key_callable_ms"] = Array(keyCallable),
        };
        await File.AppendAllTextAsync(args.Get("out"), record.ToJsonString() + "\n");
        static string List(List<double> values) => string.Join(", ", values.Select(v => v.ToString("0.0", CultureInfo.InvariantCulture)));
        Console.WriteLine($"  model change callable after [{List(callable)}] ms (POST /model/new answered after [{List(post)}] ms); "
            + $"new key callable after [{List(keyCallable)}] ms");
        return 0;
    }

    private static JsonArray Array(List<double> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    private static double Ms(Stopwatch sw) => Math.Round(sw.Elapsed.TotalMilliseconds, 2);

    /// <summary>A seeded team, created unless an earlier seeding of the same file made it (a 400: the id exists).</summary>
    private static async Task CreateTeamAsync(HttpClient http, object body, string what)
    {
        var created = await http.PostAsJsonAsync("/team/new", body);
        if (created.StatusCode != HttpStatusCode.BadRequest)
        {
            await Ensure(created, $"POST /team/new ({what})");
        }
    }

    /// <summary>A non-streamed chat call with a freshly seeded key: it must answer 200, or the seeding failed.</summary>
    private static async Task<HttpResponseMessage> FirstChatAsync(string gateway, string key, string model, string what)
    {
        using var caller = Client(gateway, key);
        var chat = await caller.PostAsync("/v1/chat/completions", ChatBody(model, stream: false));
        if (chat.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"chat call {what} failed: {(int)chat.StatusCode} {await chat.Content.ReadAsStringAsync()}");
        }
        return chat;
    }

    private static HttpClient Client(string baseAddress, string key)
    {
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static object ModelBody(string name, string team, string apiBase) => new
    {
        model_name = name,
        litellm_params = new { model = "openai/gpt-4o", api_base = apiBase, api_key = "sk-fake-upstream-key-0000" },
        model_info = new { team_id = team },
    };

    private static StringContent ChatBody(string model, bool stream) => new(
        new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "ping" }),
            ["stream"] = stream,
        }.ToJsonString(), Encoding.UTF8, "application/json");

    private static async Task<JsonObject> Ensure(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what} answered {(int)response.StatusCode}: {body}");
        }
        return JsonNode.Parse(body) as JsonObject ?? [];
    }
}
