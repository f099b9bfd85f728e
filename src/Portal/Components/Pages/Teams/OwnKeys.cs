using MudBlazor;
using Proxy.Core.Keys;

namespace Portal.Components.Pages.Teams;

/// <summary>
/// A member's "Create my key": a key of the team for themself (the core decides whether they may), shown once. It calls
/// models only (<c>llm_api</c>), as the admin's key form does unless told otherwise; the member manages it here.
/// </summary>
public static class OwnKeys
{
    /// <summary>True when a key was issued (and shown); a refusal shows as a snackbar with the core's reason.</summary>
    public static async Task<bool> CreateAsync(PortalSession session, IDialogService dialogs, string teamId)
    {
        var (ok, issued) = await session.TryAsync<KeyService, IssuedKey>((keys, caller) => keys.GenerateAsync(caller, new KeyInput { TeamId = teamId, KeyType = KeyType.LlmApi }));
        if (!ok)
        {
            return false;
        }
        var parameters = new DialogParameters<NewKeyDialog> { { d => d.RawKey, issued!.RawKey } };
        var dialog = await dialogs.ShowAsync<NewKeyDialog>("Your new key", parameters, new DialogOptions { BackdropClick = false, MaxWidth = MaxWidth.Small, FullWidth = true });
        await dialog.Result;
        return true;
    }
}
