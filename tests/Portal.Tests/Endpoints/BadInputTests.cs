using System.Net;
using System.Text;
using Portal.Tests.Infrastructure;

namespace Portal.Tests.Endpoints;

/// <summary>Wrong requests get a 4xx OpenAI-shaped error that names the problem, and the database stays exactly as it was.</summary>
[Trait("Category", "Database")]
public sealed class BadInputTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    public static TheoryData<string, string, string, int, string> Cases => new()
    {
        // method, path, body ({TEAM} is replaced by an existing team id), status, a word the message must contain
        { "POST", "/team/new", "{not json", 400, "not valid JSON" },
        { "POST", "/team/new", "[1,2]", 400, "JSON object" },
        { "POST", "/team/new", "", 400, "empty" },
        { "POST", "/team/new", "{\"team_alias\": 5}", 400, "team_alias" },
        { "POST", "/team/new", "{\"models\": \"gpt-4o\"}", 400, "models" },
        { "POST", "/team/new", "{\"models\": [1]}", 400, "models" },
        { "POST", "/team/new", "{\"max_budget\": \"lots\"}", 400, "max_budget" },
        { "POST", "/team/new", "{\"max_budget\": -1}", 400, "negative" },
        { "POST", "/team/new", "{\"blocked\": \"yes\"}", 400, "blocked" },
        { "POST", "/team/new", "{\"team_id\": \"has space\"}", 400, "team_id" },
        { "POST", "/team/new", "{\"team_alias\": \"a\\u0000b\"}", 400, "control characters" },
        { "POST", "/team/new", "{\"a\": 1, \"a\": 2}", 400, "twice" },
        { "POST", "/team/new", "{\"metadata\": [1]}", 400, "metadata" },
        { "POST", "/team/update", "{\"team_alias\": \"x\"}", 400, "team_id" },
        { "POST", "/team/update", "{\"team_id\": \"nope\", \"team_alias\": \"x\"}", 404, "nope" },
        { "POST", "/team/member_add", "{\"team_id\": \"{TEAM}\"}", 400, "member" },
        { "POST", "/team/member_add", "{\"team_id\": \"{TEAM}\", \"member\": {\"user_email\": \"not-an-email\"}}", 400, "email" },
        { "POST", "/team/member_add", "{\"team_id\": \"{TEAM}\", \"member\": {\"user_email\": \"a@b.c\", \"role\": \"owner\"}}", 400, "role" },
        { "POST", "/model/new", "{\"litellm_params\": {\"model\": \"openai/gpt-4o\"}}", 400, "model_name" },
        { "POST", "/model/new", "{\"model_name\": \"m\"}", 400, "litellm_params" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {}}", 400, "litellm_params.model" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {\"model\": 4}}", 400, "litellm_params.model" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {\"model\": \"sagemaker/claude\"}, \"model_info\": {\"team_id\": \"{TEAM}\"}}", 400, "openai, azure" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {\"model\": \"openai/x\", \"api_base\": \"not a url\"}, \"model_info\": {\"team_id\": \"{TEAM}\"}}", 400, "api_base" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {\"model\": \"openai/x\", \"api_base\": \"ftp://example.com\"}, \"model_info\": {\"team_id\": \"{TEAM}\"}}", 400, "http(s)" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {\"model\": \"openai/x\", \"api_base\": \"file:///etc/passwd\"}, \"model_info\": {\"team_id\": \"{TEAM}\"}}", 400, "api_base" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {\"model\": \"openai/x\", \"api_base\": \"https://user:pw@example.com\"}, \"model_info\": {\"team_id\": \"{TEAM}\"}}", 400, "credentials" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {\"model\": \"azure/dep\"}, \"model_info\": {\"team_id\": \"{TEAM}\"}}", 400, "api_base" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {\"model\": \"openai/x\", \"timeout\": -5}, \"model_info\": {\"team_id\": \"{TEAM}\"}}", 400, "timeout" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {\"model\": \"openai/x\", \"aws_secret_access_key\": \"abc\"}, \"model_info\": {\"team_id\": \"{TEAM}\"}}", 400, "api_key" },
        { "POST", "/model/new", "{\"model_name\": \"m\", \"litellm_params\": {\"model\": \"openai/x\"}, \"model_info\": {\"team_id\": \"no-such-team\"}}", 400, "Team id=no-such-team does not exist" },
        { "POST", "/model/update", "{\"litellm_params\": {}}", 400, "model_info.id" },
        { "POST", "/model/delete", "{}", 400, "id" },
        { "POST", "/model/delete", "{\"id\": \"missing\"}", 404, "missing" },
        { "POST", "/key/generate", "{\"team_id\": \"no-such-team\"}", 400, "does not exist" },
        { "POST", "/key/generate", "{\"team_id\": \"{TEAM}\", \"key_type\": \"super\"}", 400, "key_type" },
        { "POST", "/key/generate", "{\"team_id\": \"{TEAM}\", \"models\": {}}", 400, "models" },
        { "POST", "/key/delete", "{}", 400, "keys" },
        { "POST", "/key/update", "{\"key\": \"sk-unknown-0000000000000000000000000\"}", 404, "not found" },
        { "POST", "/team/delete", "{\"team_ids\": []}", 400, "team_ids" },
        { "GET", "/audit?team_id={TEAM}&page=0", "", 400, "page" },
        { "GET", "/no/such/route", "", 404, "does not exist" },
        { "GET", "/no/such/route", "", 404, "See /docs for the routes" },
        // A route that does not exist is a 404 whatever the method (LiteLLM's /organization/new is not served here);
        // a real route with a wrong method stays a 405.
        { "POST", "/organization/new", "{\"organization_alias\": \"o\"}", 404, "See /docs for the routes" },
        { "POST", "/no/such/route", "{}", 404, "does not exist" },
        { "PUT", "/budget/new", "{}", 404, "does not exist" },
        { "POST", "/key/info", "{}", 405, "not allowed" },
        { "GET", "/key/sk-whatever/regenerate", "", 405, "not allowed" },
        // The path is echoed with a raw key in it masked, as everywhere else.
        { "GET", "/key/sk-whatever0123456789abcdefghij/regenerate", "", 405, "not allowed on /key/sk-...ghij/regenerate." },
        { "DELETE", "/team/new", "", 405, "not allowed" },
        { "GET", "/team/new", "", 405, "not allowed" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadRequest_GetsAClearError_AndChangesNothing(string method, string path, string body, int status, string mustMention)
    {
        var team = await gateway.CreateTeamAsync();
        var before = await gateway.DumpAsync();
        var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{TEAM}", team));
        if (body.Length > 0 || method == "POST")
        {
            request.Content = new StringContent(body.Replace("{TEAM}", team), Encoding.UTF8, "application/json");
        }

        var response = await gateway.Client().SendAsync(request);

        var message = await response.ReadErrorAsync((HttpStatusCode)status);
        Assert.Contains(mustMention, message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await gateway.DumpAsync());
    }

    [Fact]
    public async Task OversizedBody_Is413()
    {
        var before = await gateway.DumpAsync();
        var huge = "{\"team_alias\": \"" + new string('x', 2 * 1024 * 1024) + "\"}";

        var response = await gateway.Client().PostAsync("/team/new", new StringContent(huge, Encoding.UTF8, "application/json"));

        Assert.Contains("too large", await response.ReadErrorAsync(HttpStatusCode.RequestEntityTooLarge));
        Assert.Equal(before, await gateway.DumpAsync());
    }

    [Fact]
    public async Task DeeplyNestedJson_Is400()
    {
        var deep = "{\"metadata\": " + string.Concat(Enumerable.Repeat("{\"a\":", 200)) + "1" + new string('}', 200) + "}";

        var response = await gateway.Client().PostAsync("/team/new", new StringContent(deep, Encoding.UTF8, "application/json"));

        await response.ReadErrorAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task NonJsonContentType_Is415()
    {
        var response = await gateway.Client().PostAsync("/team/new", new StringContent("<team/>", Encoding.UTF8, "application/xml"));

        await response.ReadErrorAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Theory]
    [InlineData(null, "No API key")]
    [InlineData("Basic dXNlcjpwYXNz", "Malformed")]
    [InlineData("Bearer sk-not-a-real-key-00000000000000000000", "Invalid API key")]
    public async Task MissingOrBadKey_Is401(string? authorization, string mustMention)
    {
        var client = gateway.Client(key: null);
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await client.GetAsync("/team/list");

        Assert.Contains(mustMention, await response.ReadErrorAsync(HttpStatusCode.Unauthorized, "auth_error"));
    }

    [Theory]
    [InlineData("x-litellm-api-key", "")]
    [InlineData("x-litellm-api-key", "Bearer ")]
    [InlineData("api-key", "")]
    [InlineData("x-api-key", "")]
    public async Task KeyIsAcceptedInEveryDocumentedHeader(string header, string prefix)
    {
        var client = gateway.Client(key: null);
        client.DefaultRequestHeaders.Add(header, prefix + GatewayFactory.MasterKey);

        await (await client.GetAsync("/team/list")).EnsureSuccessStatusCodeAsync();
    }
}

internal static class ResponseExtensions
{
    public static async Task EnsureSuccessStatusCodeAsync(this HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
