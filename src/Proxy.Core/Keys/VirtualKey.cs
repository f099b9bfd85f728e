namespace Proxy.Core.Keys;

/// <summary>A key the gateway issued. Only its SHA-256 (<see cref="Token"/>) is stored.</summary>
public sealed class VirtualKey : Alerts.IAlerted
{
    public string Token { get; set; } = "";
    public string KeyName { get; set; } = "";
    public string? KeyAlias { get; set; }
    public string? TeamId { get; set; }
    public string? UserId { get; set; }

    /// <summary>Public model names this key may call; empty means whatever its team allows.</summary>
    public List<string> Models { get; set; } = [];

    public string KeyType { get; set; } = Keys.KeyType.Default;
    public DateTime? ExpiresAt { get; set; }
    public bool Blocked { get; set; }
    public double? MaxBudget { get; set; }
    public double Spend { get; set; }
    public string? BudgetDuration { get; set; }
    public DateTime? BudgetResetAt { get; set; }

    /// <summary>LiteLLM's <c>soft_budget</c> (USD): crossing it sends an alert, never refuses a call.</summary>
    public double? SoftBudget { get; set; }

    /// <summary>The <see cref="Alerts.BudgetThreshold"/>s already alerted in the current budget period.</summary>
    public Alerts.BudgetThreshold AlertsSent { get; set; }
    public long? TpmLimit { get; set; }
    public long? RpmLimit { get; set; }

    /// <summary>Calls with this key in flight at once, at most.</summary>
    public int? MaxParallelRequests { get; set; }
    public string? Metadata { get; set; }

    /// <summary>LiteLLM's key <c>aliases</c>: a name the key's caller sends → the model name it stands for, applied after the team's.</summary>
    public Dictionary<string, string> Aliases { get; set; } = [];

    /// <summary>LiteLLM's <c>model_max_budget</c>: a budget per public model, each with its own spend and period.</summary>
    public List<KeyModelBudget> ModelBudgets { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public string UpdatedBy { get; set; } = "";
}

public static class KeyType
{
    /// <summary>LLM routes and management of its own scope.</summary>
    public const string Default = "default";
    /// <summary>LLM routes only.</summary>
    public const string LlmApi = "llm_api";
    /// <summary>Management routes only.</summary>
    public const string Management = "management";

    public static bool IsValid(string type) => type is Default or LlmApi or Management;
}
