#pragma once
// Private to src/store: a SQLite VFS that forwards to the default one and counts its syncs, so
// /metrics reports the fsyncs commits really cost, from SQLite's own I/O rather than a guess.
#include <atomic>
#include <cstdint>

namespace parley::store {

// Registers the VFS once per process (thread-safe) and returns its name for sqlite3_open_v2.
// Every database opened through it adds to sync_count().
const char* counting_vfs_name();
// Syncs (xSync: fsync or fdatasync) of every file opened through the VFS, in this process.
std::uint64_t sync_count();

}  // namespace parley::store
