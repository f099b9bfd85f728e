using System.ComponentModel;

namespace Portal.Endpoints;

/// <summary>A page of <c>GET /spend/logs/v2</c>, in LiteLLM's shape.</summary>
public sealed record SpendLogsPageJson(
    List<SpendLogJson> Data,
    [property: Description("Always null: counting every matching row would cost as much as reading them (see docs/api.md).")] long? Total,
    int Page,
    int PageSize,
    [property: Description("This page, or this page + 1 when at least one more row follows: loop while page < total_pages.")] int TotalPages);
