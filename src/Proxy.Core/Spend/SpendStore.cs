using System.Data.Common;
using System.Globalization;

namespace Proxy.Core.Spend;

/// <summary>
/// The SQL of spend control, on a connection the caller opened: increments of spend, budget resets, and the shared
/// rate windows. Plain statements re-bound per row (no EF change tracking): the writer runs them beside the hot path.
/// The same SQL runs on SQLite and PostgreSQL.
/// </summary>
internal static class SpendStore
{
    /// <summary>The table and key column where a kind of account keeps <c>Spend</c> and <c>BudgetResetAt</c>.</summary>
    private static (string Table, string Key) Where(AccountKind kind) => kind switch
    {
        AccountKind.Team => ("teams", "TeamId"),
        AccountKind.Key => ("keys", "Token"),
        AccountKind.User => ("AspNetUsers", "Id"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Deployments have no stored spend; members and model budgets have rows of two columns."),
    };

    /// <summary>
    /// The row of an account: <c>"Key" = @id</c>, or for a member (a team membership, whose spend is the member's in
    /// that team) <c>"TeamId" = @team AND "UserId" = @id</c>. Its parameters come last in a command, in that order.
    /// </summary>
    private static (string Table, string Match, string[] Parameters) Row(AccountKind kind)
    {
        if (kind == AccountKind.Member)
        {
            return ("team_memberships", "\"TeamId\" = @team AND \"UserId\" = @id", ["@team", "@id"]);
        }
        if (kind == AccountKind.KeyModel)
        {
            return ("key_model_budgets", "\"Token\" = @id AND \"Model\" = @model", ["@id", "@model"]);
        }
        var (table, key) = Where(kind);
        return (table, $"\"{key}\" = @id", ["@id"]);
    }

    /// <summary>Sets the row parameters of <see cref="Row"/>, which start at <paramref name="first"/>.</summary>
    private static void BindRow(DbCommand command, int first, AccountKind kind, string id)
    {
        if (kind == AccountKind.Member)
        {
            var (teamId, userId) = MemberAccount.Split(id);
            command.Parameters[first].Value = teamId;
            command.Parameters[first + 1].Value = userId;
        }
        else if (kind == AccountKind.KeyModel)
        {
            var (keyHash, model) = KeyModelAccount.Split(id);
            command.Parameters[first].Value = keyHash;
            command.Parameters[first + 1].Value = model;
        }
        else
        {
            command.Parameters[first].Value = id;
        }
    }

    /// <summary>The kinds whose budgets have periods (members' budgets in a team never reset).</summary>
    public static readonly AccountKind[] Budgeted = [AccountKind.Team, AccountKind.Key, AccountKind.User, AccountKind.KeyModel];

    /// <summary>
    /// Adds each increment to its account's spend; returns the new spend of each (null where the row is gone). For keys
    /// and teams, <paramref name="limits"/> (when given) gets their alert thresholds from the same statement.
    /// </summary>
    public static async Task<double?[]> AddAsync(DbConnection connection, DbTransaction tx, IReadOnlyList<SpendIncrement> increments,
        Alerts.AlertLimits?[]? limits = null)
    {
        var stored = new double?[increments.Count];
        var commands = new Dictionary<AccountKind, DbCommand>();
        try
        {
            for (var i = 0; i < increments.Count; i++)
            {
                var (kind, id, amount) = increments[i];
                if (!commands.TryGetValue(kind, out var command))
                {
                    var (table, match, parameters) = Row(kind);
                    var returning = HasAlerts(kind) ? "\"Spend\", \"MaxBudget\", \"SoftBudget\", \"AlertsSent\"" : "\"Spend\"";
                    command = Command(connection, tx, $"UPDATE \"{table}\" SET \"Spend\" = \"Spend\" + @amount WHERE {match} RETURNING {returning}", ["@amount", .. parameters]);
                    commands[kind] = command;
                }
                command.Parameters[0].Value = amount;
                BindRow(command, 1, kind, id);
                if (!HasAlerts(kind))
                {
                    stored[i] = await command.ExecuteScalarAsync() is { } value and not DBNull ? Convert.ToDouble(value, CultureInfo.InvariantCulture) : null;
                    continue;
                }
                await using var reader = await command.ExecuteReaderAsync();
                if (await reader.ReadAsync())
                {
                    stored[i] = Convert.ToDouble(reader.GetValue(0), CultureInfo.InvariantCulture);
                    if (limits is not null)
                    {
                        limits[i] = new Alerts.AlertLimits(NullableDouble(reader, 1), NullableDouble(reader, 2),
                            (Alerts.BudgetThreshold)Convert.ToInt32(reader.GetValue(3), CultureInfo.InvariantCulture));
                    }
                }
            }
        }
        finally
        {
            foreach (var command in commands.Values)
            {
                await command.DisposeAsync();
            }
        }
        return stored;
    }

    /// <summary>Keys and teams have a <c>soft_budget</c> and remember the alerts sent in the current period.</summary>
    private static bool HasAlerts(AccountKind kind) => kind is AccountKind.Key or AccountKind.Team;

    private static double? NullableDouble(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToDouble(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    /// <summary>Accounts of <paramref name="kind"/> whose period ended at or before <paramref name="now"/>, with their <c>budget_duration</c>.</summary>
    public static async Task<List<(string Id, string? Duration)>> DueAsync(DbConnection connection, AccountKind kind, DateTime now)
    {
        // A model budget's row is its key and model, and its period is time_period.
        var (table, columns) = kind == AccountKind.KeyModel
            ? ("key_model_budgets", "\"Token\", \"Model\", \"TimePeriod\"")
            : (Where(kind).Table, $"\"{Where(kind).Key}\", \"BudgetDuration\"");
        await using var command = Command(connection, null, $"SELECT {columns} FROM \"{table}\" WHERE \"BudgetResetAt\" <= @now", "@now");
        command.Parameters[0].Value = now;
        var due = new List<(string, string?)>();
        await using var reader = await command.ExecuteReaderAsync();
        var last = reader.FieldCount - 1;
        while (await reader.ReadAsync())
        {
            var id = kind == AccountKind.KeyModel ? KeyModelAccount.Id(reader.GetString(0), reader.GetString(1)) : reader.GetString(0);
            due.Add((id, reader.IsDBNull(last) ? null : reader.GetString(last)));
        }
        return due;
    }

    /// <summary>Starts a new period, unless another instance already has: true when this call reset it. Its alerts are armed again.</summary>
    public static async Task<bool> ResetAsync(DbConnection connection, AccountKind kind, string id, DateTime now, DateTime? next)
    {
        var (table, match, parameters) = Row(kind);
        var alerts = HasAlerts(kind) ? ", \"AlertsSent\" = 0" : "";
        await using var command = Command(connection, null,
            $"UPDATE \"{table}\" SET \"Spend\" = 0, \"BudgetResetAt\" = @next{alerts} WHERE {match} AND \"BudgetResetAt\" <= @now", ["@next", "@now", .. parameters]);
        command.Parameters[0].Value = next is { } n ? n : DBNull.Value;
        command.Parameters[1].Value = now;
        BindRow(command, 2, kind, id);
        return await command.ExecuteNonQueryAsync() == 1;
    }

    /// <summary>An account's stored spend and next reset, or null when the row is gone.</summary>
    public static async Task<(double Spend, DateTime? ResetAt)?> ReadAsync(DbConnection connection, AccountKind kind, string id)
    {
        var (table, match, parameters) = Row(kind);
        var resetAt = kind == AccountKind.Member ? "NULL" : "\"BudgetResetAt\"";
        await using var command = Command(connection, null, $"SELECT \"Spend\", {resetAt} FROM \"{table}\" WHERE {match}", parameters);
        BindRow(command, 0, kind, id);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }
        return (Convert.ToDouble(reader.GetValue(0), CultureInfo.InvariantCulture),
            reader.IsDBNull(1) ? null : DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc));
    }

    /// <summary>This instance's counts of one account for the current window (one row per account and instance).</summary>
    public static async Task PublishAsync(DbConnection connection, DbTransaction tx, string instance, long window, DateTime now,
        IEnumerable<(AccountKind Kind, string Id, long Requests, long Tokens, int InFlight)> counts)
    {
        await using var command = Command(connection, tx,
            "INSERT INTO rate_windows (\"Kind\", \"AccountId\", \"Instance\", \"Window\", \"Requests\", \"Tokens\", \"InFlight\", \"UpdatedAt\") " +
            "VALUES (@kind, @id, @instance, @window, @requests, @tokens, @inFlight, @now) " +
            "ON CONFLICT (\"Kind\", \"AccountId\", \"Instance\") DO UPDATE SET \"Window\" = excluded.\"Window\", \"Requests\" = excluded.\"Requests\", " +
            "\"Tokens\" = excluded.\"Tokens\", \"InFlight\" = excluded.\"InFlight\", \"UpdatedAt\" = excluded.\"UpdatedAt\"",
            "@kind", "@id", "@instance", "@window", "@requests", "@tokens", "@inFlight", "@now");
        command.Parameters[2].Value = instance;
        command.Parameters[3].Value = window;
        command.Parameters[7].Value = now;
        foreach (var (kind, id, requests, tokens, inFlight) in counts)
        {
            command.Parameters[0].Value = kind.ToString();
            command.Parameters[1].Value = id;
            command.Parameters[4].Value = (int)Math.Min(requests, int.MaxValue);
            command.Parameters[5].Value = tokens;
            command.Parameters[6].Value = inFlight;
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// What the other instances have counted in <paramref name="window"/>, per account. Calls in flight count only from
    /// instances that wrote since <paramref name="freshSince"/>: a stopped instance's calls are not in flight any more.
    /// </summary>
    public static async Task<List<(AccountKind Kind, string Id, long Requests, long Tokens, int InFlight)>> OthersAsync(
        DbConnection connection, string instance, long window, DateTime freshSince)
    {
        await using var command = Command(connection, null,
            "SELECT \"Kind\", \"AccountId\", SUM(\"Requests\"), SUM(\"Tokens\"), SUM(CASE WHEN \"UpdatedAt\" >= @fresh THEN \"InFlight\" ELSE 0 END) " +
            "FROM rate_windows WHERE \"Window\" = @window AND \"Instance\" <> @instance GROUP BY \"Kind\", \"AccountId\"",
            "@fresh", "@window", "@instance");
        command.Parameters[0].Value = freshSince;
        command.Parameters[1].Value = window;
        command.Parameters[2].Value = instance;
        var rows = new List<(AccountKind, string, long, long, int)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            if (Enum.TryParse<AccountKind>(reader.GetString(0), out var kind))
            {
                rows.Add((kind, reader.GetString(1), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture),
                    Convert.ToInt64(reader.GetValue(3), CultureInfo.InvariantCulture), Convert.ToInt32(reader.GetValue(4), CultureInfo.InvariantCulture)));
            }
        }
        return rows;
    }

    /// <summary>Rows of windows that have ended, and of instances gone for good.</summary>
    public static async Task PruneAsync(DbConnection connection, long window)
    {
        await using var command = Command(connection, null, "DELETE FROM rate_windows WHERE \"Window\" < @window", "@window");
        command.Parameters[0].Value = window - 1;
        await command.ExecuteNonQueryAsync();
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
        }
        return command;
    }
}

/// <summary>What a batch of calls added to one key's, team's, user's, team member's or key's model budget's spend.</summary>
/// <remarks>
/// Teams before keys before model budgets before members before users: the order team deletion locks them in (members
/// and keys go with their team, model budgets with their key), so PostgreSQL sees no deadlock.
/// </remarks>
internal readonly record struct SpendIncrement(AccountKind Kind, string Id, double Amount)
{
    /// <summary>Summed per account, without an object per record: at scale a batch holds thousands of them.</summary>
    /// <param name="ledger">Which keys have a budget for the record's model: only those are stored per model.</param>
    public static List<SpendIncrement> Of(List<Usage.UsageRecord> batch, SpendLedger? ledger = null)
    {
        var sums = new Dictionary<(AccountKind, string), double>();
        // A batch holds many calls of few keys and models: each pair's model budget is looked up (its id built) once.
        Dictionary<(string, string), SpendAccount?>? modelBudgets = ledger is { HasKeyModelBudgets: true } ? new() : null;
        foreach (var record in batch)
        {
            if (record.Spend > 0)
            {
                Add(sums, AccountKind.Team, record.TeamId, record.Spend);
                Add(sums, AccountKind.Key, record.KeyHash, record.Spend);
                Add(sums, AccountKind.User, record.UserId, record.Spend);
                if (record.TeamId is not null && record.UserId is not null)
                {
                    // The member's spend in the team; a key whose user is not a member of its team matches no row.
                    Add(sums, AccountKind.Member, MemberAccount.Id(record.TeamId, record.UserId), record.Spend);
                }
                if (modelBudgets is not null && ModelBudget(modelBudgets, ledger!, record) is { } modelBudget)
                {
                    // The attempt's model: the budget its reservation was held on (a fallback's own model budget).
                    Add(sums, AccountKind.KeyModel, modelBudget.Id, record.Spend);
                }
            }
        }
        var increments = new List<SpendIncrement>(sums.Count);
        foreach (var ((kind, id), amount) in sums)
        {
            increments.Add(new SpendIncrement(kind, id, amount));
        }
        increments.Sort(static (a, b) => LockOrder(a.Kind).CompareTo(LockOrder(b.Kind)) is var byKind and not 0 ? byKind : string.CompareOrdinal(a.Id, b.Id));
        return increments;
    }

    private static SpendAccount? ModelBudget(Dictionary<(string, string), SpendAccount?> seen, SpendLedger ledger, Usage.UsageRecord record)
    {
        ref var budget = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(seen, (record.KeyHash, record.Model), out var found);
        if (!found)
        {
            budget = ledger.Find(AccountKind.KeyModel, KeyModelAccount.Id(record.KeyHash, record.Model));
        }
        return budget;
    }

    private static void Add(Dictionary<(AccountKind, string), double> sums, AccountKind kind, string? id, double amount)
    {
        if (id is not null)
        {
            System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sums, (kind, id), out _) += amount;
        }
    }

    private static int LockOrder(AccountKind kind) => kind switch
    {
        AccountKind.Team => 0, AccountKind.Key => 1, AccountKind.KeyModel => 2, AccountKind.Member => 3, _ => 4,
    };
}
