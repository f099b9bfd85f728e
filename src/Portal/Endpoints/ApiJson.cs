using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Proxy.Core.Audit;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Teams;
using Proxy.Core.Users;

namespace Portal.Endpoints;

/// <summary>
/// The JSON shapes of the LiteLLM API. Property names are written in snake_case (<see cref="ApiJson.Naming"/>), as
/// LiteLLM spells them; the API document at /openapi/v1.json is generated from these same types, so what it says is
/// what the routes answer. No hash or secret ever appears here, except the raw key of <see cref="IssuedKeyJson"/>.
/// </summary>
public static class ApiJson
{
    public static readonly JsonNamingPolicy Naming = JsonNamingPolicy.SnakeCaseLower;

    public static TeamJson Team(TeamView view) => new()
    {
        TeamId = view.Team.TeamId,
        TeamAlias = view.Team.TeamAlias,
        Models = view.Team.Models,
        MembersWithRoles = [.. view.Team.Members.OrderBy(m => m.User?.Email ?? m.UserId).Select(m => new MemberJson(m.UserId, m.User?.Email, m.Role))],
        MaxBudget = view.Team.MaxBudget,
        Spend = view.Team.Spend,
        BudgetDuration = view.Team.BudgetDuration,
        BudgetResetAt = view.Team.BudgetResetAt,
        SoftBudget = view.Team.SoftBudget,
        AlertWebhookUrl = view.AlertWebhook,
        TpmLimit = view.Team.TpmLimit,
        RpmLimit = view.Team.RpmLimit,
        Blocked = view.Team.Blocked,
        Metadata = ParseObject(view.Team.Metadata),
        RouterSettings = Proxy.Core.Routing.RouterSettings.FromStored(view.Team.RouterSettings).ToJson(),
        TeamMemberPermissions = Proxy.Core.Teams.TeamMemberPermissions.Of(view.Team),
        CreatedAt = view.Team.CreatedAt,
        UpdatedAt = view.Team.UpdatedAt,
        LitellmModelTable = new ModelTableJson(ModelTable(view), view.Team.CreatedBy, view.Team.UpdatedBy),
    };

    /// <summary>
    /// <c>litellm_model_table.model_aliases</c>: the team models' public → internal names, and the team's own
    /// <c>model_aliases</c> (a write refuses an alias named like a team model, so the two never collide).
    /// </summary>
    private static Dictionary<string, string> ModelTable(TeamView view)
    {
        var table = new Dictionary<string, string>(view.ModelAliases, StringComparer.Ordinal);
        foreach (var (name, target) in view.Team.ModelAliases)
        {
            table.TryAdd(name, target);
        }
        return table;
    }

    /// <summary>generate and regenerate: the only answers that carry the raw key.</summary>
    public static IssuedKeyJson IssuedKey(IssuedKey issued) => new(Key(issued.Key)) { Key = issued.RawKey, Token = issued.Key.Token, TokenId = issued.Key.Token };

    public static KeyJson Key(VirtualKey k) => new()
    {
        KeyName = k.KeyName,
        KeyAlias = k.KeyAlias,
        TeamId = k.TeamId,
        UserId = k.UserId,
        Models = k.Models,
        KeyType = k.KeyType,
        Expires = k.ExpiresAt,
        Blocked = k.Blocked,
        MaxBudget = k.MaxBudget,
        Spend = k.Spend,
        BudgetDuration = k.BudgetDuration,
        BudgetResetAt = k.BudgetResetAt,
        SoftBudget = k.SoftBudget,
        TpmLimit = k.TpmLimit,
        RpmLimit = k.RpmLimit,
        MaxParallelRequests = k.MaxParallelRequests,
        Metadata = ParseObject(k.Metadata),
        Aliases = k.Aliases,
        ModelMaxBudget = k.ModelBudgets.ToDictionary(b => b.Model, b => new ModelBudgetJson(b.BudgetLimit, b.TimePeriod), StringComparer.Ordinal),
        ModelSpend = k.ModelBudgets.ToDictionary(b => b.Model, b => b.Spend, StringComparer.Ordinal),
        CreatedAt = k.CreatedAt,
        UpdatedAt = k.UpdatedAt,
        CreatedBy = k.CreatedBy,
        UpdatedBy = k.UpdatedBy,
    };

    public static UserJson User(PortalUser u) => new()
    {
        UserId = u.Id,
        UserEmail = u.Email,
        UserRole = UserRole.Of(u),
        Models = u.Models,
        TpmLimit = u.TpmLimit,
        RpmLimit = u.RpmLimit,
        MaxBudget = u.MaxBudget,
        Spend = u.Spend,
        BudgetDuration = u.BudgetDuration,
        BudgetResetAt = u.BudgetResetAt,
        Disabled = u.Disabled,
        CreatedAt = u.CreatedAt,
    };

    /// <summary>A member's standing in a team as LiteLLM's <c>team_memberships</c> shows it; no budget: <c>litellm_budget_table</c> null.</summary>
    public static TeamMembershipJson Membership(Proxy.Core.Teams.TeamMembership m) =>
        new(m.UserId, m.TeamId, m.Role, m.Spend, m.MaxBudgetInTeam is { } max ? new BudgetTableJson(max) : null);

    /// <summary>The answer of /model/new and /model/update: the deployment, and <c>warnings</c> when its calls will not be priced.</summary>
    public static ModelJson Model(ModelDeployment d, Proxy.Core.Spend.PriceTable prices) =>
        new(d.ModelId, d.ModelName, LitellmParams(d), ModelInfo(d), d.CreatedAt, d.CreatedBy, d.UpdatedAt, d.UpdatedBy)
        {
            Warnings = prices.For(d) is null ? [Proxy.Core.Spend.PriceTable.NoPriceNotice] : null,
        };

    public static ModelInfoEntryJson ModelInfoEntry(ModelDeployment d) => new(d.ModelName, LitellmParams(d), ModelInfo(d));

    private static LitellmParamsJson LitellmParams(ModelDeployment d) =>
        new(d.UpstreamModel, d.Provider, d.ApiBase, d.ApiVersion, ModelService.MaskedKey(d), d.TimeoutSeconds) { Extra = WithCloud(d, Extra(d.ExtraParams)) };

    /// <summary>A cloud deployment's params beside the others: its secrets masked, its region or project as stored.</summary>
    private static Dictionary<string, JsonElement>? WithCloud(ModelDeployment d, Dictionary<string, JsonElement>? extra)
    {
        if (d.CloudSecretsHint is null && d.AwsRegionName is null && d.VertexProject is null && d.VertexLocation is null)
        {
            return extra;
        }
        extra ??= [];
        foreach (var (name, masked) in CloudParams.Masked(d))
        {
            extra[name] = JsonSerializer.SerializeToElement(masked);
        }
        foreach (var name in CloudParams.All)
        {
            if (CloudParams.Stored(d, name) is { } value)
            {
                extra[name] = JsonSerializer.SerializeToElement(value);
            }
        }
        return extra;
    }

    private static ModelInfoJson ModelInfo(ModelDeployment d) =>
        new(d.ModelId, d.TeamId, d.PublicName, true, d.CreatedAt, d.UpdatedAt, d.CreatedBy, d.UpdatedBy) { Extra = Extra(d.ExtraInfo) };

    public static AuditJson Audit(AuditEvent e) => new(e.Id, e.At, e.Actor, e.Action, e.TeamId, e.TargetId, e.Details is null ? null : JsonNode.Parse(e.Details));

    private static JsonObject ParseObject(string? json) => json is null ? [] : JsonNode.Parse(json) as JsonObject ?? [];

    private static Dictionary<string, JsonElement>? Extra(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json);
}

/// <summary>A member in a team: LiteLLM's <c>LiteLLM_TeamMembership</c>.</summary>
public sealed record TeamMembershipJson(
    string UserId, string TeamId, [property: Description("admin or user")] string Role,
    [property: Description("USD the member has spent with the team's keys.")] double Spend,
    [property: Description("The member's budget in the team; null: none.")] BudgetTableJson? LitellmBudgetTable);

/// <summary>LiteLLM's budget row, as far as the gateway has one: <c>max_budget</c> is <c>max_budget_in_team</c>.</summary>
public sealed record BudgetTableJson([property: Description("USD: max_budget_in_team.")] double MaxBudget);

public sealed record MemberJson(string UserId, string? UserEmail, [property: Description("admin or user")] string Role);

public sealed record ModelTableJson(
    [property: Description("The team models' public name → internal name (model_name_{team_id}_{uuid}), and the team's model_aliases (name sent → model it stands for).")] IReadOnlyDictionary<string, string> ModelAliases,
    string CreatedBy,
    string UpdatedBy);

/// <summary>A team, as LiteLLM's team object.</summary>
public sealed record TeamJson
{
    public string TeamId { get; init; } = "";
    public string? TeamAlias { get; init; }
    [Description("Public model names the team may call; empty = every global model.")]
    public IReadOnlyList<string> Models { get; init; } = [];
    public IReadOnlyList<MemberJson> MembersWithRoles { get; init; } = [];
    [Description("USD; null = no budget.")]
    public double? MaxBudget { get; init; }
    [Description("USD spent in the current budget period.")]
    public double Spend { get; init; }
    [Description("e.g. 1mo (the first of each month, UTC), 7d (Mondays), 1d (midnight) or 12h (rolling); the spend resets to 0 at budget_reset_at.")]
    public string? BudgetDuration { get; init; }
    public DateTime? BudgetResetAt { get; init; }
    [Description("USD: an alert when spend reaches it, never a refusal; null = none.")]
    public double? SoftBudget { get; init; }
    [Description("The team's own webhook for budget alerts, masked (scheme and host); null = none.")]
    public string? AlertWebhookUrl { get; init; }
    public long? TpmLimit { get; init; }
    public long? RpmLimit { get; init; }
    public bool Blocked { get; init; }
    public JsonObject Metadata { get; init; } = [];
    [Description("routing_strategy, num_retries, allowed_fails, cooldown_time, fallbacks and context_window_fallbacks.")]
    public JsonObject RouterSettings { get; init; } = [];
    [Description("The key routes plain members may use on their own keys of the team (LiteLLM's default when never set: /key/info).")]
    public IReadOnlyList<string> TeamMemberPermissions { get; init; } = [];
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public ModelTableJson LitellmModelTable { get; init; } = new(new Dictionary<string, string>(), "", "");
}

/// <summary>A virtual key: its masked name and settings, never its hash or the raw key.</summary>
public record KeyJson
{
    [Description("The masked key, sk-...abcd.")]
    public string KeyName { get; init; } = "";
    public string? KeyAlias { get; init; }
    public string? TeamId { get; init; }
    public string? UserId { get; init; }
    [Description("Public model names this key may call; empty = whatever its team allows.")]
    public IReadOnlyList<string> Models { get; init; } = [];
    [Description("default, llm_api or management.")]
    public string KeyType { get; init; } = "";
    public DateTime? Expires { get; init; }
    public bool Blocked { get; init; }
    public double? MaxBudget { get; init; }
    public double Spend { get; init; }
    public string? BudgetDuration { get; init; }
    public DateTime? BudgetResetAt { get; init; }
    [Description("USD: an alert when spend reaches it, never a refusal; null = none.")]
    public double? SoftBudget { get; init; }
    public long? TpmLimit { get; init; }
    public long? RpmLimit { get; init; }
    public int? MaxParallelRequests { get; init; }
    public JsonObject Metadata { get; init; } = [];
    [Description("Name the caller sends → the model it stands for, applied after the team's model_aliases.")]
    public IReadOnlyDictionary<string, string> Aliases { get; init; } = new Dictionary<string, string>();
    [Description("LiteLLM's model_max_budget, as set: public model name → its budget_limit (USD) and time_period.")]
    public IReadOnlyDictionary<string, ModelBudgetJson> ModelMaxBudget { get; init; } = new Dictionary<string, ModelBudgetJson>();
    [Description("USD spent on each model of model_max_budget in its current time_period.")]
    public IReadOnlyDictionary<string, double> ModelSpend { get; init; } = new Dictionary<string, double>();
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public string CreatedBy { get; init; } = "";
    public string UpdatedBy { get; init; } = "";
}

/// <summary>One model's budget on a key, as LiteLLM's <c>model_max_budget</c> spells it.</summary>
public sealed record ModelBudgetJson(
    [property: Description("USD per time_period.")] double BudgetLimit,
    [property: Description("1d, 7d, 1mo (calendar) or a rolling duration such as 12h; null: never resets.")] string? TimePeriod);

/// <summary>The answer of /key/generate and /key/regenerate: the raw key, shown this once.</summary>
public sealed record IssuedKeyJson : KeyJson
{
    public IssuedKeyJson()
    {
    }

    public IssuedKeyJson(KeyJson key) : base(key)
    {
    }

    [Description("The raw key. It is never shown again.")]
    public string Key { get; init; } = "";
    [Description("SHA-256 hex of the key: what /key/info, /key/update and /key/delete also accept.")]
    public string Token { get; init; } = "";
    [Description("The same hash as token, under LiteLLM's other name for it: the key's id.")]
    public string TokenId { get; init; } = "";
}

public record UserJson
{
    public string UserId { get; init; } = "";
    public string? UserEmail { get; init; }
    [Description("proxy_admin or internal_user.")]
    public string UserRole { get; init; } = "";
    [Description("Global models the user's keys with an empty models list may call; empty: no restriction.")]
    public IReadOnlyList<string> Models { get; init; } = [];
    [Description("Tokens per minute across all of the user's keys.")]
    public long? TpmLimit { get; init; }
    [Description("Requests per minute across all of the user's keys.")]
    public long? RpmLimit { get; init; }
    public double? MaxBudget { get; init; }
    public double Spend { get; init; }
    public string? BudgetDuration { get; init; }
    public DateTime? BudgetResetAt { get; init; }
    public bool Disabled { get; init; }
    public DateTime CreatedAt { get; init; }
}

/// <summary>
/// <c>litellm_params</c>: what the gateway acts on, then anything else the request gave, returned as given.
/// The provider key is masked (<c>****cb07</c>).
/// </summary>
public sealed record LitellmParamsJson(
    [property: Description("The provider's model, e.g. openai/gpt-4o, azure/my-deployment, anthropic/claude-sonnet-4-5.")] string Model,
    string CustomLlmProvider,
    string? ApiBase,
    string? ApiVersion,
    [property: Description("Masked: ****abcd.")] string? ApiKey,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull), Description("Seconds; absent when not set.")] double? Timeout = null)
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}

public sealed record ModelInfoJson(
    string Id,
    string? TeamId,
    string? TeamPublicModelName,
    bool DbModel,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    string CreatedBy,
    string UpdatedBy)
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; init; }
}

public sealed record ModelJson(
    string ModelId,
    [property: Description("The internal name for team models (model_name_{team_id}_{uuid}), the public name for global ones.")] string ModelName,
    LitellmParamsJson LitellmParams,
    ModelInfoJson ModelInfo,
    DateTime CreatedAt,
    string CreatedBy,
    DateTime UpdatedAt,
    string UpdatedBy)
{
    /// <summary>Not LiteLLM's: absent when all is well; <c>["no price: spend not tracked. ..."]</c> when no price is known for the model.</summary>
    [Description("Absent unless something needs the caller's attention, e.g. \"no price: spend not tracked. ...\" when neither the deployment nor the price table prices the model.")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }
}

public sealed record ModelInfoEntryJson(string ModelName, LitellmParamsJson LitellmParams, ModelInfoJson ModelInfo);

public sealed record AuditJson(long Id, DateTime At, string Actor, string Action, string? TeamId, string? TargetId, JsonNode? Details);
