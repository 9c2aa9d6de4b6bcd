// Reads and patches the symbol-version tables of ELF64 little-endian shared libraries, with no native tools.
// One file, compiled three ways:
//  - by MSBuild's RoslynCodeTaskFactory (build/LibTorchCompat.targets): the StagMarkVersionNeedWeak task, which
//    marks GLIBCXX_3.4.32 weak (VER_FLG_WEAK = 0x2 in vna_flags of its .gnu.version_r entry) in place, idempotently;
//  - into the library (STAG_LIBRARY defined, no task): `stag doctor` reads the loaded file's flag with it, and the
//    tests patch a pristine copy with the very same MarkWeak the build runs.
#nullable enable
using System;
using System.IO;
using System.Text;
using System.Threading;

#if !STAG_LIBRARY
public class StagMarkVersionNeedWeak : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required] public string File { get; set; } = "";
    [Microsoft.Build.Framework.Required] public string Version { get; set; } = "";
    [Microsoft.Build.Framework.Output] public string Result { get; set; } = "";

    public override bool Execute()
    {
        // Projects build in parallel and share the package cache: one patcher at a time, machine-wide.
        using var mutex = new Mutex(false, "stag-libtorch-compat");
        try { mutex.WaitOne(); } catch (AbandonedMutexException) { }
        try
        {
            Result = StagNotebooks.Runtime.ElfVersionNeeds.MarkWeak(File, Version);
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Log.LogError("libtorch-compat: " + e.Message);
            return false;
        }
        finally { mutex.ReleaseMutex(); }
    }
}
#endif

namespace StagNotebooks.Runtime
{
    /// <summary>What a shared library's .gnu.version_r says about one version (e.g. GLIBCXX_3.4.32).</summary>
    public enum VersionNeedState { NotNeeded, Required, Weak }

    /// <summary>A few dozen lines of ELF: find a version need, read or set its VER_FLG_WEAK bit, and read version definitions.</summary>
    public static class ElfVersionNeeds
    {
        public const ushort VerFlgWeak = 0x2;
        const uint ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe;

        /// <summary>Marks <paramref name="version"/> weak in <paramref name="path"/>; returns "patched ...", "already weak ..."
        /// or "nothing to patch ...". Throws <see cref="InvalidDataException"/> naming the file when it is not ELF64 little-endian.</summary>
        public static string MarkWeak(string path, string version)
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            long at = FindNeedFlags(fs, path, version);
            if (at < 0) return "nothing to patch: " + path + " does not ask for " + version;
            ushort flags = ReadU16(fs, at);
            if ((flags & VerFlgWeak) != 0) return "already weak: " + version + " in " + path;
            flags |= VerFlgWeak;
            fs.Position = at;
            fs.Write(new[] { (byte)flags, (byte)(flags >> 8) }, 0, 2);   // two bytes in place: the only change to the file
            fs.Flush(true);
            return "patched " + path + " (" + version + " marked weak)";
        }

        /// <summary>Whether <paramref name="path"/> asks for <paramref name="version"/>, and if so whether weakly.</summary>
        public static VersionNeedState Read(string path, string version)
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            long at = FindNeedFlags(fs, path, version);
            if (at < 0) return VersionNeedState.NotNeeded;
            return (ReadU16(fs, at) & VerFlgWeak) != 0 ? VersionNeedState.Weak : VersionNeedState.Required;
        }

        /// <summary>Whether <paramref name="path"/> (e.g. libstdc++.so.6) defines <paramref name="version"/> in .gnu.version_d.</summary>
        public static bool Defines(string path, string version)
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var r = new BinaryReader(fs, Encoding.ASCII, leaveOpen: true);
            foreach (var (offset, strings) in Sections(fs, r, path, ShtGnuVerdef))
                for (long d = offset; ; )
                {
                    fs.Position = d + 12; uint aux = r.ReadUInt32(), next = r.ReadUInt32();   // Verdef: vd_aux, vd_next
                    fs.Position = d + aux; uint name = r.ReadUInt32();                          // first Verdaux: vda_name
                    if (ReadString(fs, strings + name) == version) return true;
                    if (next == 0) break;
                    d += next;
                }
            return false;
        }

        /// <summary>File offset of vna_flags of the version need named <paramref name="version"/>, or -1 when there is none.</summary>
        public static long FindNeedFlags(Stream s, string path, string version)
        {
            var r = new BinaryReader(s, Encoding.ASCII, leaveOpen: true);
            foreach (var (offset, strings) in Sections(s, r, path, ShtGnuVerneed))
                for (long need = offset; ; )
                {
                    s.Position = need + 2; int count = r.ReadUInt16(); r.ReadUInt32(); uint aux = r.ReadUInt32(), next = r.ReadUInt32();
                    long a = need + aux;
                    for (int k = 0; k < count; k++)
                    {
                        s.Position = a + 8; uint name = r.ReadUInt32(), anext = r.ReadUInt32();   // Vernaux: vna_hash, vna_flags, vna_other, vna_name, vna_next
                        if (ReadString(s, strings + name) == version) return a + 4;
                        if (anext == 0) break;
                        a += anext;
                    }
                    if (next == 0) break;
                    need += next;
                }
            return -1;
        }

        /// <summary>(sh_offset, sh_offset of the linked string table) of every section of type <paramref name="type"/>.</summary>
        static System.Collections.Generic.List<(long Offset, long Strings)> Sections(Stream s, BinaryReader r, string path, uint type)
        {
            s.Position = 0;
            var ident = r.ReadBytes(16);
            if (ident.Length < 16 || ident[0] != 0x7f || ident[1] != 'E' || ident[2] != 'L' || ident[3] != 'F')
                throw new InvalidDataException(path + " is not an ELF file (it does not start with 0x7f 'ELF')");
            if (ident[4] != 2 || ident[5] != 1)
                throw new InvalidDataException(path + " is not a 64-bit little-endian ELF file (EI_CLASS " + ident[4] + ", EI_DATA " + ident[5] + ")");
            s.Position = 0x28; long shoff = r.ReadInt64();                                        // e_shoff
            s.Position = 0x3A; int shentsize = r.ReadUInt16(), shnum = r.ReadUInt16();            // e_shentsize, e_shnum
            long Field(long i, int at, bool wide) { s.Position = shoff + i * shentsize + at; return wide ? r.ReadInt64() : r.ReadUInt32(); }
            var found = new System.Collections.Generic.List<(long, long)>();
            for (int i = 0; i < shnum; i++)
                if ((uint)Field(i, 4, false) == type)                                            // sh_type
                    found.Add((Field(i, 0x18, true), Field(Field(i, 0x28, false), 0x18, true)));  // sh_offset; sh_link → its sh_offset
            return found;
        }

        static ushort ReadU16(Stream s, long at)
        {
            s.Position = at;
            int lo = s.ReadByte(), hi = s.ReadByte();
            if (hi < 0) throw new EndOfStreamException();
            return (ushort)(lo | hi << 8);
        }

        static string ReadString(Stream s, long at)
        {
            s.Position = at;
            var sb = new StringBuilder();
            for (int c; (c = s.ReadByte()) > 0;) sb.Append((char)c);
            return sb.ToString();
        }
    }
}
