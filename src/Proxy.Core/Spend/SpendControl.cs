using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Proxy.Core.Access;

namespace Proxy.Core.Spend;

/// <summary>
/// Spend control on the hot path, in two moments: before forwarding, "may this caller spend now?" (its key's, team's,
/// user's and team member's budgets, and the key's, team's and user's rate limits); after, "this call used N tokens and cost X". Both touch
/// only memory; the usage writer stores the spend and <see cref="SpendSync"/> shares the windows.
/// </summary>
public sealed class SpendControl(SpendLedger ledger, Microsoft.Extensions.Options.IOptions<ProxyOptions> options)
{
    /// <summary>Refuses with 400 <c>budget_exceeded</c> or 429 <c>rate_limit_error</c>; otherwise the call's allowance, to be disposed when it ends.</summary>
    public CallAllowance Admit(Caller caller)
    {
        var key = caller.Key?.Account;
        var team = caller.Team?.Account;
        var user = caller.User?.Account;
        // The key's user as a member of the key's team: max_budget_in_team binds the team's keys of that user.
        var member = caller.Key?.UserId is { } userId ? caller.Team?.AccountOf(userId) : null;
        // A key with only model budgets still needs an allowance of its own: its attempts reserve on them.
        if (key is null && team is null && user is null && member is null && caller.Key?.ModelAccounts is null)
        {
            return CallAllowance.Unlimited;
        }
        RateLimitLease? parallel = null;
        try
        {
            DemandWithinBudget(key, caller);
            DemandWithinBudget(team, caller);
            DemandWithinBudget(user, caller);
            DemandWithinBudget(member, caller);

            var minute = ledger.Minute;
            DemandTokens(key, minute, caller);
            DemandTokens(team, minute, caller);
            DemandTokens(user, minute, caller);
            if (key is not null && !key.TryEnterParallel(out parallel))
            {
                throw ProxyError.RateLimited(
                    $"Max parallel request limit reached for key {caller.Key!.KeyName}: max_parallel_requests={key.Limits.MaxParallelRequests} calls are in flight. Retry when one has finished.",
                    TimeSpan.FromSeconds(1));
            }
            DemandRequest(key, minute, caller);
            DemandRequest(team, minute, caller);
            DemandRequest(user, minute, caller);
        }
        catch (ProxyError refused)
        {
            key?.LeaveParallel(parallel);
            // A refusal carries the x-ratelimit-* headers too: every answer to a rate-limited key does.
            throw new ProxyError(refused.Status, refused.Type, refused.Message, refused.Param)
            {
                Headers = [.. refused.Headers, .. CallAllowance.RateHeaders(ledger, key, team)],
            };
        }
        return new CallAllowance(ledger, key, team, user, parallel) { Member = member };
    }

    /// <summary>
    /// Before an attempt: reserves the most it can cost (<see cref="WorstCase"/>) on every budget of the call, or refuses
    /// it with 400 <c>budget_exceeded</c> naming the budget that has no room, so that calls in flight together never
    /// pass a budget. A model without a price cannot be reserved for: refused under a budget unless the operator allows
    /// unpriced models. Routes whose cost is not bounded by their tokens (images, audio, moderations) reserve nothing.
    /// </summary>
    internal void Reserve(CallAllowance allowance, Caller caller, string model, Price? price, ReadOnlySpan<byte> body, bool boundedByTokens)
    {
        // The key's budget for this attempt's model: the model a fallback moved to has its own, or none.
        var modelBudget = caller.Key?.ModelAccount(model);
        if (!allowance.HasBudget && modelBudget is null)
        {
            allowance.ReserveNothing();
            return;
        }
        var budgets = options.Value.Budgets;
        if (price is null)
        {
            if (budgets.UnpricedModels == UnpricedModels.Refuse)
            {
                throw ProxyError.BadRequest(
                    $"Model {model} has no price, so this call's budget cannot see what it costs: set model_info.input_cost_per_token and output_cost_per_token on the model (or Proxy:Prices:<model>), or ask the operator to allow unpriced models (Proxy:Budgets:UnpricedModels=allow).",
                    "model");
            }
            allowance.ReserveNothing();
            return;
        }
        // A route that reserves nothing must still stop at a model budget already spent, as Admit does for the others.
        DemandWithinBudget(modelBudget, caller);
        var cost = boundedByTokens ? WorstCase.Cost(body, price, price.MaxOutputTokens ?? budgets.DefaultOutputTokens) : 0;
        if (allowance.Reserve(cost, modelBudget) is { } full)
        {
            throw ProxyError.BudgetExceeded(
                $"Budget has been exceeded! {Named(full, caller)} Current cost: {Usd(full.Spend)}, Reserved by calls in flight: {Usd(full.Reserved)}, " +
                $"This call may cost up to: {Usd(cost)}, Max budget: {Usd(full.Limits.MaxBudget!.Value)}. Set max_tokens to reserve less, or wait for calls in flight to finish.");
        }
    }

    /// <summary>The router's question for a deployment with its own rpm/tpm: takes one of its requests if it has room for a call.</summary>
    public bool TryUseDeployment(SpendAccount? deployment)
    {
        if (deployment is null)
        {
            return true;
        }
        var minute = ledger.Minute;
        return deployment.HasTokens(minute) && deployment.TryTakeRequest(minute);
    }

    /// <summary>Tokens a deployment's call used, against its tpm.</summary>
    public void ChargeDeployment(SpendAccount? deployment, long tokens) => deployment?.ChargeTokens(ledger.Minute, tokens);

    /// <summary>Until every one of a group's deployments at its limit has a new window.</summary>
    public TimeSpan UntilNextWindow => ledger.UntilNextMinute;

    /// <summary>How a refusal names the account: a key by its masked name, never its hash.</summary>
    private static string Who(SpendAccount account, Caller caller) => account.Kind switch
    {
        AccountKind.Key => $"key {caller.Key!.KeyName}",
        AccountKind.Team => $"team {account.Id}",
        _ => $"user {account.Id}",
    };

    /// <summary>LiteLLM's spelling in budget messages (<c>Key=sk-...abcd</c>), which scripts match on.</summary>
    private static string Named(SpendAccount account, Caller caller) => account.Kind switch
    {
        AccountKind.Key => $"Key={caller.Key!.KeyName}",
        AccountKind.Team => $"Team={account.Id}",
        AccountKind.Member => $"User={MemberAccount.Split(account.Id).UserId} in Team={MemberAccount.Split(account.Id).TeamId}",
        // LiteLLM says "exceeded budget for model=gpt-4o"; the key is named as for its own budget.
        AccountKind.KeyModel => $"Key={caller.Key!.KeyName} exceeded budget for model={KeyModelAccount.Split(account.Id).Model} (model_max_budget).",
        _ => $"User={account.Id}",
    };

    private static void DemandWithinBudget(SpendAccount? account, Caller caller)
    {
        if (account is not { IsOverBudget: true })
        {
            return;
        }
        var resets = account.ResetAt is { } at
            ? $" It resets at {at.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}."
            : account.Kind == AccountKind.KeyModel
                ? " Raise its budget_limit in model_max_budget (or set a time_period) to allow more calls on this model."
                : " Raise max_budget (or set budget_duration) to allow more calls.";
        throw ProxyError.BudgetExceeded(
            $"Budget has been exceeded! {Named(account, caller)} Current cost: {Usd(account.Spend)}, Max budget: {Usd(account.Limits.MaxBudget!.Value)}.{resets}");
    }

    private void DemandTokens(SpendAccount? account, long minute, Caller caller)
    {
        if (account is not null && !account.HasTokens(minute))
        {
            throw ProxyError.RateLimited(
                $"Rate limit exceeded for {Who(account, caller)}: tpm_limit={account.Limits.TpmLimit} tokens per minute used up. Retry after {Seconds(ledger.UntilNextMinute)} s.",
                ledger.UntilNextMinute);
        }
    }

    private void DemandRequest(SpendAccount? account, long minute, Caller caller)
    {
        if (account is not null && !account.TryTakeRequest(minute))
        {
            throw ProxyError.RateLimited(
                $"Rate limit exceeded for {Who(account, caller)}: rpm_limit={account.Limits.RpmLimit} requests per minute reached. Retry after {Seconds(ledger.UntilNextMinute)} s.",
                ledger.UntilNextMinute);
        }
    }

    private static string Usd(double amount) => amount.ToString("0.######", CultureInfo.InvariantCulture);

    internal static string Seconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
