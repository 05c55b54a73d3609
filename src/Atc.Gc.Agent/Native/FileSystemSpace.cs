using System.Runtime.InteropServices;

namespace Atc.Gc.Agent.Native;

/// <summary>The filesystem a path is on (<c>statfs(2)</c>): its type, its size and what is free.</summary>
internal readonly record struct FileSystemSpace(long Type, long CapacityBytes, long FreeBytes)
{
    /// <summary><c>BTRFS_SUPER_MAGIC</c>.</summary>
    public const long Btrfs = 0x9123683E;

    public static FileSystemSpace Of(string path)
    {
        var buffer = default(StatfsBuffer);
        if (NativeMethods.statfs(path, ref buffer) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot read the filesystem of {path}: {Marshal.GetPInvokeErrorMessage(error)}");
        }

        var unit = buffer.FragmentSize > 0 ? buffer.FragmentSize : buffer.BlockSize;
        return new FileSystemSpace(buffer.Type, buffer.Blocks * unit, buffer.AvailableBlocks * unit);
    }

    /// <summary><c>struct statfs</c> on 64-bit Linux (x86-64, arm64): every field is eight bytes wide.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct StatfsBuffer
    {
        [FieldOffset(0)]
        public long Type;

        [FieldOffset(8)]
        public long BlockSize;

        [FieldOffset(16)]
        public long Blocks;

        [FieldOffset(32)]
        public long AvailableBlocks;

        [FieldOffset(72)]
        public long FragmentSize;
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int statfs([MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref StatfsBuffer buffer);
    }
}
