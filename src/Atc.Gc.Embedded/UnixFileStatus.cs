using System.Runtime.InteropServices;

namespace Atc.Gc.Embedded;

/// <summary>
/// Who owns a path, what it is and its permission bits (<c>statx(2)</c>), and this process's effective
/// user (<c>geteuid(2)</c>): .NET has no API for a file's owner. The <c>struct statx</c> layout is the
/// same on every Linux architecture.
/// </summary>
internal static class UnixFileStatus
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxMode = 0x2;
    private const uint StatxUid = 0x8;
    private const int NoSuchEntry = 2;
    private const int NotADirectory = 20;
    private const int FileTypeMask = 0xF000;
    private const int DirectoryType = 0x4000;
    private const int RegularFileType = 0x8000;
    private const int SymbolicLinkType = 0xA000;

    /// <summary>The status of a path: its kind, its owner's user id and its permission bits.</summary>
    internal readonly record struct Status(uint Owner, UnixFileMode Permissions, int Type)
    {
        public bool IsDirectory => Type == DirectoryType;

        public bool IsRegularFile => Type == RegularFileType;

        public bool IsSymbolicLink => Type == SymbolicLinkType;

        /// <summary>The permission bits in octal, as <c>ls</c> and <c>chmod</c> show them (<c>0755</c>).</summary>
        public string Octal => "0" + Convert.ToString((int)Permissions, 8);
    }

    /// <summary>The effective user id of this process.</summary>
    public static uint EffectiveUser => NativeMethods.geteuid();

    /// <summary>
    /// The status of <paramref name="path"/>, or null when nothing is there. A symbolic link is described
    /// itself unless <paramref name="followLinks"/>.
    /// </summary>
    public static Status? Of(string path, bool followLinks = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var buffer = default(StatxBuffer);
        if (NativeMethods.statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType | StatxMode | StatxUid, ref buffer) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            return error is NoSuchEntry or NotADirectory
                ? null
                : throw new EmbeddedPostgresException($"cannot read the status of {path}: {Marshal.GetPInvokeErrorMessage(error)}");
        }

        return new Status(buffer.Uid, (UnixFileMode)(buffer.Mode & 0xFFF), buffer.Mode & FileTypeMask);
    }

    /// <summary>The part of <c>struct statx</c> read here: <c>stx_uid</c> at offset 20, <c>stx_mode</c> at 28; 256 bytes in all.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(20)]
        public uint Uid;

        [FieldOffset(28)]
        public ushort Mode;
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string pathname, int flags, uint mask, ref StatxBuffer buffer);

        [DllImport("libc")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern uint geteuid();
    }
}
