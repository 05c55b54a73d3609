using Atc.Gc.Workers;

namespace Atc.Gc.Embedded;

/// <summary>
/// The worker token secret of the embedded setup: generated once into <c>&lt;dir&gt;/worker-token-secret</c>
/// (mode 0600, owned by the user running atc-gc; the directory 0700) and read from there afterwards, so a
/// local orchestrator, its workers and <c>atc-gc worker-token</c> agree without set-up. The file sits
/// beside the cluster, never in what the server user is given. A directory or file that another user
/// owns or may write to is refused (<see cref="EmbeddedPostgresException"/>) and nothing is read or written.
/// </summary>
public static class EmbeddedWorkerSecret
{
    /// <summary>The secret's file name in the embedded directory.</summary>
    public const string FileName = "worker-token-secret";

    /// <summary>The secret kept in <paramref name="directory"/>, generated first when there is none.</summary>
    public static string ReadOrCreate(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        directory = Path.GetFullPath(directory);
        PrivateDirectory.Ensure(directory);
        var file = Path.Combine(directory, FileName);
        if (!PrivateDirectory.CheckSecret(file))
        {
            Create(file);
            PrivateDirectory.CheckSecret(file);
        }

        var secret = File.ReadAllText(file).Trim();
        return secret.Length > 0 ? secret : throw new EmbeddedPostgresException($"the worker token secret {file} is empty: remove it to have a new one made");
    }

    /// <summary>Written to a private temporary file and linked into place, so a concurrent reader never sees it half-written; the first writer wins.</summary>
    private static void Create(string file)
    {
        var temporary = $"{file}.{Guid.NewGuid():N}.tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
               {
                   Mode = FileMode.CreateNew,
                   Access = FileAccess.Write,
                   UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
               }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(WorkerTokens.NewSecret());
        }

        try
        {
            File.Move(temporary, file, overwrite: false);
        }
        catch (IOException) when (File.Exists(file))
        {
            // Another process made it first: theirs is the secret.
            File.Delete(temporary);
        }
    }
}
