// Provides std::ios_base_library_init() (GCC 13's iostream-init anchor, GLIBCXX_3.4.32) for hosts whose
// libstdc++ is older (Debian 12, Ubuntu 22.04). TorchSharp 0.107's libLibTorchSharp.so references it.
#include <ios>
namespace std { void ios_base_library_init() { static ios_base::Init init; } }
