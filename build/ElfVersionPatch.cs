// Marks one version need of an ELF64 little-endian shared library weak (VER_FLG_WEAK = 0x2 in vna_flags of its
// .gnu.version_r entry), in place and idempotently. Compiled at build time by MSBuild's RoslynCodeTaskFactory
// (build/LibTorchCompat.targets); the library's ElfVersionNeeds reads the same structure for `stag doctor`.
using System;
using System.IO;
using System.Text;
using System.Threading;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class StagMarkVersionNeedWeak : Task
{
    [Required] public string File { get; set; } = "";
    [Required] public string Version { get; set; } = "";
    [Output] public string Result { get; set; } = "";

    const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        // Projects build in parallel and share the package cache: one patcher at a time, machine-wide.
        using var mutex = new Mutex(false, "stag-libtorch-compat");
        try { mutex.WaitOne(); } catch (AbandonedMutexException) { }
        try
        {
            using var fs = new FileStream(File, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            long flagsAt = FindVernauxFlags(fs, Version, out string error);
            if (flagsAt < 0) { Result = error; Log.LogMessage(MessageImportance.Low, "libtorch-compat: " + error); return true; }
            var b = new byte[2];
            fs.Position = flagsAt; if (fs.Read(b, 0, 2) != 2) throw new EndOfStreamException();
            ushort flags = (ushort)(b[0] | b[1] << 8);
            if ((flags & VerFlgWeak) != 0) { Result = "already weak: " + Version + " in " + File; return true; }
            flags |= VerFlgWeak;
            fs.Position = flagsAt; fs.Write(new[] { (byte)flags, (byte)(flags >> 8) }, 0, 2);
            fs.Flush(true);
            Result = "patched " + File + " (" + Version + " marked weak)";
            return true;
        }
        catch (Exception e) { Log.LogError("libtorch-compat: cannot patch " + File + ": " + e.Message); return false; }
        finally { mutex.ReleaseMutex(); }
    }

    /// <summary>File offset of vna_flags of the version need named <paramref name="version"/>, or -1 with a reason.</summary>
    public static long FindVernauxFlags(Stream s, string version, out string error)
    {
        error = "";
        var r = new BinaryReader(s, Encoding.ASCII, leaveOpen: true);
        s.Position = 0;
        var ident = r.ReadBytes(16);
        if (ident.Length < 16 || ident[0] != 0x7f || ident[1] != 'E' || ident[2] != 'L' || ident[3] != 'F') { error = "not an ELF file"; return -1; }
        if (ident[4] != 2 || ident[5] != 1) { error = "not ELF64 little-endian"; return -1; }
        s.Position = 0x28; long shoff = r.ReadInt64();                       // e_shoff
        s.Position = 0x3A; int shentsize = r.ReadUInt16(), shnum = r.ReadUInt16(), shstrndx = r.ReadUInt16();
        long SectionField(int i, int at) { s.Position = shoff + (long)i * shentsize + at; return at is 4 or 0x28 or 0x2C ? r.ReadUInt32() : r.ReadInt64(); }
        const uint ShtGnuVerneed = 0x6ffffffe;
        for (int i = 0; i < shnum; i++)
        {
            if ((uint)SectionField(i, 4) != ShtGnuVerneed) continue;                   // sh_type
            long offset = SectionField(i, 0x18);                                   // sh_offset
            long strOffset = SectionField((int)SectionField(i, 0x28), 0x18);       // sh_link → .dynstr's sh_offset
            long need = offset;
            while (true)
            {
                s.Position = need; r.ReadUInt16(); int count = r.ReadUInt16(); r.ReadUInt32(); uint aux = r.ReadUInt32(), next = r.ReadUInt32();
                long a = need + aux;
                for (int k = 0; k < count; k++)
                {
                    s.Position = a; r.ReadUInt32(); r.ReadUInt16(); r.ReadUInt16(); uint name = r.ReadUInt32(), anext = r.ReadUInt32();
                    if (ReadString(s, strOffset + name) == version) return a + 4;   // vna_hash (4) then vna_flags
                    if (anext == 0) break;
                    a += anext;
                }
                if (next == 0) break;
                need += next;
            }
            error = "no version need " + version + " (nothing to patch)";
            return -1;
        }
        error = "no .gnu.version_r section (nothing to patch)";
        return -1;
    }

    static string ReadString(Stream s, long at)
    {
        s.Position = at;
        var sb = new StringBuilder();
        for (int c; (c = s.ReadByte()) > 0;) sb.Append((char)c);
        return sb.ToString();
    }
}
