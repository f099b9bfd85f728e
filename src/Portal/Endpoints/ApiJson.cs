using System.Text.Json.Nodes;
using Proxy.Core.Audit;
using Proxy.Core.Keys;
using Proxy.Core.Models;
using Proxy.Core.Teams;

namespace Portal.Endpoints;

/// <summary>The JSON shapes of the LiteLLM API (field names as LiteLLM spells them). No hash or secret ever appears here.</summary>
public static class ApiJson
{
    public static object Team(TeamView view) => new
    {
        team_id = view.Team.TeamId,
        team_alias = view.Team.TeamAlias,
        models = view.Team.Models,
        members_with_roles = view.Team.Members.OrderBy(m => m.User?.Email ?? m.UserId)
            .Select(m => new { user_id = m.UserId, user_email = m.User?.Email, role = m.Role }),
        max_budget = view.Team.MaxBudget,
        spend = view.Team.Spend,
        budget_duration = view.Team.BudgetDuration,
        budget_reset_at = view.Team.BudgetResetAt,
        tpm_limit = view.Team.TpmLimit,
        rpm_limit = view.Team.RpmLimit,
        blocked = view.Team.Blocked,
        metadata = Parse(view.Team.Metadata) ?? new JsonObject(),
        router_settings = Proxy.Core.Routing.RouterSettings.FromStored(view.Team.RouterSettings).ToJson(),
        created_at = view.Team.CreatedAt,
        updated_at = view.Team.UpdatedAt,
        litellm_model_table = new
        {
            model_aliases = view.ModelAliases,
            created_by = view.Team.CreatedBy,
            updated_by = view.Team.UpdatedBy,
        },
    };

    public static object Key(VirtualKey k) => new
    {
        key_name = k.KeyName,
        key_alias = k.KeyAlias,
        team_id = k.TeamId,
        user_id = k.UserId,
        models = k.Models,
        key_type = k.KeyType,
        expires = k.ExpiresAt,
        blocked = k.Blocked,
        max_budget = k.MaxBudget,
        spend = k.Spend,
        budget_duration = k.BudgetDuration,
        budget_reset_at = k.BudgetResetAt,
        tpm_limit = k.TpmLimit,
        rpm_limit = k.RpmLimit,
        max_parallel_requests = k.MaxParallelRequests,
        metadata = Parse(k.Metadata) ?? new JsonObject(),
        created_at = k.CreatedAt,
        updated_at = k.UpdatedAt,
        created_by = k.CreatedBy,
        updated_by = k.UpdatedBy,
    };

    public static JsonObject User(Proxy.Core.Users.PortalUser u) => JsonNodeOf(new
    {
        user_id = u.Id,
        user_email = u.Email,
        user_role = Proxy.Core.Users.UserRole.Of(u),
        max_budget = u.MaxBudget,
        spend = u.Spend,
        budget_duration = u.BudgetDuration,
        budget_reset_at = u.BudgetResetAt,
        disabled = u.Disabled,
        created_at = u.CreatedAt,
    });

    /// <summary>generate and regenerate: the only answers that carry the raw key.</summary>
    public static JsonObject IssuedKey(IssuedKey issued)
    {
        var json = JsonNodeOf(Key(issued.Key));
        json["key"] = issued.RawKey;
        json["token"] = issued.Key.Token;
        return json;
    }

    public static object LitellmParams(ModelDeployment d)
    {
        var json = Parse(d.ExtraParams) as JsonObject ?? new JsonObject();
        json["model"] = d.UpstreamModel;
        json["custom_llm_provider"] = d.Provider;
        json["api_base"] = d.ApiBase;
        json["api_version"] = d.ApiVersion;
        json["api_key"] = ModelService.MaskedKey(d);
        if (d.TimeoutSeconds is { } timeout)
        {
            json["timeout"] = timeout;
        }
        return json;
    }

    public static object ModelInfo(ModelDeployment d)
    {
        var json = Parse(d.ExtraInfo) as JsonObject ?? new JsonObject();
        json["id"] = d.ModelId;
        json["team_id"] = d.TeamId;
        json["team_public_model_name"] = d.PublicName;
        json["db_model"] = true;
        json["created_at"] = d.CreatedAt;
        json["updated_at"] = d.UpdatedAt;
        json["created_by"] = d.CreatedBy;
        json["updated_by"] = d.UpdatedBy;
        return json;
    }

    public static object Model(ModelDeployment d) => new
    {
        model_id = d.ModelId,
        model_name = d.ModelName,
        litellm_params = LitellmParams(d),
        model_info = ModelInfo(d),
        created_at = d.CreatedAt,
        created_by = d.CreatedBy,
        updated_at = d.UpdatedAt,
        updated_by = d.UpdatedBy,
    };

    public static object ModelInfoEntry(ModelDeployment d) => new
    {
        model_name = d.ModelName,
        litellm_params = LitellmParams(d),
        model_info = ModelInfo(d),
    };

    public static object Audit(AuditEvent e) => new
    {
        id = e.Id,
        at = e.At,
        actor = e.Actor,
        action = e.Action,
        team_id = e.TeamId,
        target_id = e.TargetId,
        details = Parse(e.Details),
    };

    private static JsonNode? Parse(string? json) => json is null ? null : JsonNode.Parse(json);

    private static JsonObject JsonNodeOf(object value) => System.Text.Json.JsonSerializer.SerializeToNode(value)!.AsObject();
}
