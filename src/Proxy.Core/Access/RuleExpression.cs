using System.Linq.Expressions;

namespace Proxy.Core.Access;

/// <summary>
/// Turns a rule written once as an expression over a row and the caller's reach (<c>(row, reach) =&gt; bool</c>) into the
/// query filter EF translates, and lets one rule be applied to the team column of any row. Keeping the rule an expression
/// is what lets a list (a query) and an info (one row, the compiled rule) share it instead of restating it.
/// </summary>
internal static class RuleExpression
{
    /// <summary>The rule with the caller's reach filled in. The reach is read through a member, so EF sends it as parameters.</summary>
    public static Expression<Func<TRow, bool>> Bind<TRow, TReach>(Expression<Func<TRow, TReach, bool>> rule, TReach reach)
    {
        var value = Expression.Property(Expression.Constant(new Held<TReach>(reach)), nameof(Held<TReach>.Value));
        return Expression.Lambda<Func<TRow, bool>>(Replace(rule.Body, rule.Parameters[1], value), rule.Parameters[0]);
    }

    /// <summary>A rule about a team id, applied to the team column <paramref name="teamOf"/> of a row.</summary>
    public static Expression<Func<TRow, TReach, bool>> OnTeamOf<TRow, TReach>(Expression<Func<TRow, string?>> teamOf, Expression<Func<string?, TReach, bool>> rule) =>
        Expression.Lambda<Func<TRow, TReach, bool>>(Replace(rule.Body, rule.Parameters[0], teamOf.Body), teamOf.Parameters[0], rule.Parameters[1]);

    /// <summary><paramref name="body"/> with every use of <paramref name="parameter"/> replaced by <paramref name="by"/>.</summary>
    public static Expression Replace(Expression body, ParameterExpression parameter, Expression by) => new Replacing(parameter, by).Visit(body);

    private sealed class Held<T>(T value)
    {
        public T Value { get; } = value;
    }

    private sealed class Replacing(ParameterExpression parameter, Expression by) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == parameter ? by : node;
    }
}
