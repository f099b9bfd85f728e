using Microsoft.EntityFrameworkCore;
using Proxy.Core.Access;
using Proxy.Core.Persistence;

namespace Proxy.Core.Usage;

/// <summary>Reads recorded LLM calls for a team's admins and the proxy admin.</summary>
public sealed class UsageLog(PortalDb db)
{
    /// <summary>
    /// One page of the team's call log, newest first, as <see cref="CallLogVisibility"/> lets the caller read it. Keyset
    /// paging on the <c>(TeamId, StartedAt)</c> index: a page starts at a cursor and reads one row more than it shows,
    /// to learn whether more follow. Nothing counts the team's rows, so a page costs the same after a million calls as
    /// on the first day.
    /// </summary>
    public async Task<CallLogPage> PageAsync(Caller caller, string teamId, CallLogQuery query, CancellationToken ct = default)
    {
        var size = Math.Clamp(query.PageSize, 1, CallLogQuery.MaxPageSize);
        var rows = db.Usage.AsNoTracking().Where(CallLogVisibility.Of(caller, teamId));
        if (query.KeyHash is { } keyHash)
        {
            rows = rows.Where(u => u.KeyHash == keyHash);
        }
        rows = ByModelAndTime(rows, query.Model, query.From, query.To);
        rows = query.Outcome switch
        {
            CallOutcome.Ok => rows.Where(u => u.Status < 400),
            CallOutcome.Error => rows.Where(u => u.Status >= 400),
            _ => rows,
        };
        if (query.Status is { } status)
        {
            rows = rows.Where(u => u.Status == status);
        }

        if (query.After is { } after)
        {
            // Newer calls: read upwards from the cursor, then show them newest first like every page.
            var at = Utc(after.StartedAt);
            var newer = await rows.Where(u => u.StartedAt >= at && (u.StartedAt > at || u.Id > after.Id))
                .OrderBy(u => u.StartedAt).ThenBy(u => u.Id).Take(size + 1).ToListAsync(ct);
            if (newer.Count <= size)
            {
                // Reached the newest calls: the first page, full, rather than a short page at the top.
                return await PageAsync(caller, teamId, query with { After = null, Before = null }, ct);
            }
            newer.RemoveAt(size);
            newer.Reverse();
            return new CallLogPage(newer, HasOlder: true, HasNewer: true);
        }
        if (query.Before is { } before)
        {
            // "StartedAt <= cursor" is the index's range; the id settles the rows of the cursor's own instant.
            var at = Utc(before.StartedAt);
            rows = rows.Where(u => u.StartedAt <= at && (u.StartedAt < at || u.Id < before.Id));
        }
        var older = await rows.OrderByDescending(u => u.StartedAt).ThenByDescending(u => u.Id).Take(size + 1).ToListAsync(ct);
        var hasOlder = older.Count > size;
        if (hasOlder)
        {
            older.RemoveAt(size);
        }
        return new CallLogPage(older, hasOlder, HasNewer: query.Before is not null);
    }

    /// <summary>The rows of one public model (when given) started in [<paramref name="from"/>, <paramref name="until"/>) (each bound when given).</summary>
    private static IQueryable<UsageRecord> ByModelAndTime(IQueryable<UsageRecord> rows, string? model, DateTime? from, DateTime? until)
    {
        if (model is not null)
        {
            rows = rows.Where(u => u.Model == model);
        }
        if (from is { } start)
        {
            var since = Utc(start);
            rows = rows.Where(u => u.StartedAt >= since);
        }
        if (until is { } end)
        {
            var before = Utc(end);
            rows = rows.Where(u => u.StartedAt < before);
        }
        return rows;
    }

    /// <summary>PostgreSQL's timestamptz takes UTC values only; SQLite reads them back unspecified.</summary>
    private static DateTime Utc(DateTime value) => value.Kind == DateTimeKind.Utc ? value : DateTime.SpecifyKind(value, DateTimeKind.Utc);

    /// <summary>
    /// The rows every given filter matches (AND), within what the rule book lets the caller read: the team's rows for
    /// its admins, every row for the proxy admin. A filter never widens that: another team's request id is no row.
    /// Newest first: a team's rows by start time through the <c>(TeamId, StartedAt)</c> index (the id settling rows of
    /// one instant), all teams' rows (the proxy admin without <c>team_id</c>) by id through the primary key, which grows
    /// with the time a row was written. Nothing counts the matching rows, and a page after a cursor starts at the cursor
    /// in the index instead of reading and skipping the rows before it as OFFSET does.
    /// </summary>
    public async Task<IReadOnlyList<UsageRecord>> ListAsync(Caller caller, SpendLogFilter filter, SpendLogPaging paging, CancellationToken ct = default)
    {
        Rules.DemandTeamRecords(caller, filter.TeamId, "spend logs");
        var query = db.Usage.AsNoTracking().Where(TeamRecords.Of<UsageRecord>(caller, u => u.TeamId));
        if (filter.TeamId is { } teamId)
        {
            query = query.Where(u => u.TeamId == teamId);
        }
        if (filter.RequestId is { } requestId)
        {
            query = query.Where(u => u.CallId == requestId || u.ResponseId == requestId);
        }
        if (filter.ApiKey is { } apiKey)
        {
            var hash = Keys.KeyMaterial.ToHash(apiKey);
            query = query.Where(u => u.KeyHash == hash);
        }
        if (filter.UserId is { } userId)
        {
            query = query.Where(u => u.UserId == userId);
        }
        query = ByModelAndTime(query, filter.Model, filter.From, filter.Until);

        IOrderedQueryable<UsageRecord> ordered;
        if (filter.TeamId is null)
        {
            if (paging.After is { } after)
            {
                query = query.Where(u => u.Id < after);
            }
            ordered = query.OrderByDescending(u => u.Id);
        }
        else
        {
            if (paging.After is { } after)
            {
                // The cursor row's own start time, by primary key and within the same filters: the page goes on from
                // it in the team's index. A row the caller cannot see, or one retention deleted, is no cursor.
                var at = await query.Where(u => u.Id == after).Select(u => (DateTime?)u.StartedAt).FirstOrDefaultAsync(ct)
                    ?? throw ProxyError.BadRequest(
                        $"after={after} is no row of this log (it may have been deleted by retention): start again without after.", "after");
                at = Utc(at);
                query = query.Where(u => u.StartedAt <= at && (u.StartedAt < at || u.Id < after));
            }
            ordered = query.OrderByDescending(u => u.StartedAt).ThenByDescending(u => u.Id);
        }
        return await (paging.Skip == 0 ? ordered : ordered.Skip(paging.Skip)).Take(paging.Size).ToListAsync(ct);
    }
}

/// <summary>
/// <c>GET /spend/logs</c>' filters, combined with AND. <see cref="RequestId"/> is the gateway's call id
/// (<c>x-litellm-call-id</c>) or the provider answer's <c>id</c>; <see cref="ApiKey"/> the raw key or its hash;
/// <see cref="Model"/> the public name; calls started at or after <see cref="From"/> and before <see cref="Until"/> (UTC).
/// </summary>
public sealed record SpendLogFilter(
    string? RequestId = null, string? ApiKey = null, string? UserId = null, string? TeamId = null, string? Model = null, DateTime? From = null, DateTime? Until = null);
