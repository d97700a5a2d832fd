// Which file, in which version, a WeightFile was read from: the key under which engines share
// that file's weights (weight_cache.h). A file replaced on disk (a new inode) or rewritten in
// place (a new size or modification time) has another identity, so it is loaded afresh.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <tuple>

namespace sctdiff {

struct FileIdentity {
  std::string canonical_path;  // realpath() of the path opened; the path as given if that fails
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // st_mtim in nanoseconds: rewrites within one second still differ

  bool operator<(const FileIdentity& other) const {
    return std::tie(canonical_path, device, inode, size, mtime_ns) <
           std::tie(other.canonical_path, other.device, other.inode, other.size, other.mtime_ns);
  }
  bool operator==(const FileIdentity& other) const {
    return std::tie(canonical_path, device, inode, size, mtime_ns) ==
           std::tie(other.canonical_path, other.device, other.inode, other.size, other.mtime_ns);
  }
};

// The identity of the file `path` that was opened and fstat()ed into `info`. Taking the stat of
// the open descriptor (not a second stat of the path) ties the identity to the bytes that were
// actually mapped, even if the path is replaced in between.
FileIdentity identify_file(const std::string& path, const struct stat& info);

}  // namespace sctdiff
