using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Portal.Tests.Infrastructure;
using Portal.Tests.Reliability;

namespace Portal.Tests.Operations;

/// <summary>
/// /openapi/v1.json against the running gateway: every route is in it, every request field it documents is one the
/// route reads, and what the routes answer is what it documents. A route or field added without its documentation, or
/// documented and then dropped, fails here.
/// </summary>
public sealed class ApiDocumentTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    /// <summary>Not API routes: the portal, its assets, the document itself and its page. /metrics is Prometheus' text.</summary>
    private static readonly string[] Undocumented = ["/Account", "/_blazor", "/_framework", "/not-found", "/openapi/", "/docs", "/signin-oidc", "/signout-callback-oidc"];

    private async Task<JsonObject> DocumentAsync() =>
        await (await gateway.Client(key: null).GetAsync("/openapi/v1.json")).ReadJsonAsync(HttpStatusCode.OK);

    [Fact]
    public async Task TheDocument_IsOpenApi31_NeedsNoKey_AndDescribesTheKeyAndTheErrorEnvelope()
    {
        var doc = await DocumentAsync();

        Assert.StartsWith("3.1", doc["openapi"]!.GetValue<string>());
        var scheme = doc["components"]!["securitySchemes"]!["virtual_key"]!;
        Assert.Equal("http", scheme["type"]!.GetValue<string>());
        Assert.Equal("bearer", scheme["scheme"]!.GetValue<string>());
        var error = doc["components"]!["schemas"]!["ErrorEnvelope"]!["properties"]!["error"]!["properties"]!.AsObject();
        Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
    }

    [Fact]
    public async Task EveryMappedRoute_IsDocumented_WithItsResultTheErrorEnvelopeAndTheKeyItNeeds()
    {
        var doc = await DocumentAsync();
        var paths = doc["paths"]!.AsObject();
        var served = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>() is { HttpMethods.Count: > 0 })
            // Route handlers (the API), not the portal's pages or static assets.
            .Where(e => e.Metadata.OfType<System.Reflection.MethodInfo>().Any())
            .Select(e => (Endpoint: e, Path: "/" + (e.RoutePattern.RawText ?? "").TrimStart('/')))
            .Where(e => !e.Path.Contains(":file}", StringComparison.Ordinal) && !e.Path.Contains("{*", StringComparison.Ordinal))
            .Where(e => !Undocumented.Any(p => e.Path.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            .SelectMany(e => e.Endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()!.HttpMethods.Where(m => m != "HEAD").Select(m => (Method: m, e.Path)))
            .ToList();
        Assert.True(served.Count > 40, $"only {served.Count} routes found");

        var problems = new List<string>();
        foreach (var (method, path) in served)
        {
            if (paths[path]?[method.ToLowerInvariant()] is not JsonObject operation)
            {
                problems.Add($"{method} {path}: not in the document");
                continue;
            }
            if (string.IsNullOrEmpty(operation["summary"]?.GetValue<string>()))
            {
                problems.Add($"{method} {path}: no summary");
            }
            var responses = operation["responses"]!.AsObject();
            // JSON, or the audio bytes of /audio/speech.
            if (responses["200"]?["content"] is not JsonObject answers || !answers.Any(a => (a.Key == "application/json" || a.Key.StartsWith("audio/", StringComparison.Ordinal)) && a.Value?["schema"] is not null))
            {
                problems.Add($"{method} {path}: no schema for its 200 answer");
            }
            if (responses["500"]?["content"]?["application/json"]?["schema"]?["$ref"]?.GetValue<string>() != "#/components/schemas/ErrorEnvelope")
            {
                problems.Add($"{method} {path}: errors not documented as the envelope");
            }
            var anonymous = path.StartsWith("/health/l", StringComparison.Ordinal) || path == "/health/readiness";
            if (anonymous == operation["security"] is JsonArray { Count: > 0 })
            {
                problems.Add($"{method} {path}: {(anonymous ? "documented as needing a key" : "does not say it needs a key")}");
            }
            if (method is "POST" or "PATCH" && !path.StartsWith("/key/regenerate", StringComparison.Ordinal)
                && (operation["requestBody"]?["content"]?["application/json"] ?? operation["requestBody"]?["content"]?["multipart/form-data"])?["schema"] is null)
            {
                problems.Add($"{method} {path}: no request body schema");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>
    /// For each management route with a body, each documented field is sent alone (on a minimal body) with a value of
    /// the wrong type: the route must answer 400 naming that field, which it can only do if it reads it.
    /// </summary>
    [Fact]
    public async Task EveryDocumentedRequestField_IsReadByItsRoute()
    {
        var doc = await DocumentAsync();
        var schemas = doc["components"]!["schemas"]!.AsObject();
        var admin = gateway.Client();
        var problems = new List<string>();
        var checkedFields = 0;
        foreach (var (path, item) in doc["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (operation!["tags"]![0]!.GetValue<string>() == "LLM" || operation["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"] is not { } reference)
                {
                    continue;
                }
                var url = path.Replace("{model_id}", "no-such-model").Replace("{key}", "sk-no-such-key-000000000000000000000000000");
                foreach (var (field, wrong) in WrongValues(schemas, Resolve(schemas, reference), ""))
                {
                    var body = MinimalBody(path);
                    Set(body, field, wrong);
                    var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), url) { Content = JsonContent.Create(body) });
                    var text = await response.Content.ReadAsStringAsync();
                    var param = response.StatusCode == HttpStatusCode.BadRequest ? JsonNode.Parse(text)?["error"]?["param"]?.GetValue<string>() : null;
                    if (param != field)
                    {
                        problems.Add($"{method.ToUpperInvariant()} {path} {{\"{field}\": {wrong.ToJsonString()}}} → {(int)response.StatusCode} param={param ?? "null"}: {text}");
                    }
                    checkedFields++;
                }
            }
        }
        Assert.True(checkedFields > 60, $"only {checkedFields} fields checked");
        Assert.True(problems.Count == 0, $"{problems.Count} documented fields are not read (or not checked) by their route:\n" + string.Join("\n", problems));
    }

    /// <summary>Live answers against their documented schemas: no undocumented field, no documented one missing.</summary>
    [Fact]
    public async Task WhatTheRoutesAnswer_IsWhatTheDocumentSays()
    {
        var doc = await DocumentAsync();
        var schemas = doc["components"]!["schemas"]!.AsObject();
        var admin = gateway.Client();
        await using var upstream = new StandInUpstream();
        var team = await gateway.CreateTeamAsync("documented");
        var issued = await (await admin.PostAsJsonAsync("/key/generate", new { team_id = team, key_alias = "doc", max_budget = 10, metadata = new { a = 1 } })).ReadJsonAsync(HttpStatusCode.OK);
        var model = await (await admin.PostAsJsonAsync("/model/new", new
        {
            model_name = "doc-model",
            litellm_params = new { model = "openai/gpt-4o", api_base = upstream.ApiBase("ok", out _), api_key = "sk-provider-doc-0000", weight = 2 },
            model_info = new { team_id = team, note = "kept" },
        })).ReadJsonAsync(HttpStatusCode.OK);
        var key = issued["key"]!.GetValue<string>();
        (await gateway.Client(key).PostAsJsonAsync("/v1/chat/completions", new { model = "doc-model", messages = new[] { new { role = "user", content = "hi" } } })).EnsureSuccessStatusCode();
        await gateway.WaitForUsageAsync(1, TimeSpan.FromSeconds(20));
        var user = await (await admin.PostAsJsonAsync("/user/new", new { user_email = "documented@example.com" })).ReadJsonAsync(HttpStatusCode.OK);
        var userId = user["user_id"]!.GetValue<string>();
        (await admin.PostAsJsonAsync("/team/member_add", new { team_id = team, member = new { user_id = userId, role = "user" } })).EnsureSuccessStatusCode();

        var checks = new (string Method, string Path, string Url, HttpClient Client)[]
        {
            ("get", "/team/info", $"/team/info?team_id={team}", admin),
            ("get", "/team/list", "/team/list", admin),
            ("get", "/key/info", $"/key/info?key={key}", admin),
            ("get", "/key/list", $"/key/list?team_id={team}", admin),
            ("get", "/model/info", "/model/info", admin),
            ("get", "/v1/models", "/v1/models", gateway.Client(key)),
            ("get", "/user/info", $"/user/info?user_id={userId}", admin),
            ("get", "/user/list", "/user/list", admin),
            ("get", "/spend/logs", $"/spend/logs?team_id={team}", admin),
            ("get", "/audit", $"/audit?team_id={team}", admin),
            ("get", "/health/readiness", "/health/readiness", admin),
            ("get", "/health", "/health", gateway.Client(key)),
        };
        var problems = new List<string>();
        Compare(schemas, Response(doc, "post", "/key/generate"), issued, "POST /key/generate", problems);
        Compare(schemas, Response(doc, "post", "/model/new"), model, "POST /model/new", problems);
        Compare(schemas, Response(doc, "post", "/user/new"), user, "POST /user/new", problems);
        foreach (var (method, path, url, client) in checks)
        {
            var text = await client.GetStringAsync(url);
            Compare(schemas, Response(doc, method, path), JsonNode.Parse(text), $"GET {url}", problems);
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task TheDocsPage_IsServedWithItsScriptsFromTheGatewayItself()
    {
        var client = gateway.Client(key: null);

        var page = await client.GetStringAsync("/docs/");

        Assert.Contains("openapi/v1.json", page);
        Assert.DoesNotContain("https://", page);
        var script = await client.GetAsync("/docs/scalar.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 100_000, "scalar.js is not the real script");
    }

    private static JsonObject MinimalBody(string path) => path switch
    {
        "/model/new" => new JsonObject { ["litellm_params"] = new JsonObject() },
        "/model/update" => new JsonObject { ["model_info"] = new JsonObject { ["id"] = "no-such-model" } },
        "/team/member_add" => new JsonObject { ["member"] = new JsonObject { ["user_email"] = "someone@example.com", ["role"] = "user" } },
        "/team/member_update" => new JsonObject { ["role"] = "user" },
        _ => [],
    };

    /// <summary>Each documented field (nested objects' fields too, as a.b) with a value of the wrong type.</summary>
    private static IEnumerable<(string Field, JsonNode Wrong)> WrongValues(JsonObject schemas, JsonObject schema, string prefix)
    {
        foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
        {
            var field = prefix + name;
            var resolved = property!["$ref"] is { } r ? Resolve(schemas, r) : property.AsObject();
            var type = Types(resolved).FirstOrDefault(t => t != "null") ?? (resolved["properties"] is not null || property["$ref"] is not null ? "object" : "any");
            if (type == "any")
            {
                continue;
            }
            yield return (field, type == "string" ? JsonValue.Create(12345)! : JsonValue.Create("wrong type")!);
            if (type == "object" && resolved["properties"] is JsonObject { Count: > 0 })
            {
                foreach (var nested in WrongValues(schemas, resolved, field + "."))
                {
                    yield return nested;
                }
            }
        }
    }

    private static IEnumerable<string> Types(JsonObject schema) => schema["type"] switch
    {
        JsonArray list => list.Select(t => t!.GetValue<string>()),
        JsonValue one => [one.GetValue<string>()],
        _ => [],
    };

    private static void Set(JsonObject body, string dotted, JsonNode value)
    {
        var parts = dotted.Split('.');
        var target = body;
        foreach (var part in parts[..^1])
        {
            target = target[part] as JsonObject ?? (JsonObject)(target[part] = new JsonObject());
        }
        target[parts[^1]] = value;
    }

    private static JsonObject Resolve(JsonObject schemas, JsonNode reference) =>
        schemas[reference.GetValue<string>().Split('/')[^1]]!.AsObject();

    private static JsonObject Response(JsonObject doc, string method, string path) =>
        doc["paths"]![path]![method]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!.AsObject();

    private static void Compare(JsonObject schemas, JsonObject schema, JsonNode? value, string at, List<string> problems)
    {
        if (schema["$ref"] is { } reference)
        {
            schema = Resolve(schemas, reference);
        }
        switch (value)
        {
            case JsonArray array when schema["items"] is JsonObject items:
                foreach (var element in array)
                {
                    Compare(schemas, items, element, at + "[]", problems);
                }
                break;
            case JsonObject obj when schema["properties"] is JsonObject properties:
                foreach (var (name, child) in obj)
                {
                    if (properties[name] is JsonObject documented)
                    {
                        Compare(schemas, documented, child, $"{at}.{name}", problems);
                    }
                    else if (schema["additionalProperties"] is null or JsonValue && schema["additionalProperties"]?.GetValue<bool>() != true)
                    {
                        problems.Add($"{at}: answers {name}, which the document does not describe");
                    }
                }
                foreach (var (name, documented) in properties)
                {
                    var nullable = Types(documented!["$ref"] is { } r ? Resolve(schemas, r) : documented.AsObject()).Contains("null")
                        || documented["type"] is null && documented["$ref"] is null;
                    if (!obj.ContainsKey(name) && !nullable)
                    {
                        problems.Add($"{at}: the document promises {name}, which the answer lacks");
                    }
                }
                break;
        }
    }
}
