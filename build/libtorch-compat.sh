#!/usr/bin/env bash
# libstdc++ compatibility fix for TorchSharp 0.107 on hosts without GLIBCXX_3.4.32 (see environment.md).
#   usage: libtorch-compat.sh <dir holding libLibTorchSharp.so> [<shim build dir>]
# 1. marks the GLIBCXX_3.4.32 version requirement weak (VER_FLG_WEAK in .gnu.version_r), so the loader only warns;
# 2. builds libstagcompat.so (defines std::ios_base_library_init) and adds it as NEEDED (found via $ORIGIN).
# Idempotent; prints exactly one line saying what it did. Exits 0 with "not needed" on unaffected hosts.
set -eu
dir=${1:?native directory}
lib="$dir/libLibTorchSharp.so"
here=$(cd "$(dirname "$0")" && pwd)
shim=libstagcompat.so
[ -f "$lib" ] || { echo "libtorch-compat: no $lib, nothing to do"; exit 0; }
# Projects build in parallel: one patcher at a time.
if command -v flock >/dev/null; then exec 9>"$dir/.stagcompat.lock"; flock 9; fi

libstdcxx=$( (/sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null) | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !done {print $NF; done=1}')
if [ -n "$libstdcxx" ] && grep -qa 'GLIBCXX_3\.4\.32' "$libstdcxx"; then
  echo "libtorch-compat: not needed ($libstdcxx has GLIBCXX_3.4.32)"; exit 0
fi

for tool in readelf g++ patchelf; do
  command -v "$tool" >/dev/null || { echo "libtorch-compat: error: '$tool' is required to make TorchSharp load on this host (Debian/Ubuntu: apt-get install binutils g++ patchelf)" >&2; exit 1; }
done

# Version-needs entry of GLIBCXX_3.4.32: file offset of .gnu.version_r + the entry's offset; vna_flags is 4 bytes in.
verinfo=$(readelf -V "$lib")
# (awk reads to the end instead of exiting early, so the writer never sees a closed pipe)
secoff=$(awk '/\.gnu\.version_r/ && !done {getline; for (i=1;i<=NF;i++) if ($i=="Offset:") print $(i+1); done=1}' <<<"$verinfo")
entry=$(awk '/Name: GLIBCXX_3\.4\.32 / && !done {sub(":","",$1); print $1; done=1}' <<<"$verinfo")
flags=$(awk '/Name: GLIBCXX_3\.4\.32 / && !done {for (i=1;i<=NF;i++) if ($i=="Flags:") print $(i+1); done=1}' <<<"$verinfo")
changed=0
if [ -n "$entry" ] && [ "$flags" != "WEAK" ]; then
  off=$(( secoff + entry + 4 ))
  cur=$(od -An -tu2 -j "$off" -N2 "$lib" | tr -d ' ')
  new=$(( cur | 2 ))
  printf "$(printf '\\x%02x\\x%02x' $((new & 255)) $((new >> 8)))" | dd of="$lib" bs=1 seek="$off" conv=notrunc status=none
  changed=1
fi
if [ ! -f "$dir/$shim" ] || [ "$here/ios_base_library_init.cpp" -nt "$dir/$shim" ]; then
  g++ -shared -fPIC -O2 -o "$dir/$shim.tmp" "$here/ios_base_library_init.cpp" && mv -f "$dir/$shim.tmp" "$dir/$shim"
  changed=1
fi
if ! readelf -d "$lib" | grep -F "[$shim]" >/dev/null; then
  patchelf --add-needed "$shim" "$lib"
  changed=1
fi
if [ $changed = 1 ]; then
  echo "libtorch-compat: applied libstdc++ fix to $lib (GLIBCXX_3.4.32 weak + $shim)"
else
  echo "libtorch-compat: already applied to $lib"
fi
