using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Proxy.Core.Persistence;

namespace Proxy.Core.Secrets;

/// <summary>
/// The Data Protection key ring (portal sign-in cookies, antiforgery tokens, Blazor circuits, invite links) lives in
/// the database, so every instance behind a load balancer accepts what another issued. Each key's XML is sealed with
/// <see cref="SecretBox"/> like the provider keys: a copy of the database alone cannot forge a sign-in.
/// </summary>
public static class KeyRing
{
    public const string ApplicationName = "llm-gateway";

    public static IServiceCollection AddSharedKeyRing(this IServiceCollection services)
    {
        services.AddDataProtection()
            .SetApplicationName(ApplicationName)
            .PersistKeysToDbContext<PortalDb>();
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlEncryptor = new Encryptor(sp.GetRequiredService<SecretBox>())));
        return services;
    }

    private sealed class Encryptor(SecretBox box) : IXmlEncryptor
    {
        public EncryptedXmlInfo Encrypt(XElement plaintextElement) =>
            new(new XElement("sealed", box.Seal(plaintextElement.ToString(SaveOptions.DisableFormatting))), typeof(Decryptor));
    }

    /// <summary>Created by Data Protection from its type name, with the service provider.</summary>
    public sealed class Decryptor(IServiceProvider services) : IXmlDecryptor
    {
        public XElement Decrypt(XElement encryptedElement) => XElement.Parse(services.GetRequiredService<SecretBox>().Open(encryptedElement.Value));
    }
}
