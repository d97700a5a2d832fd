#include "file_identity.h"

#include <cstdlib>
#include <memory>

namespace sctdiff {

FileIdentity identify_file(const std::string& path, const struct stat& info) {
  FileIdentity identity;
  std::unique_ptr<char, decltype(&std::free)> resolved(realpath(path.c_str(), nullptr), &std::free);
  identity.canonical_path = resolved ? std::string(resolved.get()) : path;
  identity.device = static_cast<uint64_t>(info.st_dev);
  identity.inode = static_cast<uint64_t>(info.st_ino);
  identity.size = static_cast<uint64_t>(info.st_size);
  identity.mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + static_cast<int64_t>(info.st_mtim.tv_nsec);
  return identity;
}

}  // namespace sctdiff
