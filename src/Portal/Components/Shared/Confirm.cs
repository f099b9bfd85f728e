using MudBlazor;

namespace Portal.Components.Shared;

/// <summary>One wording for every destructive action: say what goes, and that it cannot be undone.</summary>
public static class Confirm
{
    public static async Task<bool> DestructiveAsync(this IDialogService dialogs, string title, string what) =>
        await dialogs.ShowMessageBoxAsync(title, $"{what} This cannot be undone.", yesText: "Delete", cancelText: "Cancel") == true;
}
