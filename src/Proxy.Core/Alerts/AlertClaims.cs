using System.Data.Common;
using Proxy.Core.Spend;

namespace Proxy.Core.Alerts;

/// <summary>
/// Claims the thresholds a batch's spend crossed, in the batch's own transaction: the spend update has locked the row
/// (PostgreSQL) or the database (SQLite), so what it returned as sent is what another instance's batch sees after this
/// one commits. Each threshold is thus claimed once per period, by one instance, and only when the spend is stored.
/// </summary>
internal static class AlertClaims
{
    public static async Task<List<BudgetAlert>> ClaimAsync(DbConnection connection, DbTransaction tx,
        IReadOnlyList<SpendIncrement> increments, double?[] stored, AlertLimits?[] limits)
    {
        var alerts = new List<BudgetAlert>();
        for (var i = 0; i < increments.Count; i++)
        {
            if (limits[i] is not { } limit || stored[i] is not { } spend)
            {
                continue;
            }
            var due = BudgetThresholds.Reached(spend, limit.MaxBudget, limit.SoftBudget) & ~limit.Sent;
            if (due == BudgetThreshold.None)
            {
                continue;
            }
            var (kind, id, _) = increments[i];
            var (table, key) = kind == AccountKind.Team ? ("teams", "TeamId") : ("keys", "Token");
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = $"UPDATE \"{table}\" SET \"AlertsSent\" = \"AlertsSent\" | @due WHERE \"{key}\" = @id";
            Add(command, "@due", (int)due);
            Add(command, "@id", id);
            await command.ExecuteNonQueryAsync();
            foreach (var threshold in new[] { BudgetThreshold.SoftBudget, BudgetThreshold.EightyPercent, BudgetThreshold.MaxBudget })
            {
                if (due.HasFlag(threshold))
                {
                    alerts.Add(new BudgetAlert(kind, id, threshold, spend, limit.MaxBudget, limit.SoftBudget));
                }
            }
        }
        return alerts;
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
