// Saves a file the server made (a .NET stream) as the browser's own download, from a Blob URL: nothing is stored on
// the server and no second request is made, so what is saved is exactly what the tab shows.
export async function downloadFile(fileName, contentType, streamReference) {
    const buffer = await streamReference.arrayBuffer();
    const url = URL.createObjectURL(new Blob([buffer], { type: contentType }));
    const anchor = document.createElement('a');
    anchor.href = url;
    anchor.download = fileName;
    document.body.appendChild(anchor);
    anchor.click();
    anchor.remove();
    URL.revokeObjectURL(url);
}
