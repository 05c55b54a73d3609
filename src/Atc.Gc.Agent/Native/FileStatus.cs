using System.Runtime.InteropServices;

namespace Atc.Gc.Agent.Native;

/// <summary>
/// What the disk walk needs of one directory entry, never following a symbolic link (<c>statx(2)</c>
/// with <c>AT_SYMLINK_NOFOLLOW</c>): its kind, the blocks it takes, its device and inode, its links.
/// </summary>
internal readonly record struct FileStatus(int Type, long AllocatedBytes, ulong Device, ulong Inode, uint Links)
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint Wanted = 0x1 | 0x4 | 0x100 | 0x400; // STATX_TYPE | STATX_NLINK | STATX_INO | STATX_BLOCKS
    private const int FileTypeMask = 0xF000;
    private const int DirectoryType = 0x4000;
    private const int SymbolicLinkType = 0xA000;

    public bool IsDirectory => Type == DirectoryType;

    public bool IsSymbolicLink => Type == SymbolicLinkType;

    /// <summary>The status of <paramref name="path"/> itself; null when it is gone (or cannot be read).</summary>
    public static FileStatus? Of(string path)
    {
        var buffer = default(StatxBuffer);
        if (NativeMethods.statx(AtFdCwd, path, AtSymlinkNoFollow, Wanted, ref buffer) != 0)
        {
            return null;
        }

        return new FileStatus(
            buffer.Mode & FileTypeMask,
            checked((long)buffer.Blocks * 512),
            ((ulong)buffer.DeviceMajor << 32) | buffer.DeviceMinor,
            buffer.Inode,
            buffer.Links);
    }

    /// <summary>The parts of <c>struct statx</c> read here (the layout is the same on every Linux architecture).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct StatxBuffer
    {
        [FieldOffset(16)]
        public uint Links;

        [FieldOffset(28)]
        public ushort Mode;

        [FieldOffset(32)]
        public ulong Inode;

        [FieldOffset(48)]
        public ulong Blocks;

        [FieldOffset(136)]
        public uint DeviceMajor;

        [FieldOffset(140)]
        public uint DeviceMinor;
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string pathname, int flags, uint mask, ref StatxBuffer buffer);
    }
}
