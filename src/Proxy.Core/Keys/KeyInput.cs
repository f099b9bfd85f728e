namespace Proxy.Core.Keys;

/// <summary>Fields of a key to generate or change; null means "not given" (unchanged on update).</summary>
public sealed record KeyInput
{
    public string? TeamId { get; init; }
    public string? UserId { get; init; }
    public string? KeyAlias { get; init; }
    public List<string>? Models { get; init; }
    public string? KeyType { get; init; }

    /// <summary><c>30s</c>, <c>30m</c>, <c>30h</c>, <c>30d</c>; null never expires.</summary>
    public string? Duration { get; init; }

    /// <summary>Limits: absent keeps the stored one, null removes it.</summary>
    public Optional<double?> MaxBudget { get; init; }
    public Optional<string?> BudgetDuration { get; init; }

    /// <summary>LiteLLM's <c>soft_budget</c> (USD): an alert threshold that never refuses a call.</summary>
    public Optional<double?> SoftBudget { get; init; }
    public Optional<long?> TpmLimit { get; init; }
    public Optional<long?> RpmLimit { get; init; }
    public Optional<int?> MaxParallelRequests { get; init; }
    public string? Metadata { get; init; }

    /// <summary>LiteLLM's <c>tags</c>: kept in <c>metadata.tags</c>, as LiteLLM does.</summary>
    public List<string>? Tags { get; init; }
    public bool? Blocked { get; init; }

    /// <summary>LiteLLM's key <c>aliases</c>: replaces the key's whole map (an empty one removes them all); null keeps it.</summary>
    public IReadOnlyDictionary<string, string>? Aliases { get; init; }

    /// <summary>LiteLLM's <c>model_max_budget</c>: replaces the key's whole set; null removes it; absent keeps it.</summary>
    public Optional<IReadOnlyDictionary<string, ModelBudgetInput>?> ModelMaxBudget { get; init; }
}

/// <summary>One entry of <c>model_max_budget</c> as sent: <c>{"budget_limit": 10.0, "time_period": "1d"}</c>.</summary>
public sealed record ModelBudgetInput(double? BudgetLimit, string? TimePeriod);

/// <summary>A key just created or regenerated: the raw key exists only here, once.</summary>
public sealed record IssuedKey(string RawKey, VirtualKey Key);
