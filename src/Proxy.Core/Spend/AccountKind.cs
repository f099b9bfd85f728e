namespace Proxy.Core.Spend;

/// <summary>What a <see cref="SpendAccount"/> belongs to.</summary>
public enum AccountKind
{
    Key,
    Team,
    User,
    Deployment,

    /// <summary>A user in one team (<c>max_budget_in_team</c>); its id is <see cref="MemberAccount.Id"/>.</summary>
    Member,

    /// <summary>A key's budget for one model (<c>model_max_budget</c>); its id is <see cref="KeyModelAccount.Id"/>.</summary>
    KeyModel,
}
