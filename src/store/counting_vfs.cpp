#include "counting_vfs.hpp"

#include <sqlite3.h>

#include <cstring>
#include <stdexcept>

namespace parley::store {

namespace {

// The process's sync count: a VFS is registered process-wide, so its counter is too.
std::atomic<std::uint64_t> syncs{0};

// Our file: SQLite's base struct, then the default VFS's file right behind it.
struct counting_file {
  sqlite3_file base;
};

sqlite3_file* real(sqlite3_file* f) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<counting_file*>(f) + 1);
}

int x_close(sqlite3_file* f) {
  sqlite3_file* r = real(f);
  return r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
}
int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return real(f)->pMethods->xRead(real(f), buf, n, off);
}
int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  return real(f)->pMethods->xWrite(real(f), buf, n, off);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return real(f)->pMethods->xTruncate(real(f), size);
}
int x_sync(sqlite3_file* f, int flags) {
  syncs.fetch_add(1, std::memory_order_relaxed);
  return real(f)->pMethods->xSync(real(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real(f)->pMethods->xFileSize(real(f), size);
}
int x_lock(sqlite3_file* f, int level) {
  return real(f)->pMethods->xLock(real(f), level);
}
int x_unlock(sqlite3_file* f, int level) {
  return real(f)->pMethods->xUnlock(real(f), level);
}
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int x_sector_size(sqlite3_file* f) {
  return real(f)->pMethods->xSectorSize(real(f));
}
int x_device_characteristics(sqlite3_file* f) {
  return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), page, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
  real(f)->pMethods->xShmBarrier(real(f));
}
int x_shm_unmap(sqlite3_file* f, int remove) {
  return real(f)->pMethods->xShmUnmap(real(f), remove);
}
int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  return real(f)->pMethods->xFetch(real(f), off, n, out);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  return real(f)->pMethods->xUnfetch(real(f), off, p);
}

const sqlite3_io_methods counting_methods = {3,
                                             x_close,
                                             x_read,
                                             x_write,
                                             x_truncate,
                                             x_sync,
                                             x_file_size,
                                             x_lock,
                                             x_unlock,
                                             x_check_reserved_lock,
                                             x_file_control,
                                             x_sector_size,
                                             x_device_characteristics,
                                             x_shm_map,
                                             x_shm_lock,
                                             x_shm_barrier,
                                             x_shm_unmap,
                                             x_fetch,
                                             x_unfetch};

int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  auto* inner = static_cast<sqlite3_vfs*>(vfs->pAppData);
  sqlite3_file* r = real(f);
  std::memset(r, 0, static_cast<std::size_t>(inner->szOsFile));
  int rc = inner->xOpen(inner, name, r, flags, out_flags);
  // SQLite calls xClose only when pMethods is set: set it only when the real file is open.
  f->pMethods = r->pMethods ? &counting_methods : nullptr;
  return rc;
}

sqlite3_vfs make_vfs() {
  sqlite3_vfs* inner = sqlite3_vfs_find(nullptr);
  if (!inner) throw std::runtime_error("sqlite has no default VFS");
  sqlite3_vfs vfs = *inner;
  vfs.szOsFile = static_cast<int>(sizeof(counting_file)) + inner->szOsFile;
  vfs.zName = "parley-counting";
  vfs.pNext = nullptr;
  vfs.pAppData = inner;
  vfs.xOpen = x_open;
  return vfs;
}

}  // namespace

const char* counting_vfs_name() {
  static sqlite3_vfs vfs = make_vfs();
  static const int registered = sqlite3_vfs_register(&vfs, 0);
  if (registered != SQLITE_OK) throw std::runtime_error("cannot register the counting VFS");
  return vfs.zName;
}

std::uint64_t sync_count() {
  return syncs.load(std::memory_order_relaxed);
}

}  // namespace parley::store
