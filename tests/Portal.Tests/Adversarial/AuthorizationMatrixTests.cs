using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static Portal.Tests.Adversarial.Target;

namespace Portal.Tests.Adversarial;

/// <summary>
/// Issue 6 item 1: every management and LLM route × every caller kind × own team / other team / global gets exactly the
/// status <see cref="AuthorizationTable"/> says, in the docs/api.md error envelope, and no 2xx answer to a team-A caller
/// mentions team B. A route the app serves that is not in the table fails <see cref="EveryApiRoute_IsInTheMatrix"/>.
/// </summary>
public sealed class AuthorizationMatrixTests(MatrixWorld world) : IClassFixture<MatrixWorld>
{
    // The API document and its page are public (Operations/ApiDocumentTests); /metrics has no method metadata (MetricsTests).
    private static readonly string[] ExcludedPrefixes = ["/Account/", "/_blazor", "/_framework", "/health/liveliness", "/health/liveness", "/health/readiness", "/not-found", "/openapi/", "/docs"];
    private static readonly string[] ExcludedMetadata = ["ComponentTypeMetadata", "StaticAssetDescriptor", "HubMetadata"];

    [Fact]
    public async Task EveryCell_GetsTheStatusOfTheTable()
    {
        var mismatches = new ConcurrentBag<string>();
        // /team/delete deletes the fixture's teams when it succeeds: those cells run last, one at a time, the master key's at the very end.
        var (deletes, rest) = (AuthorizationTable.Cells.Where(c => c.Route == "POST /team/delete").ToList(),
            AuthorizationTable.Cells.Where(c => c.Route != "POST /team/delete").ToList());

        using var gate = new SemaphoreSlim(12);
        await Task.WhenAll(rest.Select(async cell =>
        {
            await gate.WaitAsync();
            try
            {
                await RunAsync(cell, mismatches);
            }
            finally
            {
                gate.Release();
            }
        }));
        foreach (var cell in deletes.OrderBy(c => c.Caller == Who.MasterKey).ThenBy(c => c.Target == OwnTeam))
        {
            await RunAsync(cell, mismatches);
        }

        Assert.True(mismatches.IsEmpty,
            $"{mismatches.Count} of {AuthorizationTable.Cells.Count} cells differ from the table:\n" + string.Join("\n", mismatches.Order(StringComparer.Ordinal)));
    }

    [Fact]
    public void EveryApiRoute_IsInTheMatrix()
    {
        var served = world.Gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IHttpMethodMetadata>() is { HttpMethods.Count: > 0 })
            .Where(e => !e.Metadata.Any(m => ExcludedMetadata.Contains(m.GetType().Name)))
            .Select(e => (Endpoint: e, Path: "/" + (e.RoutePattern.RawText ?? "").TrimStart('/')))
            .Where(e => !e.Path.Contains(":file}", StringComparison.Ordinal))
            .Where(e => !ExcludedPrefixes.Any(p => e.Path.StartsWith(p, StringComparison.OrdinalIgnoreCase) || e.Path.Equals(p.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)))
            .SelectMany(e => e.Endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()!.HttpMethods.Where(m => m != "HEAD").Select(m => $"{m} {e.Path}"))
            .ToHashSet(StringComparer.Ordinal);

        var missing = served.Except(AuthorizationTable.Routes).Order(StringComparer.Ordinal).ToList();
        var stale = AuthorizationTable.Routes.Except(served).Order(StringComparer.Ordinal).ToList();

        Assert.True(missing.Count == 0, "Routes the app serves that the authorization matrix does not cover (add rows to AuthorizationTable):\n" + string.Join("\n", missing));
        Assert.True(stale.Count == 0, "Rows of the authorization matrix for routes the app no longer serves:\n" + string.Join("\n", stale));
    }

    [Fact]
    public void TheTable_HasEveryCallerForEveryRouteAndTarget_Once()
    {
        var duplicates = AuthorizationTable.Cells.GroupBy(c => (c.Route, c.Caller, c.Target)).Where(g => g.Count() > 1).Select(g => g.Key.ToString()).ToList();
        Assert.Empty(duplicates);
        foreach (var group in AuthorizationTable.Cells.GroupBy(c => (c.Route, c.Target)))
        {
            Assert.Equal(Enum.GetValues<Who>().Order(), group.Select(c => c.Caller).Order());
        }
        // Callers that cannot authenticate are refused everywhere, before anything else is looked at.
        Assert.All(AuthorizationTable.Cells.Where(c => c.Caller >= Who.ExpiredKey), c => Assert.Equal(401, c.Expected));
    }

    private async Task RunAsync(Cell cell, ConcurrentBag<string> mismatches)
    {
        var name = $"{cell.Route} [{cell.Target}] as {cell.Caller}";
        try
        {
            using var request = (await BuildAsync(cell.Route, cell.Target)).WithKey(world.Keys[cell.Caller]);
            using var response = await world.Http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (status != cell.Expected)
            {
                mismatches.Add($"{name}: expected {cell.Expected}, got {status}: {AdversarialHttp.Excerpt(body, 200)}");
                return;
            }
            if (status >= 400 && AdversarialHttp.EnvelopeProblem(status, body, anthropic: cell.Route.Contains("/messages", StringComparison.Ordinal)) is { } problem)
            {
                mismatches.Add($"{name}: {status} is not the docs/api.md error envelope: {problem}");
            }
            if (status < 300 && cell.Caller is not Who.MasterKey && (body.Contains(world.TeamB, StringComparison.Ordinal) || body.Contains(world.ModelBInternal, StringComparison.Ordinal)))
            {
                mismatches.Add($"{name}: a 2xx answer to a team-A caller mentions team B or its model: {AdversarialHttp.Excerpt(body, 200)}");
            }
        }
        catch (Exception e)
        {
            mismatches.Add($"{name}: the request failed: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>The request of one cell. Cells that change or delete an object get a fresh one, made by the master key.</summary>
    private async Task<HttpRequestMessage> BuildAsync(string route, Target target)
    {
        var fresh = $"mx-{Guid.NewGuid():N}";
        string Team() => world.TeamOf(target);
        string TeamQuery(string path) => target == None ? path : $"{path}?team_id={Team()}";
        return route switch
        {
            "POST /team/new" => Post("/team/new", new { team_alias = fresh }),
            "GET /team/info" => Get(TeamQuery("/team/info")),
            "GET /team/list" => Get("/team/list"),
            "POST /team/update" => Post("/team/update", new { team_id = Team(), team_alias = fresh }),
            "POST /team/delete" => Post("/team/delete", new { team_ids = new[] { Team() } }),
            "POST /team/member_add" => Post("/team/member_add", new { team_id = Team(), member = new { user_id = fresh, role = "user" } }),
            "POST /team/member_delete" => Post("/team/member_delete", new { team_id = Team(), user_id = await world.NewMemberAsync(target) }),
            "POST /team/member_update" => Post("/team/member_update", new { team_id = Team(), user_id = await world.NewMemberAsync(target), role = "admin" }),

            "POST /model/new" => Post("/model/new", world.ModelBody(fresh, target == Global ? null : Team())),
            "POST /model/update" => Post("/model/update", new { model_info = new { id = await world.NewModelAsync(target) }, litellm_params = new { api_base = world.OkApiBase + "/v2" } }),
            "PATCH /model/{model_id}/update" => Send(HttpMethod.Patch, $"/model/{await world.NewModelAsync(target)}/update", new { litellm_params = new { api_base = world.OkApiBase + "/v2" } }),
            "POST /model/delete" => Post("/model/delete", new { id = await world.NewModelAsync(target) }),
            "GET /model/info" or "GET /v1/model/info" or "GET /v2/model/info" => Get(target == None
                ? route[4..]
                : $"{route[4..]}?litellm_model_id={world.ModelIds[target]}"),
            "GET /v1/models" or "GET /models" or "GET /model_group/info" => Get(route[4..]),

            "POST /key/generate" => Post("/key/generate", target == Global ? new { key_alias = fresh } : (object)new { key_alias = fresh, team_id = Team() }),
            "GET /key/info" => Get(target == None ? "/key/info" : $"/key/info?key={Uri.EscapeDataString(world.TargetKeys[target])}"),
            "GET /key/list" => Get(TeamQuery("/key/list")),
            "POST /key/update" => Post("/key/update", new { key = await world.NewKeyAsync(target), key_alias = fresh }),
            "POST /key/delete" => Post("/key/delete", new { keys = new[] { await world.NewKeyAsync(target) } }),
            "POST /key/regenerate" => Post("/key/regenerate", new { key = await world.NewKeyAsync(target) }),
            "POST /key/{key}/regenerate" => new HttpRequestMessage(HttpMethod.Post, $"/key/{await world.NewKeyAsync(target)}/regenerate"),

            "POST /user/new" => Post("/user/new", new { user_email = $"{fresh}@example.com" }),
            "GET /user/info" => Get(target == None ? "/user/info" : $"/user/info?user_id={await world.NewMemberAsync(target)}"),
            "GET /user/list" => Get("/user/list"),
            "POST /user/update" => Post("/user/update", new { user_id = await world.NewMemberAsync(target), max_budget = 10 }),

            "GET /health" => Get(target == None ? "/health" : $"/health?model={world.PublicModel(target)}"),

            "GET /audit" => Get(TeamQuery("/audit")),
            "GET /spend/logs" => Get(TeamQuery("/spend/logs")),
            "GET /team/daily/activity" => Get(target == None ? "/team/daily/activity?start_date=2026-01-01&end_date=2026-01-31"
                : $"/team/daily/activity?team_id={Team()}&start_date=2026-01-01&end_date=2026-01-31"),
            "GET /user/daily/activity" => Get("/user/daily/activity?start_date=2026-01-01&end_date=2026-01-31"),
            "GET /spend/logs/v2" => Get(TeamQuery("/spend/logs/v2")),

            "POST /openai/deployments/{model}/chat/completions" =>
                Post($"/openai/deployments/{world.PublicModel(target)}/chat/completions", new { messages = new[] { new { role = "user", content = "hi" } } }),
            "POST /openai/deployments/{model}/embeddings" => Post($"/openai/deployments/{world.PublicModel(target)}/embeddings", new { input = "hi" }),
            "POST /openai/deployments/{model}/audio/transcriptions" => Form($"/openai/deployments/{world.PublicModel(target)}/audio/transcriptions", null),
            _ when route.StartsWith("POST /openai/deployments/{model}/", StringComparison.Ordinal) =>
                Post($"/openai/deployments/{world.PublicModel(target)}/{route[33..]}", new { prompt = "a lighthouse", input = "hi", voice = "alloy" }),
            _ when route.Contains("/messages", StringComparison.Ordinal) =>
                Post(route[5..], new { model = world.PublicModel(target), max_tokens = 5, messages = new[] { new { role = "user", content = "hi" } } }),
            _ when route.EndsWith("/audio/transcriptions", StringComparison.Ordinal) => Form(route[5..], world.PublicModel(target)),
            _ when route.EndsWith("/images/generations", StringComparison.Ordinal) => Post(route[5..], new { model = world.PublicModel(target), prompt = "a lighthouse" }),
            _ when route.EndsWith("/moderations", StringComparison.Ordinal) => Post(route[5..], new { model = world.PublicModel(target), input = "hi" }),
            _ when route.EndsWith("/audio/speech", StringComparison.Ordinal) => Post(route[5..], new { model = world.PublicModel(target), input = "hi", voice = "alloy" }),
            _ when route.EndsWith("/chat/completions", StringComparison.Ordinal) =>
                Post(route[5..], new { model = world.PublicModel(target), messages = new[] { new { role = "user", content = "hi" } } }),
            _ when route.EndsWith("/completions", StringComparison.Ordinal) => Post(route[5..], new { model = world.PublicModel(target), prompt = "hi" }),
            _ when route.EndsWith("/embeddings", StringComparison.Ordinal) || route.EndsWith("/responses", StringComparison.Ordinal) =>
                Post(route[5..], new { model = world.PublicModel(target), input = "hi" }),
            _ => throw new InvalidOperationException($"No request is defined for {route}: add one to BuildAsync."),
        };
    }

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static HttpRequestMessage Post(string path, object body) => Send(HttpMethod.Post, path, body);

    /// <summary>A transcription's multipart/form-data body: a small file, and the model field unless it is in the path.</summary>
    private static HttpRequestMessage Form(string path, string? model)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3, 4]), "file", "hi.mp3" } };
        if (model is not null)
        {
            form.Add(new StringContent(model), "model");
        }
        return new HttpRequestMessage(HttpMethod.Post, path) { Content = form };
    }

    private static HttpRequestMessage Send(HttpMethod method, string path, object body) =>
        new(method, path) { Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };
}
