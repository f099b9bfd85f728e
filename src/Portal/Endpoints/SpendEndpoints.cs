using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Proxy.Core;
using Proxy.Core.Access;
using Proxy.Core.Keys;
using Proxy.Core.Usage;

namespace Portal.Endpoints;

/// <summary>
/// Recorded LLM calls (<c>GET /spend/logs</c>), for a team's admins (with <c>team_id</c>) and the proxy admin, filtered
/// by <c>request_id</c>, <c>api_key</c>, <c>user_id</c>, <c>team_id</c>, <c>model</c> and the dates together (docs/api.md section 9).
/// </summary>
public static class SpendEndpoints
{
    public static IEndpointRouteBuilder MapSpendEndpoints(this IEndpointRouteBuilder app)
    {
        var management = app.MapManagementGroup();
        management.MapGet("/spend/logs", List).WithSummary("Recorded LLM calls, newest first, one row per attempt; the filters combine with AND");
        management.MapGet("/spend/logs/v2", ListPaged)
            .WithSummary("The same rows in LiteLLM's paged shape {data, total, page, page_size, total_pages}: total is null (never counted); total_pages says whether a next page follows");
        return app;
    }

    private static async Task<Ok<List<SpendLogJson>>> List(
        HttpContext http, UsageLog usage, string? team_id,
        [Description("The page from the newest, counting from 1; at most 10,000 rows deep (page × size). Deeper: after.")] string? page,
        [Description("Rows per page, 1 to 100 (default 50).")] string? size,
        [Description("The id of the last row of the previous page: the page of rows after it (older), at any depth for the cost of the first page.")] string? after,
        [Description("The call id (x-litellm-call-id) or the provider answer's id (e.g. chatcmpl-...).")] string? request_id,
        [Description("The key that called: the raw sk-... key or its SHA-256 hex.")] string? api_key,
        string? user_id,
        [Description("The public model name.")] string? model,
        [Description("Calls started on or after this UTC date (YYYY-MM-DD) or instant (ISO 8601).")] string? start_date,
        [Description("Calls started on or before this UTC date (the whole day) or before this instant.")] string? end_date)
    {
        var caller = http.Caller();
        var paging = PagingOf(page, size, Given(after));
        var (from, until) = SpendLogDates.Range(Given(start_date), Given(end_date));
        var filter = new SpendLogFilter(Given(request_id), Given(api_key), Given(user_id), team_id, Given(model), from, until);
        var records = await usage.ListAsync(caller, filter, paging, http.RequestAborted);
        if (records.Count == paging.Size)
        {
            // A full page may have more after it: the next page, for scripts that follow links.
            http.Response.Headers.Link = $"<{http.Request.PathBase}{http.Request.Path}{NextPage(http.Request.Query, records[^1].Id)}>; rel=\"next\"";
        }
        return TypedResults.Ok(records.Select(Json).ToList());
    }

    /// <summary>
    /// LiteLLM's <c>/spend/logs/v2</c> (what its UI and many scripts page with), without its <c>COUNT</c>: a page reads
    /// <c>page_size + 1</c> rows after its offset, so <c>total_pages</c> is this page, or this page + 1 when a row
    /// follows (scripts that loop while <c>page &lt; total_pages</c> read every page), and <c>total</c> is null.
    /// </summary>
    private static async Task<Ok<SpendLogsPageJson>> ListPaged(
        HttpContext http, UsageLog usage, string? team_id,
        [Description("The page from the newest, counting from 1; at most 10,000 rows deep (page × page_size). Deeper: /spend/logs with after.")] string? page,
        [Description("Rows per page, 1 to 100 (default 50).")] string? page_size,
        string? request_id,
        [Description("The key that called: the raw sk-... key or its SHA-256 hex.")] string? api_key,
        string? user_id, string? model,
        [Description("UTC: YYYY-MM-DD, YYYY-MM-DD HH:MM:SS (LiteLLM's form) or ISO 8601.")] string? start_date,
        [Description("UTC, inclusive: YYYY-MM-DD (the whole day), YYYY-MM-DD HH:MM:SS or ISO 8601.")] string? end_date,
        [Description("Only startTime (the default) is served.")] string? sort_by,
        [Description("Only desc (newest first, the default) is served.")] string? sort_order)
    {
        var caller = http.Caller();
        var (pageNumber, size) = (Paging.Number(page, "page", 1, 1, int.MaxValue), Paging.Number(page_size, "page_size", 50, 1, Paging.MaxSize));
        if (Given(sort_by) is { } by && by != "startTime")
        {
            throw ProxyError.BadRequest($"sort_by={by} is not supported: rows come newest first by startTime only.", "sort_by");
        }
        if (Given(sort_order) is { } order && order != "desc")
        {
            throw ProxyError.BadRequest($"sort_order={order} is not supported: rows come newest first (desc) only.", "sort_order");
        }
        var skip = (long)(pageNumber - 1) * size;
        if (skip > SpendLogPaging.MaxSkipped)
        {
            throw ProxyError.BadRequest(
                $"page={pageNumber} would skip more than {SpendLogPaging.MaxSkipped} rows, which the database reads and throws away: page deeper with /spend/logs?after=<the last row's id> (docs/api.md).", "page");
        }
        var (from, until) = SpendLogDates.Range(Given(start_date), Given(end_date));
        var filter = new SpendLogFilter(Given(request_id), Given(api_key), Given(user_id), team_id, Given(model), from, until);
        var records = await usage.ListAsync(caller, filter, new SpendLogPaging(size + 1, (int)skip), http.RequestAborted);
        var more = records.Count > size;
        return TypedResults.Ok(new SpendLogsPageJson(records.Take(size).Select(Json).ToList(), null, pageNumber, size, more ? pageNumber + 1 : pageNumber));
    }

    private static SpendLogJson Json(UsageRecord r) => new(r.Id, r.CallId, r.ResponseId, r.Attempt, r.KeyHash, r.TeamId, r.UserId, r.Model, r.ModelId, r.Deployment,
        r.Route, string.IsNullOrEmpty(r.Provider) ? null : r.Provider, r.Status, r.PromptTokens, r.CompletionTokens, r.TotalTokens, r.CacheReadTokens, r.CacheCreationTokens, r.TokensEstimated, r.Spend,
        r.LatencyMs, r.StartedAt, new SpendLogMetadata(r.KeyHash, r.TeamId, r.UserId));

    /// <summary>
    /// <c>after</c> (a row id) pages by cursor; <c>page</c> by OFFSET, which reads every row it skips, so it stops at
    /// <see cref="SpendLogPaging.MaxSkipped"/> rows deep with a 400 that points at the cursor.
    /// </summary>
    private static SpendLogPaging PagingOf(string? page, string? size, string? after)
    {
        var (pageNumber, pageSize) = Paging.Validate(page, size);
        if (after is null)
        {
            if ((long)(pageNumber - 1) * pageSize > SpendLogPaging.MaxSkipped)
            {
                throw ProxyError.BadRequest(
                    $"page={pageNumber} would skip more than {SpendLogPaging.MaxSkipped} rows, which the database reads and throws away: page deeper with after=<the last row's id> (docs/api.md).", "page");
            }
            return new SpendLogPaging(pageSize, (pageNumber - 1) * pageSize);
        }
        if (!long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1)
        {
            throw ProxyError.BadRequest($"after must be the id of a row from the previous page (a whole number from 1), not '{after}'.", "after");
        }
        if (pageNumber != 1)
        {
            throw ProxyError.BadRequest("page and after do not combine: after already says where the page starts.", "page");
        }
        return new SpendLogPaging(pageSize, After: id);
    }

    /// <summary>The same query after <paramref name="lastId"/>; a raw <c>api_key</c> becomes its hash, so no response echoes a key.</summary>
    private static QueryString NextPage(IQueryCollection query, long lastId)
    {
        var next = new List<KeyValuePair<string, string?>>();
        foreach (var (name, values) in query)
        {
            if (name is "after" or "page")
            {
                continue;
            }
            foreach (var value in values)
            {
                next.Add(KeyValuePair.Create(name, name == "api_key" && !string.IsNullOrEmpty(value) ? KeyMaterial.ToHash(value) : value));
            }
        }
        next.Add(KeyValuePair.Create("after", (string?)lastId.ToString(CultureInfo.InvariantCulture)));
        return QueryString.Create(next);
    }

    /// <summary>An empty filter (<c>?user_id=</c>) filters nothing, as LiteLLM's truthiness checks do.</summary>
    private static string? Given(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>One attempt of an LLM call, as LiteLLM's spend log row.</summary>
public sealed record SpendLogJson(
    [property: Description("The row's id, unique and stable: pass the last row's as after= for the next page (not in LiteLLM's row).")] long Id,
    [property: Description("The call id (x-litellm-call-id); a call retried on other deployments has one row per attempt.")] string RequestId,
    [property: Description("The provider answer's own id (chatcmpl-..., resp_...), which ?request_id= also finds; null when the answer had none.")] string? ResponseId,
    int Attempt,
    [property: Description("The SHA-256 hex of the key that called (LiteLLM's field name); never the raw key.")] string ApiKey,
    string? TeamId,
    string? User,
    [property: Description("The public model name the caller sent.")] string Model,
    string? ModelId,
    string? Deployment,
    string CallType,
    [property: Description("The provider of the deployment that answered (openai, anthropic, bedrock, ...); null on rows written before it was recorded.")] string? CustomLlmProvider,
    int Status,
    int PromptTokens,
    int CompletionTokens,
    int TotalTokens,
    [property: Description("Of the prompt tokens, those read from the provider's prompt cache (priced as cache reads).")] int CacheReadInputTokens,
    [property: Description("Of the prompt tokens, those written to the provider's prompt cache (priced as cache writes).")] int CacheCreationInputTokens,
    [property: Description("True when the provider reported no usage and the tokens were counted by the gateway.")] bool TokensEstimated,
    [property: Description("USD.")] double Spend,
    double LatencyMs,
    [property: JsonPropertyName("startTime")] DateTime StartTime,
    [property: Description("LiteLLM's metadata fields about the caller.")] SpendLogMetadata Metadata);

/// <summary>The part of LiteLLM's spend-log <c>metadata</c> the gateway knows.</summary>
public sealed record SpendLogMetadata(
    [property: Description("The SHA-256 hex of the key.")] string UserApiKey,
    string? UserApiKeyTeamId,
    string? UserApiKeyUserId);
