using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Proxy.Core;

namespace Portal.Components.Shared;

/// <summary>
/// Inside an EditForm: checks a <see cref="LimitsForm"/> with the core's rules (as the REST API does) when a field
/// changes and on submit, and shows a refusal of the service on the field it names, so the dialog can stay open.
/// </summary>
public sealed class LimitsValidator : ComponentBase, IDisposable
{
    private EditContext? _context;
    private ValidationMessageStore? _messages;

    [CascadingParameter] private EditContext EditContext { get; set; } = default!;

    [Parameter, EditorRequired] public LimitsForm Form { get; set; } = default!;

    /// <summary>The dialog's own fields a refusal may name beside the limits (a key's <c>key_alias</c>, <c>models</c>...).</summary>
    [Parameter] public Func<string?, FieldIdentifier?>? OtherFields { get; set; }

    protected override void OnParametersSet()
    {
        if (_context == EditContext)
        {
            return;
        }
        Unsubscribe();
        _context = EditContext;
        _messages = new ValidationMessageStore(_context);
        _context.OnValidationRequested += Validate;
        _context.OnFieldChanged += FieldChanged;
    }

    /// <summary>Shows <paramref name="refusal"/> on the field it names; false when it names none here (the dialog shows it at its top).</summary>
    public bool Show(ProxyError refusal)
    {
        if ((Form.FieldOf(refusal.Param) ?? OtherFields?.Invoke(refusal.Param)) is not { } field)
        {
            return false;
        }
        _messages!.Add(field, refusal.Message);
        _context!.NotifyValidationStateChanged();
        return true;
    }

    private void Validate(object? sender, ValidationRequestedEventArgs e)
    {
        _messages!.Clear();
        foreach (var (field, message) in Form.Refusals(DateTime.UtcNow))
        {
            _messages.Add(field, message);
        }
        _context!.NotifyValidationStateChanged();
    }

    /// <summary>A changed field is checked again at once, and a refusal shown on it goes: the person has acted on it.</summary>
    private void FieldChanged(object? sender, FieldChangedEventArgs e)
    {
        _messages!.Clear(e.FieldIdentifier);
        foreach (var (field, message) in Form.Refusals(DateTime.UtcNow).Where(r => r.Field.Equals(e.FieldIdentifier)))
        {
            _messages.Add(field, message);
        }
        _context!.NotifyValidationStateChanged();
    }

    private void Unsubscribe()
    {
        if (_context is not null)
        {
            _context.OnValidationRequested -= Validate;
            _context.OnFieldChanged -= FieldChanged;
        }
    }

    public void Dispose() => Unsubscribe();
}
