namespace Proxy.Core.Audit;

/// <summary>One management change: who, what, when, which team. Never a secret.</summary>
public sealed class AuditEvent
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public string Actor { get; set; } = "";
    public string Action { get; set; } = "";
    public string? TeamId { get; set; }
    public string? TargetId { get; set; }

    /// <summary>JSON object describing the change, secrets removed.</summary>
    public string? Details { get; set; }
}
